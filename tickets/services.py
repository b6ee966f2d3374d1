"""Every change to an order happens here: one function per transition, each in one transaction.

Pattern: lock the row, check, write, and leave side effects (emails) to transaction.on_commit.
Calls to Stripe happen outside transactions and before the local change they justify: a hold is
released only after its Checkout Session is expired, so a payment can't slip in between.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from events.models import Event
from tickets import emails, payments
from tickets.exceptions import PaymentError, PaymentMismatch, SalesClosed, SoldOut, TicketError
from tickets.models import Email, Order, OrderStatus, Ticket

logger = logging.getLogger(__name__)


def sales_problem(event: Event, *, now=None) -> str:
    """Why tickets can't be bought right now, or "" if they can."""
    now = now or timezone.now()
    if now < event.sales_open_at:
        opens = date_format(timezone.localtime(event.sales_open_at), r"l j F Y \a\t H:i")
        return f"Tickets go on sale on {opens}."
    if now >= event.sales_close_at or now >= event.ends_at:
        return "Ticket sales have closed."
    return ""


def seats_left(event: Event) -> int:
    return max(event.capacity - Order.objects.seats_taken(event), 0)


def reserve_tickets(
    *, event: Event, buyer_name: str, buyer_email: str, quantity: int, attendee_names: list[str] | None = None
) -> Order:
    """Create a pending order that holds `quantity` seats for the event's hold time.

    Raises SalesClosed or SoldOut. The event row is locked (PostgreSQL) or the database write-locked
    (SQLite, IMMEDIATE transactions) while seats are counted, so concurrent buyers can't oversell.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if problem := sales_problem(event):
            raise SalesClosed(problem)
        if not 1 <= quantity <= event.per_order_limit:
            raise SoldOut(f"You can reserve between 1 and {event.per_order_limit} tickets in one order.")
        left = seats_left(event)
        if left < quantity:
            raise SoldOut(
                f"Sorry, {event.name} is sold out."
                if left == 0
                else f"Sorry, only {left} ticket{'s' if left != 1 else ''} left. Please choose fewer."
            )
        order = Order.objects.create(
            event=event,
            buyer_name=buyer_name,
            buyer_email=buyer_email,
            quantity=quantity,
            unit_price_pence=event.ticket_price_pence,
            total_pence=event.ticket_price_pence * quantity,
            attendee_names=attendee_names or [],
            hold_expires_at=timezone.now() + timedelta(minutes=event.hold_minutes),
        )
    return order


def start_checkout(*, order: Order, success_url: str, cancel_url: str) -> str:
    """Create the order's Checkout Session and return the URL to send the buyer to.

    The URL is stored on the order too, so a buyer who leaves Checkout can be sent back to it while
    the hold lasts. If Stripe can't be reached, the hold is released at once and PaymentError says so.
    """
    try:
        session = payments.create_checkout_session(order, success_url=success_url, cancel_url=cancel_url)
    except PaymentError:
        _release(order.pk, OrderStatus.CANCELLED, note="Stripe unavailable when starting checkout")
        raise
    order.stripe_checkout_session_id, order.checkout_url = session.id, session.url or ""
    # Stripe may take the payment until the session expires, so the seats stay held until then too
    # (a few minutes past a 30-minute hold: Stripe's shortest session is 30 minutes from its creation).
    order.hold_expires_at = max(order.hold_expires_at, session.expires_at or order.hold_expires_at)
    Order.objects.filter(pk=order.pk).update(
        stripe_checkout_session_id=order.stripe_checkout_session_id,
        checkout_url=order.checkout_url,
        hold_expires_at=order.hold_expires_at,
    )
    return session.url


def fulfil_checkout(*, session_id: str) -> Order | None:
    """Make a paid Checkout Session a paid order, exactly once. Called by webhooks and the success page.

    Re-reads the session from Stripe (never trusts the caller), checks status, amount and currency,
    then moves the order to paid under a row lock. Safe to call any number of times, concurrently.
    A payment for an order whose hold was released is honoured if seats allow, else refunded.
    """
    order = Order.objects.filter(stripe_checkout_session_id=session_id).first()
    if order is None:
        logger.warning("Checkout Session %s matches no order", session_id)
        return None
    session = payments.retrieve_checkout_session(session_id)
    if session.status == "complete" and session.payment_status == "unpaid":
        # A delayed payment is on its way: keep holding, but only seats that are still held.
        Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING, hold_expires_at__gt=timezone.now()).update(
            is_awaiting_async_payment=True
        )
        return order
    if not session.is_paid:
        return order
    if session.amount_total != order.total_pence or (session.currency or "").lower() != "gbp":
        logger.error(
            "Refusing %s: Stripe reports %s %s, the order is %s gbp",
            order.reference,
            session.amount_total,
            session.currency,
            order.total_pence,
        )
        _give_back(order.pk, session, note="the payment does not match the order: refunded automatically")
        raise PaymentMismatch(f"Payment for {order.reference} does not match the order.")

    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status in (OrderStatus.PAID, OrderStatus.REFUNDED) or order.stripe_payment_intent_id:
            return order  # already done, by a retried webhook or a reload of the success page
        if not _has_seats(order):
            return _give_back(order.pk, session, note="paid after its hold ended, and sold out: refunded automatically")
        order.stripe_payment_intent_id = session.payment_intent_id
        order.transition_to(OrderStatus.PAID, note="Stripe reports the Checkout Session paid")
        order.paid_at = timezone.now()
        order.is_awaiting_async_payment = False
        order.save_transition("paid_at", "stripe_payment_intent_id", "is_awaiting_async_payment")
        Ticket.objects.bulk_create(Ticket(order=order, attendee_name=name) for name in order.names_for_tickets())
        _queue_email(order, Email.Kind.CONFIRMATION)
    return order


def _give_back(order_id: int, session: payments.CheckoutSession, *, note: str) -> Order:
    """A payment we can't honour: release the order if it still holds seats, and refund the payment after commit.

    robust: if Stripe is down then, the refund stays owed and release_expired_holds retries it.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.stripe_payment_intent_id or order.status in (OrderStatus.PAID, OrderStatus.REFUNDED):
            return order  # already handled
        order.stripe_payment_intent_id = session.payment_intent_id
        if order.status == OrderStatus.PENDING:
            order.transition_to(OrderStatus.CANCELLED, note=note)
            order.released_at = timezone.now()
            order.save_transition("stripe_payment_intent_id", "released_at")
        else:
            order.save(update_fields=["stripe_payment_intent_id", "updated_at"])
        transaction.on_commit(lambda: refund_unhonourable_payment(order_id=order.pk), robust=True)
    return order


def _has_seats(order: Order) -> bool:
    """Inside a transaction, with the order row locked: does it still hold its seats, or can it take them again?

    Locks the event row (always after the order row), so the hold can't end between this check and commit
    while a concurrent reserve_tickets, which locks the event row, counts seats.
    """
    event = Event.objects.select_for_update().get(pk=order.event_id)
    return order.is_holding_seats() or seats_left(event) >= order.quantity


def release_order(*, order: Order, status: str = OrderStatus.EXPIRED, note: str = "") -> Order:
    """Free a pending order's seats, after making sure Stripe can no longer take its payment.

    If Stripe says the session was paid in the meantime, the order is fulfilled instead.
    """
    if order.stripe_checkout_session_id:
        session = payments.expire_checkout_session(order.stripe_checkout_session_id)
        if session.is_paid:
            return fulfil_checkout(session_id=session.id) or order
        if session.status == "complete":  # a delayed payment (a bank debit): on its way, or failed?
            payment_status = payments.payment_intent_status(session.payment_intent_id)
            if payment_status == "succeeded":  # it cleared just now
                return fulfil_checkout(session_id=session.id) or order
            if payment_status not in ("requires_payment_method", "canceled"):
                return _await_delayed_payment(order.pk)  # still on its way: asked again on the next run
            note = "the delayed payment failed"
    return _release(order.pk, status, note=note)


def _await_delayed_payment(order_id: int) -> Order:
    """Keep a pending order's seats while its delayed payment is on its way, if it still has them.

    If its hold already ran out and the seats went to others, it stays pending without seats: when the
    payment succeeds, fulfil_checkout refunds it; when it fails, it is released.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.is_pending and not order.is_awaiting_async_payment and _has_seats(order):
            order.is_awaiting_async_payment = True
            order.save(update_fields=["is_awaiting_async_payment", "updated_at"])
    return order


def release_if_pending(*, session_id: str, note: str) -> Order | None:
    """For Stripe's expired / async-failed events: only ever moves a still-pending order."""
    order = Order.objects.filter(stripe_checkout_session_id=session_id).first()
    return _release(order.pk, OrderStatus.EXPIRED, note=note) if order else None


def _release(order_id: int, status: str, *, note: str) -> Order:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != OrderStatus.PENDING:
            return order
        order.transition_to(status, note=note)
        order.released_at = timezone.now()
        order.save_transition("released_at")
    return order


def release_expired_holds(*, now=None) -> int:
    """Release every pending order whose hold ran out. Safe to run every minute, and concurrently."""
    released = 0
    for order in Order.objects.expired_holds(now=now):
        try:
            if release_order(order=order, note="hold expired").status == OrderStatus.EXPIRED:
                released += 1
        except TicketError as exc:  # Stripe unreachable (the seats stay held; next run tries again), or refused
            logger.warning("Could not release %s yet: %s", order.reference, exc)
    return released


def refund_order(*, order_id: int, note: str = "refunded by an organiser") -> Order:
    """Refund a paid order in full through Stripe, free its seats and tell the buyer."""
    order = Order.objects.get(pk=order_id)
    if order.status != OrderStatus.PAID:
        return order
    return _refund(order, note=note)


def refund_unhonourable_payment(*, order_id: int) -> Order:
    """A payment arrived for a released order whose seats are gone: give the money back, and apologise."""
    order = Order.objects.get(pk=order_id)
    if order.status not in (OrderStatus.EXPIRED, OrderStatus.CANCELLED) or not order.stripe_payment_intent_id:
        return order
    return _refund(order, note="a payment we could not honour: refunded automatically")


def _refund(order: Order, *, note: str) -> Order:
    refund_id = payments.refund_payment(
        payment_intent_id=order.stripe_payment_intent_id,
        idempotency_key=f"refund-{order.reference}",
    )
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == OrderStatus.REFUNDED:
            return order
        _record_refund(order, refund_id, note=note)
    return order


def refund_owed_payments() -> int:
    """Retry automatic refunds that failed earlier (Stripe was unreachable)."""
    owed = Order.objects.filter(status__in=[OrderStatus.EXPIRED, OrderStatus.CANCELLED]).exclude(
        stripe_payment_intent_id=""
    )
    done = 0
    for order in owed:
        try:
            refund_unhonourable_payment(order_id=order.pk)
            done += 1
        except TicketError as exc:
            logger.warning("Refund for %s still owed: %s", order.reference, exc)
    return done


def record_stripe_refund(*, refund_id: str) -> Order | None:
    """A refund Stripe reports (ours, or one made in Stripe's dashboard): a paid order refunded in full
    becomes refunded, so its tickets stop working at the door. Partial refunds are only logged."""
    refund = payments.retrieve_refund(refund_id)
    order = (
        Order.objects.filter(stripe_payment_intent_id=refund.payment_intent_id).first()
        if refund.payment_intent_id
        else None
    )
    if order is not None and refund.status in payments.REFUND_FAILED and order.stripe_refund_id == refund.id:
        # We told the buyer it was refunded; Stripe now says the money couldn't go back. A person must act.
        logger.error(
            "Refund %s of %s %s at Stripe: refund the buyer another way", refund.id, order.reference, refund.status
        )
    if order is None or refund.status != "succeeded":
        return order
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            # the refund we owed for a payment we couldn't honour, made elsewhere (say, Stripe's dashboard)
            return _record_refund(order, refund.id)
        if order.status != OrderStatus.PAID:
            return order  # already refunded
        if refund.amount < order.total_pence:
            logger.warning(
                "Partial refund %s of %s for %s: the booking stays paid", refund.id, refund.amount, order.reference
            )
            return order
        return _record_refund(order, refund.id)


def _record_refund(order: Order, refund_id: str, *, note: str = "") -> Order:
    """Inside a transaction, with the order locked: it is refunded; tell the buyer."""
    order.transition_to(OrderStatus.REFUNDED, note=note or f"Stripe reports refund {refund_id}")
    order.stripe_refund_id, order.refunded_at = refund_id, timezone.now()
    order.save_transition("stripe_refund_id", "refunded_at")
    _queue_email(order, Email.Kind.REFUND)
    return order


def _queue_email(order: Order, kind: str) -> None:
    """Record the email we owe (once per order and kind) and send it after commit."""
    email, _ = Email.objects.get_or_create(order=order, kind=kind)
    transaction.on_commit(lambda: emails.send(email.pk), robust=True)
