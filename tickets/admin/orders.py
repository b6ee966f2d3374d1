"""The order list and page: search, filters, what happened to each order, and resending its confirmation.

Refunds (refunds.py) and the attendee export (exports.py) are mixed into OrderAdmin from their own modules.
"""

from django.contrib import admin, messages
from django.utils.translation import ngettext

from tickets import emails, reports
from tickets.admin.display import local_time
from tickets.admin.exports import AttendeeExport
from tickets.admin.refunds import OrderRefunds
from tickets.models import Email, Order, OrderLog, Refund, StripeEvent, Ticket
from tickets.templatetags.money import pounds


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TicketInline(ReadOnlyInline):
    model = Ticket
    fields = ["attendee_name", "ticket", "checked_in", "refunded"]
    readonly_fields = fields
    checked_in = local_time("checked_in_at", "Checked in")
    refunded = local_time("refunded_at", "Refunded (void)")

    @admin.display(description="Ticket")
    def ticket(self, ticket: Ticket) -> str:
        return ticket.short_reference  # what the attendee sees, and reads out at the door


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["when", "amount", "status", "made_by", "tickets_covered", "stripe_refund_id"]
    readonly_fields = fields
    when = local_time("created_at", "When")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("made_by").prefetch_related("tickets")

    @admin.display(description="Amount")
    def amount(self, refund: Refund) -> str:
        return pounds(refund.amount_pence)

    @admin.display(description="Made by")
    def made_by(self, refund: Refund) -> str:
        return refund.made_by_label

    @admin.display(description="Tickets")
    def tickets_covered(self, refund: Refund) -> str:
        return ", ".join(f"{t.attendee_name} ({t.short_reference})" for t in refund.tickets.all()) or "—"


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
        return [("unsent", "Not sent (failed or waiting)"), ("failed", "Failed (tried, not sent)")]

    def queryset(self, request, queryset):
        if self.value() == "unsent":
            return queryset.filter(emails__sent_at__isnull=True).distinct()
        if self.value() == "failed":  # the sales summary's "failed emails"
            return queryset.filter(pk__in=reports.failed_emails().values("order"))
        return queryset


EDITABLE_ORDER_FIELDS = ["buyer_name", "buyer_email"]  # everything else changes only through services

# Fields of the order page shown only when they say something about this order (the rest are always shown).
APPLIES_WHEN = {
    "hold_expires": lambda order: order.is_pending,  # a paid or released order holds nothing any more
    "paid": lambda order: order.paid_at is not None,
    "released": lambda order: order.is_released,  # not on an order paid after all (its log says it was released)
    "refunded": lambda order: order.refunded_at is not None,
    "refunded_amount": lambda order: order.refunds.exists(),
    "remaining_amount": lambda order: order.refunds.exists(),
    "awaiting_bank_payment": lambda order: order.is_awaiting_async_payment,
    "stripe_checkout_session_id": lambda order: bool(order.stripe_checkout_session_id),
    "stripe_payment_intent_id": lambda order: bool(order.stripe_payment_intent_id),
    "stripe_refund_id": lambda order: bool(order.stripe_refund_id),
}


@admin.register(Order)
class OrderAdmin(AttendeeExport, OrderRefunds, admin.ModelAdmin):
    list_display = ["reference", "buyer_name", "buyer_email", "quantity", "total", "status", "created", "paid"]
    list_filter = ["status", EmailProblemFilter, "event"]
    search_fields = ["reference", "buyer_name", "buyer_email", "tickets__attendee_name", "tickets__reference"]
    date_hierarchy = "created_at"
    inlines = [TicketInline, RefundInline, EmailInline, StripeEventInline, OrderLogInline]
    actions = ["refund", "resend_confirmation", "export_attendees"]
    fieldsets = [
        (None, {"fields": ["reference", "event", "status", "awaiting_bank_payment"]}),
        ("Buyer", {"fields": EDITABLE_ORDER_FIELDS}),
        ("Tickets and money", {"fields": ["quantity", "unit_price", "total", "refunded_amount", "remaining_amount"]}),
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
        "refunded_amount",
        "remaining_amount",
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
        """Only the fields that apply to this order (APPLIES_WHEN): no hold on a paid order, no refund figures
        before a refund, no empty Stripe ids; a heading left with no fields goes too."""
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            fields = [field for field in options["fields"] if obj is None or self._applies(field, obj)]
            if fields:
                fieldsets.append((name, {**options, "fields": fields}))
        return fieldsets

    @staticmethod
    def _applies(field: str, order: Order) -> bool:
        shown_when = APPLIES_WHEN.get(field)
        return shown_when is None or shown_when(order)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"sales_summary": reports.sales_summary(), **(extra_context or {})})

    @admin.display(description="Unit price", ordering="unit_price_pence")
    def unit_price(self, order: Order) -> str:
        return pounds(order.unit_price_pence)

    @admin.display(description="Total", ordering="total_pence")
    def total(self, order: Order) -> str:
        return pounds(order.total_pence)

    @admin.display(description="Refunded")
    def refunded_amount(self, order: Order) -> str:
        """Pence given back so far (every refund, whoever made it), in pounds."""
        return pounds(order.refunded_pence)

    @admin.display(description="Remaining")
    def remaining_amount(self, order: Order) -> str:
        """What the buyer paid that we keep: the total less refunds, in pounds (£0 if never paid)."""
        return pounds(order.remaining_pence)

    @admin.display(description="Awaiting a bank payment", boolean=True)
    def awaiting_bank_payment(self, order: Order) -> bool:
        return order.is_awaiting_async_payment

    @admin.action(description="Resend the confirmation email")
    def resend_confirmation(self, request, queryset) -> None:
        """Send each selected order's confirmation again, where one is owed (EmailQuerySet.owed decides), by the
        send_order_email task: the page answers at once, whatever the mail server is doing."""
        confirmations = Email.objects.filter(order__in=queryset, kind=Email.Kind.CONFIRMATION).owed()
        owed = {email.order_id: email for email in confirmations}
        for order in queryset:
            if order.pk not in owed:
                why = "not paid" if not order.is_paid else "none is on record"
                refusal = f"{order.reference} gets no confirmation: it is “{order.get_status_display()}”, {why}."
                self.message_user(request, refusal, messages.WARNING)
        for email in owed.values():
            emails.queue(email, again=True)
        if owed:
            queued = ngettext("%d confirmation is on its way", "%d confirmations are on their way", len(owed))
            self.message_user(request, f"{queued % len(owed)}: each order's Emails say when it has gone.")
