"""The door's check-in page: scan or type a ticket reference, see who it is and whether they may come in.

The rule (paid orders only, each ticket once, this event's tickets only) is tickets.checkin.check_in_ticket's;
this is its page. The door is the current event's (events.current), named at the top of the page, with the count
of tickets checked in so far. The page works with a typed code and no script at all; static/js/checkin.js adds
camera scanning where the browser can (BarcodeDetector) and keeps the count up to date from check-in/count/.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path

from events.current import current_event
from tickets import checkin

CHECK_IN_TONES = {
    checkin.Outcome.CHECKED_IN: "ok",
    checkin.Outcome.ALREADY_CHECKED_IN: "warning",
    checkin.Outcome.NOT_VALID: "error",
    checkin.Outcome.OTHER_EVENT: "error",
    checkin.Outcome.AMBIGUOUS: "error",
    checkin.Outcome.NOT_FOUND: "error",
}
# For the template to compare outcomes by name: it can't use the enum itself (templates call callables).
OUTCOMES = {outcome.name: outcome for outcome in checkin.Outcome}


class CheckInForm(forms.Form):
    reference = forms.CharField(
        label="Ticket reference",
        max_length=64,
        help_text="Scan the QR code, or type the code under it (like ABCD-EFGH).",
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "autocorrect": "off",
                "spellcheck": "false",
                "enterkeyhint": "go",
            }
        ),
        error_messages={"required": "Scan or type a ticket reference."},
    )


class TicketCheckIn:
    """The check-in page, mixed into the ticket admin (an admin.ModelAdmin) at its check-in/ URL."""

    def get_urls(self):
        check_in = self.admin_site.admin_view(self.check_in_view)
        count = self.admin_site.admin_view(self.check_in_count_view)
        return [
            path("check-in/", check_in, name="tickets_ticket_check_in"),
            path("check-in/count/", count, name="tickets_ticket_check_in_count"),
            *super().get_urls(),
        ]

    def check_in_count_view(self, request: HttpRequest) -> JsonResponse:
        """The door's count as JSON, for the page to refresh itself: {"checked_in": 12, "sold": 40, "text": ...}.
        Not cached (admin_view). 404 when no event is set up."""
        if not request.user.has_perm("tickets.check_in_ticket"):
            raise PermissionDenied
        event = current_event(request)
        if event is None:
            raise Http404("No event has been set up yet.")
        return JsonResponse(checkin.door_count(event=event).as_dict())

    def check_in_view(self, request: HttpRequest) -> TemplateResponse:
        """The door: scan or type a reference, see who it is and whether they may come in, and how many are in."""
        if not request.user.has_perm("tickets.check_in_ticket"):
            raise PermissionDenied
        result = None
        event = current_event(request)
        form = CheckInForm(request.POST or None)
        if request.method == "POST" and event is not None and form.is_valid():
            result = checkin.check_in_ticket(reference=form.cleaned_data["reference"], event=event)
            form = CheckInForm()  # empty and focused again, for the next person in the queue
            # read out with the field that now has focus, for door staff using a screen reader
            form.fields["reference"].widget.attrs["aria-describedby"] = "checkin-result id_reference_helptext"
        context = {
            **self.admin_site.each_context(request),
            "title": "Check in tickets",
            "event": event,
            "opts": self.opts,
            "form": form,
            "result": result,
            "Outcome": OUTCOMES,
            "tone": CHECK_IN_TONES[result.outcome] if result else "",
            "count": checkin.door_count(event=event) if event else None,  # after this check-in
            "can_view_tickets": self.has_view_permission(request),
            "is_nav_sidebar_enabled": False,  # one job on this page, and a phone's width for it
        }
        return TemplateResponse(request, "admin/tickets/ticket/check_in.html", context)
