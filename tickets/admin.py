import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import ngettext

from tickets import checkin, emails, reports, services
from tickets.exceptions import PaymentError
from tickets.models import Email, Order, OrderLog, OrderStatus, StripeEvent, Ticket
from tickets.templatetags.money import pounds

SHORT_TICKET_REFERENCE = re.compile(r"^\s*([A-Za-z0-9]{4})-([A-Za-z0-9]{4})\s*$")  # "ABCD-EFGH", as printed
ADMIN_TIME = "j M Y, H:i"  # "7 Jun 2025, 14:05": the en-GB locale would say "7:21 a.m."


def local_time(field: str, label: str):
    """An admin display method showing a datetime field in London time, 24-hour.

    Display methods rather than a formats module, because the locale's DATETIME_FORMAT can only be
    replaced through the FORMAT_MODULE_PATH setting.
    """

    @admin.display(description=label, ordering=field)
    def display(model_admin, obj) -> str:
        value = getattr(obj, field)
        if value is None:
            return model_admin.get_empty_value_display()
        return date_format(timezone.localtime(value), ADMIN_TIME)

    return display


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TicketInline(ReadOnlyInline):
    model = Ticket
    fields = ["attendee_name", "ticket", "checked_in"]
    readonly_fields = fields
    checked_in = local_time("checked_in_at", "Checked in")

    @admin.display(description="Ticket")
    def ticket(self, ticket: Ticket) -> str:
        return ticket.short_reference  # what the attendee sees, and reads out at the door


class EmailInline(ReadOnlyInline):
    model = Email
    fields = ["kind", "queued", "sent", "attempts", "last_error"]
    readonly_fields = fields
    queued = local_time("created_at", "Queued")
    sent = local_time("sent_at", "Sent")


class StripeEventInline(ReadOnlyInline):
    model = StripeEvent
    fields = ["received", "type", "stripe_event_id", "outcome"]
    readonly_fields = fields
    received = local_time("received_at", "Received")


class OrderLogInline(ReadOnlyInline):
    model = OrderLog
    fields = ["when", "from_status", "to_status", "note"]
    readonly_fields = fields
    when = local_time("at", "When")


class EmailProblemFilter(admin.SimpleListFilter):
    title = "email"
    parameter_name = "email"

    def lookups(self, request, model_admin):
        return [("unsent", "Not sent (failed or waiting)")]

    def queryset(self, request, queryset):
        if self.value() == "unsent":
            return queryset.filter(emails__sent_at__isnull=True).distinct()
        return queryset


EDITABLE_ORDER_FIELDS = ["buyer_name", "buyer_email"]  # everything else changes only through services


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["reference", "buyer_name", "buyer_email", "quantity", "total", "status", "created", "paid"]
    list_filter = ["status", EmailProblemFilter, "event"]
    search_fields = ["reference", "buyer_name", "buyer_email", "tickets__attendee_name", "tickets__reference"]
    date_hierarchy = "created_at"
    inlines = [TicketInline, EmailInline, StripeEventInline, OrderLogInline]
    actions = ["refund", "resend_confirmation", "export_attendees"]
    fieldsets = [
        (None, {"fields": ["reference", "event", "status"]}),
        ("Buyer", {"fields": EDITABLE_ORDER_FIELDS}),
        ("Tickets and money", {"fields": ["quantity", "unit_price", "total"]}),
        ("Times", {"fields": ["created", "hold_expires", "paid", "released", "refunded"]}),
        ("Stripe", {"fields": ["stripe_checkout_session_id", "stripe_payment_intent_id", "stripe_refund_id"]}),
    ]
    readonly_fields = [
        "reference",
        "event",
        "status",
        "awaiting_bank_payment",
        "quantity",
        "unit_price",
        "total",
        "created",
        "hold_expires",
        "paid",
        "released",
        "refunded",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "stripe_refund_id",
    ]
    created = local_time("created_at", "Created")
    hold_expires = local_time("hold_expires_at", "Hold expires")
    paid = local_time("paid_at", "Paid")
    released = local_time("released_at", "Released")
    refunded = local_time("refunded_at", "Refunded")

    def has_add_permission(self, request) -> bool:
        return False  # orders come from the reservation form, through Stripe

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # money was involved: refund instead

    def save_model(self, request, obj, form, change) -> None:
        """Write only the buyer's details: the rest of `obj` may be stale by now (a webhook may have paid it)."""
        obj.save(update_fields=[*EDITABLE_ORDER_FIELDS, "updated_at"])

    def get_fieldsets(self, request, obj=None):
        """Mention a bank payment on its way only when there is one."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.is_awaiting_async_payment:
            return fieldsets
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [*options["fields"], "awaiting_bank_payment"]}), *rest]

    def get_urls(self):
        export = self.admin_site.admin_view(self.attendees_csv_view)
        refund = self.admin_site.admin_view(self.refund_view)
        return [
            path("attendees.csv", export, name="tickets_order_attendees_csv"),
            path("<path:object_id>/refund/", refund, name="tickets_order_refund"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"sales_summary": reports.sales_summary(), **(extra_context or {})})

    def attendees_csv_view(self, request: HttpRequest) -> HttpResponse:
        """Every paid ticket, for a spreadsheet or a printed door list."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _attendees_csv(reports.paid_tickets())

    @admin.display(description="Unit price", ordering="unit_price_pence")
    def unit_price(self, order: Order) -> str:
        return pounds(order.unit_price_pence)

    @admin.display(description="Total", ordering="total_pence")
    def total(self, order: Order) -> str:
        return pounds(order.total_pence)

    @admin.display(description="Awaiting a bank payment", boolean=True)
    def awaiting_bank_payment(self, order: Order) -> bool:
        return order.is_awaiting_async_payment

    # --- refunds: always confirmed on a page that lists what will happen ---

    @admin.action(description="Refund selected paid orders (through Stripe, emails the buyer)", permissions=["change"])
    def refund(self, request, queryset) -> TemplateResponse | None:
        """First show what would be refunded; refund only when that page's form comes back with `confirm`."""
        orders = list(queryset.prefetch_related("tickets"))
        if request.POST.get("confirm") == "yes" or not any(order.is_paid for order in orders):
            self._refund_orders(request, orders)  # nothing paid: nothing to confirm, just say why
            return None
        return self._refund_confirmation(request, orders, cancel_url=request.get_full_path())

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One order's refund, from its change page: GET asks, POST refunds."""
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("No such order.")
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        change_url = reverse("admin:tickets_order_change", args=[order.pk], current_app=self.admin_site.name)
        if request.method == "POST" or not order.is_paid:
            self._refund_orders(request, [order])
            return HttpResponseRedirect(change_url)
        return self._refund_confirmation(request, [order], cancel_url=change_url, order=order)

    def _refund_confirmation(
        self, request: HttpRequest, orders: list[Order], *, cancel_url: str, order: Order | None = None
    ) -> TemplateResponse:
        refundable = [o for o in orders if o.is_paid]
        title = (
            f"Refund order {order.reference}?"
            if order
            else ngettext("Refund %d order?", "Refund %d orders?", len(refundable)) % len(refundable)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "order": order,  # None when the refund action was chosen in the list
            "orders": orders,
            "refundable": refundable,
            "not_refundable": [o for o in orders if not o.is_paid],
            "total_pence": sum(o.total_pence for o in refundable),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tickets/order/refund_confirmation.html", context)

    def _refund_orders(self, request: HttpRequest, orders: list[Order]) -> None:
        done = 0
        for order in orders:
            if not order.is_paid:
                refusal = _not_paid(order, "is not refunded") + ", and only paid orders can be refunded."
                self.message_user(request, refusal, messages.WARNING)
                continue
            try:
                if services.refund_order(order_id=order.pk).status == OrderStatus.REFUNDED:
                    done += 1
            except PaymentError as exc:
                self.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
        summary = ngettext("%d order refunded.", "%d orders refunded.", done) % done
        self.message_user(request, summary, messages.SUCCESS if done else messages.WARNING)

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
    list_display = ["attendee_name", "short_reference", "order", "order_status", "checked_in"]
    list_select_related = ["order"]
    search_fields = ["attendee_name", "reference", "order__reference", "order__buyer_email", "order__buyer_name"]
    list_filter = ["order__status"]
    fields = ["attendee_name", "order", "order_status", "short_reference", "reference", "checked_in"]
    readonly_fields = ["order", "order_status", "short_reference", "reference", "checked_in"]
    checked_in = local_time("checked_in_at", "Checked in")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a ticket is part of an order that was paid for: refund the order instead

    @admin.display(description="Order status", ordering="order__status")
    def order_status(self, ticket: Ticket) -> str:
        order = ticket.order
        return format_html(
            '<span class="order-status order-status--{}">{}</span>', order.status, order.get_status_display()
        )

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
    list_display = ["received", "type", "stripe_event_id", "order", "outcome"]
    list_select_related = ["order"]
    list_filter = ["type"]
    search_fields = ["stripe_event_id", "stripe_checkout_session_id", "order__reference"]
    fields = ["received", "type", "stripe_event_id", "stripe_checkout_session_id", "order", "outcome"]
    readonly_fields = fields
    received = local_time("received_at", "Received")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
