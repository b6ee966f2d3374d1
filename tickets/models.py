import hmac
import secrets
from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import models
from django.db.models import Count, F, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from tickets.exceptions import InvalidTransition

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read out at the door


def new_order_reference() -> str:
    """A short, readable order reference ("NR-" and 6 characters): said on the phone, not a secret."""
    return "NR-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def new_ticket_reference() -> str:
    """A ticket's unguessable reference (130 bits), encoded in its QR code."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(26))  # 26 * 5 bits = 130 bits


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Awaiting payment"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    REFUNDED = "refunded", "Refunded"


# A released order (cancelled or expired) may still be paid if Stripe took the money before the release
# reached it: then it becomes paid when seats allow, or refunded when they don't.
NEXT_STATUSES = {
    OrderStatus.PENDING: {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED},
    OrderStatus.CANCELLED: {OrderStatus.PAID, OrderStatus.REFUNDED},
    OrderStatus.EXPIRED: {OrderStatus.PAID, OrderStatus.REFUNDED},
    OrderStatus.PAID: {OrderStatus.REFUNDED},
    OrderStatus.REFUNDED: set(),
}


def held_seats_q(now: datetime, *, prefix: str = "") -> Q:
    """The one rule for which unpaid orders hold seats: pending orders whose hold has not run out, or whose
    delayed payment (a bank debit) is on its way. Paid orders hold theirs too (OrderQuerySet.holding_seats).

    `now` is timezone-aware; `prefix` reaches orders from another model, e.g. "orders__" from Event.
    """
    pending = Q(**{f"{prefix}status": OrderStatus.PENDING})
    return pending & (Q(**{f"{prefix}hold_expires_at__gt": now}) | Q(**{f"{prefix}is_awaiting_async_payment": True}))


class OrderQuerySet(models.QuerySet["Order"]):
    def holding_seats(self, *, now: datetime | None = None) -> "OrderQuerySet":
        """Orders whose seats count against capacity: paid ones, and unpaid ones that hold seats (held_seats_q)."""
        return self.filter(Q(status=OrderStatus.PAID) | held_seats_q(now or timezone.now()))

    def awaiting_checkout(self, *, now: datetime | None = None) -> "OrderQuerySet":
        """Unpaid orders that hold seats and whose payment has not started: the buyer may still pay or cancel."""
        return self.filter(held_seats_q(now or timezone.now()), is_awaiting_async_payment=False)

    def owing_refunds(self) -> "OrderQuerySet":
        """Released orders (cancelled or expired) that Stripe took a payment for: we owe the buyer that refund."""
        return self.filter(status__in=[OrderStatus.CANCELLED, OrderStatus.EXPIRED]).exclude(stripe_payment_intent_id="")

    def seats_taken(self, event) -> int:
        """Seats of `event` (an events.Event) that paid orders and live holds take: their quantities, less the
        seats refunds returned to sale (TicketQuerySet.returned_seats). One query; locks nothing."""
        returned = (
            Ticket.objects.filter(order__event=event)
            .returned_seats()
            .order_by()
            .values("order__event")
            .annotate(n=Count("pk"))
            .values("n")
        )
        taken = Coalesce(Sum("quantity"), 0) - Coalesce(Subquery(returned), 0)
        return self.filter(event=event).holding_seats().aggregate(n=taken)["n"] or 0

    def expired_holds(self, *, now: datetime | None = None) -> "OrderQuerySet":
        """Pending orders past their hold, including delayed payments still on their way (asked again each run)."""
        return self.filter(status=OrderStatus.PENDING, hold_expires_at__lte=now or timezone.now())


class Order(models.Model):
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="orders")
    reference = models.CharField(max_length=12, unique=True, default=new_order_reference, editable=False)
    secret = models.CharField(max_length=43, default=partial(secrets.token_urlsafe, 32), editable=False)
    buyer_name = models.CharField(max_length=100)
    buyer_email = models.EmailField(max_length=254)
    quantity = models.PositiveSmallIntegerField()
    unit_price_pence = models.PositiveIntegerField()
    total_pence = models.PositiveIntegerField()
    attendee_names = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    hold_expires_at = models.DateTimeField()
    is_awaiting_async_payment = models.BooleanField(default=False)
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True, default="")
    checkout_url = models.URLField(max_length=2048, blank=True, default="")  # to send the buyer back to pay
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, default="")
    stripe_refund_id = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    # Who booked, for the limit on unpaid bookings per client (services.reserve_tickets): a keyed hash of the
    # client's address (services.client_hash), never the address itself. "" when the address was unknown.
    client_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # The reservation form's one-time token: the same form submitted twice finds this order instead of a second.
    form_token = models.CharField(max_length=43, blank=True, default="", editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1, quantity__lte=100), name="order_quantity_1_to_100"),
            models.CheckConstraint(
                condition=Q(total_pence=F("unit_price_pence") * F("quantity")), name="order_total_is_price_times_qty"
            ),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_known"),
            models.CheckConstraint(
                condition=~Q(status=OrderStatus.PAID) | Q(paid_at__isnull=False), name="order_paid_has_paid_at"
            ),
            models.UniqueConstraint(
                fields=["stripe_checkout_session_id"],
                condition=~Q(stripe_checkout_session_id=""),
                name="order_unique_checkout_session",
            ),
            models.UniqueConstraint(fields=["form_token"], condition=~Q(form_token=""), name="order_unique_form_token"),
            # A released, paid or refunded order awaits no bank payment (services._release and fulfilment clear it).
            models.CheckConstraint(
                condition=Q(is_awaiting_async_payment=False) | Q(status=OrderStatus.PENDING),
                name="order_only_pending_awaits_payment",
            ),
        ]
        indexes = [models.Index(fields=["event", "status", "hold_expires_at"]), models.Index(fields=["buyer_email"])]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        """The private booking page (it carries the secret)."""
        return reverse("tickets:order-detail", args=[self.reference, self.secret])

    def get_cancel_url(self) -> str:
        """Where Stripe Checkout's Cancel sends the buyer (it carries the secret)."""
        return reverse("tickets:checkout-cancel", args=[self.reference, self.secret])

    def secret_matches(self, candidate: str) -> bool:
        """Whether `candidate` is this order's secret, compared in constant time."""
        return hmac.compare_digest(self.secret.encode(), candidate.encode())

    def transition_to(self, status: str, *, note: str = "") -> None:
        """Change status in memory if NEXT_STATUSES allows the move, and prepare its log row; the caller saves both
        (save_transition). Raises InvalidTransition otherwise, changing nothing."""
        if status not in NEXT_STATUSES[OrderStatus(self.status)]:
            raise InvalidTransition(f"Order {self.reference} cannot go from {self.status} to {status}.")
        self._pending_log = OrderLog(order=self, from_status=self.status, to_status=status, note=note)
        self.status = status

    def save_transition(self, *fields: str) -> None:
        """Save the status set by transition_to (with `fields`, other changed columns) and its log row.

        Call inside the transaction that locked the order row.
        """
        self.save(update_fields=["status", "updated_at", *fields])
        self._pending_log.save()

    @property
    def is_free(self) -> bool:
        """Costs nothing (a free event): confirmed at once, without Stripe (services.confirm_free_order)."""
        return self.total_pence == 0

    @property
    def is_paid(self) -> bool:
        """Paid: its tickets are valid at the door."""
        return self.status == OrderStatus.PAID

    @property
    def is_pending(self) -> bool:
        """Awaiting payment (it may or may not still hold seats: see held_seats_q)."""
        return self.status == OrderStatus.PENDING

    @property
    def is_refunded(self) -> bool:
        """Refunded in full: its tickets no longer work."""
        return self.status == OrderStatus.REFUNDED

    @property
    def is_cancelled(self) -> bool:
        """Released before payment by the buyer, or because Stripe could not be reached."""
        return self.status == OrderStatus.CANCELLED

    @property
    def is_released(self) -> bool:
        """Cancelled or expired: its seats went back on sale."""
        return self.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)

    @property
    def is_refundable(self) -> bool:
        """The one rule for organisers' refunds: only a paid order can be refunded (some or all of its tickets,
        through Stripe; Order.refundable_tickets says which are left).

        Released orders whose late payment we could not honour are refunded automatically, not by this rule.
        """
        return self.status == OrderStatus.PAID

    @property
    def refunded_pence(self) -> int:
        """Pence given back to the buyer so far (RefundQuerySet.money_back: succeeded or on its way). One query."""
        return self.refunds.money_back().aggregate(n=Sum("amount_pence"))["n"] or 0

    @property
    def remaining_pence(self) -> int:
        """Pence of the payment we keep: the total less refunds (0 for an order never paid). One query."""
        return max(self.total_pence - self.refunded_pence, 0) if self.stripe_payment_intent_id else 0

    def refundable_tickets(self) -> "TicketQuerySet":
        """Tickets no refund covers or is asking Stripe for: the ones an organiser may still refund."""
        return self.tickets.filter(refund__isnull=True)

    def refund_amount_for(self, tickets: int) -> int:
        """The one rule for what refunding `tickets` of this order costs (pence): the unit price each, but never
        more than is left once refunds made, on their way or asked for are taken off the total. One query."""
        asked = self.refunds.exclude(status=RefundStatus.FAILED).aggregate(n=Sum("amount_pence"))["n"] or 0
        return max(min(self.unit_price_pence * tickets, self.total_pence - asked), 0)

    @property
    def has_payment_in_hand(self) -> bool:
        """Stripe's payment for this order has been dealt with: it paid the order, was refunded, or is being
        given back (a late payment we could not honour). Fulfilling the order again must change nothing."""
        return self.status in (OrderStatus.PAID, OrderStatus.REFUNDED) or bool(self.stripe_payment_intent_id)

    def names_for_tickets(self) -> list[str]:
        """One attendee name per ticket, in order: the names given, else the buyer's."""
        names = [name.strip() for name in self.attendee_names[: self.quantity]]
        names += [""] * (self.quantity - len(names))
        return [name or self.buyer_name for name in names]


class OrderLog(models.Model):
    """One row per status change of an order: who can say what happened, and when."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="log")
    from_status = models.CharField(max_length=10, choices=OrderStatus.choices)
    to_status = models.CharField(max_length=10, choices=OrderStatus.choices)
    note = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.order}: {self.from_status} → {self.to_status}"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Asked of Stripe, no answer yet"
    PENDING = "pending", "On its way (Stripe)"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed at Stripe"


# Stripe's refund statuses, as ours. requires_action waits on the buyer's bank: the money is not back yet, but is
# meant to be, as with pending.
STRIPE_REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}
MONEY_BACK = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)  # counted as refunded


class RefundSource(models.TextChoices):
    ORGANISER = "organiser", "An organiser"
    DASHBOARD = "dashboard", "Stripe dashboard"
    AUTOMATIC = "automatic", "Automatic"
    EARLIER = "earlier", "Before refunds were itemised"


class RefundQuerySet(models.QuerySet["Refund"]):
    def money_back(self) -> "RefundQuerySet":
        """The one rule for refunded money: refunds Stripe made or has on their way (not asked-only or failed)."""
        return self.filter(status__in=MONEY_BACK)

    def unanswered(self) -> "RefundQuerySet":
        """Refunds requested whose outcome Stripe has not told us yet (being asked, or it timed out): asked again
        with the same key (tickets.services.process_refund)."""
        return self.filter(status=RefundStatus.REQUESTED)


class Refund(models.Model):
    """Money given back on an order, by whoever made it: one row per Stripe refund (partial ones too).

    Written only by tickets.services, with the order row locked. `tickets` (Ticket.refund) are the seats it
    pays back; a refund made in Stripe's dashboard covers none until the order's refunds reach its total.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount_pence = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    source = models.CharField(max_length=10, choices=RefundSource.choices)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stripe_refund_id = models.CharField(max_length=255, blank=True, default="")
    idempotency_key = models.CharField(max_length=100, blank=True, default="")  # ours; blank when made elsewhere
    # How often Stripe was asked (tickets.services.process_refund, a task) and what went wrong last, for organisers.
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RefundQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gte=1), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=RefundStatus.values), name="refund_status_known"),
            models.UniqueConstraint(
                fields=["stripe_refund_id"], condition=~Q(stripe_refund_id=""), name="refund_unique_stripe_refund"
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"], condition=~Q(idempotency_key=""), name="refund_unique_idempotency_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_refund_id or 'refund'} of {self.amount_pence}p on {self.order_id}"

    @property
    def made_by_label(self) -> str:
        """Who made it: the organiser's username, or where it came from ("Stripe dashboard", "Automatic")."""
        return self.made_by.get_username() if self.made_by else self.get_source_display()


class TicketQuerySet(models.QuerySet["Ticket"]):
    def void(self) -> "TicketQuerySet":
        """Refunded tickets: they don't check in, and their seats are back on sale."""
        return self.filter(refunded_at__isnull=False)

    def valid(self) -> "TicketQuerySet":
        return self.filter(refunded_at__isnull=True)

    def returned_seats(self) -> "TicketQuerySet":
        """The one rule for seats a refund gave back while the order stays paid: void tickets of paid orders.
        (A refunded order holds no seats at all.) seats_taken and the sales summary both subtract these."""
        return self.void().filter(order__status=OrderStatus.PAID)


class Ticket(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tickets")
    reference = models.CharField(max_length=26, unique=True, default=new_ticket_reference, editable=False)
    attendee_name = models.CharField(max_length=100)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    # The refund asked for or made for this ticket, and when the money went back (then the ticket is void).
    refund = models.ForeignKey(Refund, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    refunded_at = models.DateTimeField(null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        permissions = [("check_in_ticket", "Can check in tickets at the door")]

    def __str__(self) -> str:
        return f"{self.attendee_name} ({self.order.reference})"

    @property
    def is_void(self) -> bool:
        """Refunded: it no longer checks in."""
        return self.refunded_at is not None

    @property
    def short_reference(self) -> str:
        """The first eight characters as "ABCD-EFGH": printed under the QR code, typed at the door."""
        return f"{self.reference[:4]}-{self.reference[4:8]}"


class StripeEvent(models.Model):
    """Every webhook event that passed signature checks, and what we did with it."""

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="stripe_events")
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}"


class EmailQuerySet(models.QuerySet["Email"]):
    def owed(self) -> "EmailQuerySet":
        """The one rule for order emails: a confirmation is owed only while its order is paid (a refunded
        order's confirmation would send dead tickets); a refund notice is always owed."""
        return self.filter(~Q(kind=Email.Kind.CONFIRMATION) | Q(order__status=OrderStatus.PAID))

    def not_owed(self) -> "EmailQuerySet":
        """Emails that `owed` leaves out."""
        return self.exclude(pk__in=self.owed().values("pk"))


class Email(models.Model):
    """An email we owe a buyer. Sent after commit; a failed send is kept, shown to organisers and retried."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Order confirmation"
        REFUND = "refund", "Refund notice"
        PARTIAL_REFUND = "partial-refund", "Partial refund notice"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # A partial refund's notice is about that refund: one per refund, any number per order.
    refund = models.ForeignKey("Refund", on_delete=models.CASCADE, null=True, blank=True, related_name="emails")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set by the one process sending it right now (tickets.emails.send), so that two never send it twice.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    objects = EmailQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"], condition=Q(refund__isnull=True), name="email_once_per_order_and_kind"
            ),
            models.UniqueConstraint(fields=["refund"], condition=Q(refund__isnull=False), name="email_once_per_refund"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.order}"

    @property
    def is_owed(self) -> bool:
        """EmailQuerySet.owed, for this email (one query)."""
        return Email.objects.filter(pk=self.pk).owed().exists()
