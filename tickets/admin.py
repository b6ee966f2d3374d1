import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import ngettext

from tickets import checkin, emails, reports, services
from tickets.exceptions import PaymentError
from tickets.models import Email, Order, OrderLog, OrderStatus, StripeEvent, Ticket
from tickets.templatetags.money import pounds

SHORT_TICKET_REFERENCE = re.compile(r"^\s*([A-Za-z0-9]{4})-([A-Za-z0-9]{4})\s*$")  # "ABCD-EFGH", as printed


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TicketInline(ReadOnlyInline):
    model = Ticket
    fields = ["attendee_name", "reference", "checked_in_at"]
    readonly_fields = fields


class EmailInline(ReadOnlyInline):
    model = Email
    fields = ["kind", "created_at", "sent_at", "attempts", "last_error"]
    readonly_fields = fields


class StripeEventInline(ReadOnlyInline):
    model = StripeEvent
    fields = ["received_at", "type", "stripe_event_id", "outcome"]
    readonly_fields = fields


class OrderLogInline(ReadOnlyInline):
    model = OrderLog
    fields = ["at", "from_status", "to_status", "note"]
    readonly_fields = fields


class EmailProblemFilter(admin.SimpleListFilter):
    title = "email"
    parameter_name = "email"

    def lookups(self, request, model_admin):
        return [("unsent", "Not sent (failed or waiting)")]

    def queryset(self, request, queryset):
        if self.value() == "unsent":
            return queryset.filter(emails__sent_at__isnull=True).distinct()
        return queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["reference", "buyer_name", "buyer_email", "quantity", "total", "status", "created_at", "paid_at"]
    list_filter = ["status", EmailProblemFilter, "event"]
    search_fields = ["reference", "buyer_name", "buyer_email", "tickets__attendee_name", "tickets__reference"]
    date_hierarchy = "created_at"
    inlines = [TicketInline, EmailInline, StripeEventInline, OrderLogInline]
    actions = ["refund", "resend_confirmation", "export_attendees"]
    fields = [
        "reference",
        "event",
        "status",
        "buyer_name",
        "buyer_email",
        "quantity",
        "unit_price_pence",
        "total_pence",
        "hold_expires_at",
        "is_awaiting_async_payment",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "stripe_refund_id",
        "created_at",
        "paid_at",
        "released_at",
        "refunded_at",
    ]
    readonly_fields = [field for field in fields if field not in {"buyer_name", "buyer_email"}]

    def has_add_permission(self, request) -> bool:
        return False  # orders come from the reservation form, through Stripe

    def get_urls(self):
        export = self.admin_site.admin_view(self.attendees_csv_view)
        return [path("attendees.csv", export, name="tickets_order_attendees_csv"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"sales_summary": reports.sales_summary(), **(extra_context or {})})

    def attendees_csv_view(self, request: HttpRequest) -> HttpResponse:
        """Every paid ticket, for a spreadsheet or a printed door list."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _attendees_csv(reports.paid_tickets())

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # money was involved: refund instead

    @admin.display(description="Total", ordering="total_pence")
    def total(self, order: Order) -> str:
        return pounds(order.total_pence)

    @admin.action(description="Refund selected paid orders (through Stripe, emails the buyer)")
    def refund(self, request, queryset) -> None:
        done = 0
        for order in queryset:
            if order.status != OrderStatus.PAID:
                refusal = _not_paid(order, "is not refunded") + ", and only paid orders can be refunded."
                self.message_user(request, refusal, messages.WARNING)
                continue
            try:
                if services.refund_order(order_id=order.pk).status == OrderStatus.REFUNDED:
                    done += 1
            except PaymentError as exc:
                self.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
        self.message_user(request, ngettext("%d order refunded.", "%d orders refunded.", done) % done)

    @admin.action(description="Resend the confirmation email")
    def resend_confirmation(self, request, queryset) -> None:
        for order in queryset.exclude(status=OrderStatus.PAID):
            self.message_user(request, _not_paid(order, "gets no confirmation") + ", not paid.", messages.WARNING)
        sent = failed = 0
        paid = queryset.filter(status=OrderStatus.PAID)
        for email in Email.objects.filter(order__in=paid, kind=Email.Kind.CONFIRMATION):
            if emails.send(email.pk, again=True):
                sent += 1
            else:
                failed += 1
        self.message_user(request, f"{sent} sent, {failed} failed (see each order's emails).")

    @admin.action(description="Export attendees of the selected paid orders (CSV)")
    def export_attendees(self, request, queryset) -> HttpResponse:
        return _attendees_csv(reports.paid_tickets(queryset))


def _not_paid(order: Order, what: str) -> str:
    return f"{order.reference} {what}: it is “{order.get_status_display()}”"


def _attendees_csv(tickets) -> HttpResponse:
    today = timezone.localdate(timezone=reports.LONDON)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendees-{today:%Y-%m-%d}.csv"'
    response["Cache-Control"] = "private, no-store"  # buyers' names and emails
    response.write("\ufeff")  # a byte-order mark, so that Excel reads names like "Siân" as UTF-8
    reports.write_attendees_csv(response, tickets)
    return response


CHECK_IN_TONES = {
    checkin.Outcome.CHECKED_IN: "ok",
    checkin.Outcome.ALREADY_CHECKED_IN: "warning",
    checkin.Outcome.NOT_VALID: "error",
    checkin.Outcome.AMBIGUOUS: "error",
    checkin.Outcome.NOT_FOUND: "error",
}


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


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["attendee_name", "short_reference", "order", "checked_in_at"]
    list_select_related = ["order"]
    search_fields = ["attendee_name", "reference", "order__reference", "order__buyer_email", "order__buyer_name"]
    list_filter = ["order__status"]
    readonly_fields = ["order", "reference", "checked_in_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        check_in = self.admin_site.admin_view(self.check_in_view)
        return [path("check-in/", check_in, name="tickets_ticket_check_in"), *super().get_urls()]

    def check_in_view(self, request: HttpRequest) -> TemplateResponse:
        """The door: scan or type a reference, see who it is and whether they may come in."""
        if not request.user.has_perm("tickets.check_in_ticket"):
            raise PermissionDenied
        result = None
        form = CheckInForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            result = checkin.check_in_ticket(reference=form.cleaned_data["reference"])
            form = CheckInForm()  # empty and focused again, for the next person in the queue
            # read out with the field that now has focus, for door staff using a screen reader
            form.fields["reference"].widget.attrs["aria-describedby"] = "checkin-result id_reference_helptext"
        context = {
            **self.admin_site.each_context(request),
            "title": "Check in tickets",
            "opts": self.opts,
            "form": form,
            "result": result,
            "tone": CHECK_IN_TONES[result.outcome] if result else "",
            "can_view_tickets": self.has_view_permission(request),
            "is_nav_sidebar_enabled": False,  # one job on this page, and a phone's width for it
        }
        return TemplateResponse(request, "admin/tickets/ticket/check_in.html", context)

    def get_search_results(self, request, queryset, search_term):
        """Also find a ticket by the short reference its holder sees in the email and on the booking page."""
        if match := SHORT_TICKET_REFERENCE.match(search_term):
            return queryset.filter(reference__startswith="".join(match.groups()).upper()), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "stripe_event_id", "order", "outcome"]
    list_filter = ["type"]
    search_fields = ["stripe_event_id", "stripe_checkout_session_id", "order__reference"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
