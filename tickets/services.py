"""Every change to an order happens here: one function per transition, each in one transaction.

Pattern: lock the row, check, write, and leave side effects (emails) to transaction.on_commit.
Calls to Stripe happen outside transactions and before the local change they justify: a hold is
released only after its Checkout Session is expired, so a payment can't slip in between.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from events.models import Event
from tickets import emails, payments
from tickets.exceptions import NotRefundable, PaymentError, PaymentMismatch, SalesClosed, SoldOut, TicketError
from tickets.models import Email, Order, OrderStatus, Ticket

logger = logging.getLogger(__name__)


def sales_problem(event: Event, *, now: datetime | None = None) -> str:
    """Why tickets for `event` can't be bought at `now` (default: now), as a sentence for the buyer; "" if they can.

    Reads only the event's sales window and end; no query, no lock.
    """
    now = now or timezone.now()
    if now < event.sales_open_at:
        opens = date_format(timezone.localtime(event.sales_open_at), r"l j F Y \a\t H:i")
        return f"Tickets go on sale on {opens}."
    if now >= event.sales_close_at or now >= event.ends_at:
        return "Ticket sales have closed."
    return ""


def seats_left(event: Event) -> int:
    """Seats of the event still for sale: capacity less paid orders and live holds, never below 0.

    One query. Locks nothing: to act on the answer, lock the event row first (as reserve_tickets does).
    """
    return max(event.capacity - Order.objects.seats_taken(event), 0)


def hold_ends_at(event: Event, *, now: datetime) -> datetime:
    """The one rule for a hold's length: when a hold made at `now` ends, and its Checkout Session with it.

    The event's hold time (Event.hold_minutes), but never before Stripe lets a Checkout Session expire
    (payments.MIN_SESSION_LIFETIME), so the seats are held for as long as Stripe may take the payment.
    """
    return now + max(timedelta(minutes=event.hold_minutes), payments.MIN_SESSION_LIFETIME)


def reserve_tickets(
    *, event: Event, buyer_name: str, buyer_email: str, quantity: int, attendee_names: list[str] | None = None
) -> Order:
    """Create a pending order that holds `quantity` seats until hold_ends_at, at the event's price (pence).

    `attendee_names` are the names printed on the tickets (missing ones default to the buyer).
    Returns the new pending order. Raises SalesClosed outside the sales window, SoldOut for a quantity
    outside 1..Event.per_order_limit or more than seats_left. In one transaction, the event row is
    locked (PostgreSQL) or the database write-locked (SQLite, IMMEDIATE transactions) while seats are
    counted, so concurrent buyers can't oversell. No call to Stripe: start_checkout follows.
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
            hold_expires_at=hold_ends_at(event, now=timezone.now()),
        )
    return order


def start_checkout(*, order: Order) -> str:
    """Create the order's Checkout Session (it expires when the hold ends); returns the URL to send the buyer to.

    Calls Stripe (idempotent per order), then stores the session's id and URL on the order, so a buyer
    who leaves Checkout can be sent back to it while the hold lasts. Raises PaymentError if Stripe can't
    be reached or refuses: the order is then cancelled at once, freeing its seats.
    """
    try:
        session = payments.create_checkout_session(
            order,
            success_url=emails.absolute(reverse("tickets:checkout-success")),
            cancel_url=emails.absolute(order.get_cancel_url()),
        )
    except PaymentError:
        _release(order.pk, OrderStatus.CANCELLED, note="Stripe unavailable when starting checkout")
        raise
    order.stripe_checkout_session_id, order.checkout_url = session.id, session.url or ""
    Order.objects.filter(pk=order.pk).update(
        stripe_checkout_session_id=order.stripe_checkout_session_id, checkout_url=order.checkout_url
    )
    return session.url


def fulfil_checkout(*, session_id: str) -> Order | None:
    """Make a paid Checkout Session a paid order, exactly once. Called by webhooks and the success page.

    Re-reads the session `session_id` from Stripe (never trusts the caller), checks status, amount
    (pence) and currency, then, locking the order row and then the event row, moves the order to paid,
    creates its tickets and queues the confirmation email (sent after commit). Safe to call any number
    of times, concurrently: an order whose payment is already in hand (Order.has_payment_in_hand) is
    returned unchanged. A payment for an order whose hold was released is honoured if seats allow,
    else refunded after commit. A delayed payment (bank debit) on its way keeps the seats held.
    Returns the order, or None if no order has this session. Raises PaymentError if Stripe can't be
    read, PaymentMismatch (after refunding it) if the payment doesn't match the order.
    """
    order = Order.objects.filter(stripe_checkout_session_id=session_id).first()
    if order is None:
        logger.warning("Checkout Session %s matches no order", session_id)
        return None
    session = payments.retrieve_checkout_session(session_id)
    if session.status == "complete" and session.payment_status == "unpaid":
        # A delayed payment is on its way: keep holding, but only seats that are still held.
        Order.objects.filter(pk=order.pk).awaiting_checkout().update(is_awaiting_async_payment=True)
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
        if order.has_payment_in_hand:
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
        if order.has_payment_in_hand:
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
    while a concurrent reserve_tickets, which locks the event row, counts seats. Raises RuntimeError
    outside a transaction, where the lock would end at once.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("_has_seats locks the event row: call it inside transaction.atomic().")
    event = Event.objects.select_for_update().get(pk=order.event_id)
    return Order.objects.filter(pk=order.pk).holding_seats().exists() or seats_left(event) >= order.quantity


def release_order(*, order: Order, status: str = OrderStatus.EXPIRED, note: str = "") -> Order:
    """Free a pending order's seats, after making sure Stripe can no longer take its payment.

    `status` is the released status (EXPIRED or CANCELLED); `note` goes to the order's log. Expires the
    Checkout Session at Stripe first. If Stripe says it was paid in the meantime, the order is fulfilled
    instead (fulfil_checkout); if a delayed payment is on its way, the seats stay held. Returns the
    order as it now is; an order that is no longer pending is left as it is. Raises PaymentError if
    Stripe can't be reached (nothing changes), PaymentMismatch as fulfil_checkout does.
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
    """For Stripe's expired / async-failed events: expire the session's order if it is still pending.

    Returns the order (unchanged unless it was pending), or None if no order has this session.
    Locks the order row; makes no call to Stripe.
    """
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


def release_expired_holds(*, now: datetime | None = None) -> int:
    """Release every pending order whose hold ran out by `now` (release_order, one order at a time).

    Returns how many orders expired. Safe to run every minute, and concurrently: each order is locked
    while it changes. An order Stripe can't be asked about now is logged and left for the next run.
    """
    released = 0
    for order in Order.objects.expired_holds(now=now):
        try:
            if release_order(order=order, note="hold expired").status == OrderStatus.EXPIRED:
                released += 1
        except TicketError as exc:  # Stripe unreachable (the seats stay held; next run tries again), or refused
            logger.warning("Could not release %s yet: %s", order.reference, exc)
    return released


def refund_order(*, order_id: int, note: str = "refunded by an organiser") -> Order:
    """Refund a paid order in full through Stripe, free its seats and tell the buyer.

    Args: order_id, the order's primary key; note, kept in the order's log.
    Returns the order, refunded. Raises NotRefundable unless Order.is_refundable (nothing is sent to
    Stripe then), and PaymentError if Stripe can't be reached or refuses (the order stays paid).
    Locks the order row while recording the refund; queues the refund email after commit.
    """
    order = Order.objects.get(pk=order_id)
    if not order.is_refundable:
        raise NotRefundable(
            f"{order.reference} is not refunded: it is “{order.get_status_display()}”, "
            "and only paid orders can be refunded."
        )
    return _refund(order, note=note)


def refund_unhonourable_payment(*, order_id: int) -> Order:
    """A payment arrived for a released order whose seats are gone: give the money back, and apologise.

    Returns the order, refunded; an order that owes no such refund is returned unchanged. Calls Stripe
    (idempotent per order); raises PaymentError if it can't. Queues the apology email after commit.
    """
    order = Order.objects.get(pk=order_id)
    if not Order.objects.filter(pk=order_id).owing_refunds().exists():
        return order
    return _refund(order, note="a payment we could not honour: refunded automatically")


def _refund(order: Order, *, note: str) -> Order:
    refund_id = payments.refund_payment(
        payment_intent_id=order.stripe_payment_intent_id,
        idempotency_key=f"refund-{order.reference}",
    )
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.is_refunded:
            return order
        _record_refund(order, refund_id, note=note)
    return order


def refund_owed_payments() -> int:
    """Retry automatic refunds that failed earlier (Stripe was unreachable). Returns how many were tried
    without error; failures are logged and tried again on the next run."""
    done = 0
    for order in Order.objects.owing_refunds():
        try:
            refund_unhonourable_payment(order_id=order.pk)
            done += 1
        except TicketError as exc:
            logger.warning("Refund for %s still owed: %s", order.reference, exc)
    return done


def record_stripe_refund(*, refund_id: str) -> Order | None:
    """A refund Stripe reports (ours, or one made in Stripe's dashboard): a paid order refunded in full
    becomes refunded, so its tickets stop working at the door. Partial refunds are only logged.

    Re-reads the refund `refund_id` from Stripe; raises PaymentError if it can't. Returns the refund's
    order, or None if it matches none. Locks the order row; queues the refund email after commit.
    """
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
        if order.is_released:
            # the refund we owed for a payment we couldn't honour, made elsewhere (say, Stripe's dashboard)
            return _record_refund(order, refund.id)
        if not order.is_paid:
            return order  # already refunded
        if refund.amount < order.total_pence:
            logger.warning(
                "Partial refund %s of %s for %s: the booking stays paid", refund.id, refund.amount, order.reference
            )
            return order
        return _record_refund(order, refund.id)


def _record_refund(order: Order, refund_id: str, *, note: str = "") -> Order:
    """Inside a transaction, with the order locked: it is refunded; tell the buyer (after commit)."""
    order.transition_to(OrderStatus.REFUNDED, note=note or f"Stripe reports refund {refund_id}")
    order.stripe_refund_id, order.refunded_at = refund_id, timezone.now()
    order.save_transition("stripe_refund_id", "refunded_at")
    _queue_email(order, Email.Kind.REFUND)
    return order


def _queue_email(order: Order, kind: str) -> None:
    """Record the email we owe (once per order and kind) and send it after commit."""
    email, _ = Email.objects.get_or_create(order=order, kind=kind)
    transaction.on_commit(lambda: emails.send(email.pk), robust=True)
