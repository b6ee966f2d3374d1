"""Every change to an order happens here: one function per transition, each in one transaction.

Pattern: lock the row, check, write, and leave side effects (emails, refunds) to tasks enqueued after commit
(tickets.tasks). Calls to Stripe happen outside transactions and before the local change they justify: a hold
is released only after its Checkout Session is expired, so a payment can't slip in between. The only call to
Stripe inside a buyer's request is the one that starts their checkout; the tasks at the end of this module make
the others (refunds, releasing holds).
"""

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django_tasks import task

from events.models import Event
from tickets import emails, payments
from tickets.exceptions import (
    NotRefundable,
    PaymentError,
    PaymentMismatch,
    RefundUnconfirmed,
    SalesClosed,
    SoldOut,
    TicketError,
    TooManyUnpaidBookings,
)
from tickets.models import (
    MONEY_BACK,
    STRIPE_REFUND_STATUSES,
    Email,
    Order,
    OrderLog,
    OrderStatus,
    Refund,
    RefundSource,
    RefundStatus,
    Ticket,
)
from tickets.tasks import enqueue_after_commit, retry_later, waiting_for
from tickets.templatetags.money import pounds

logger = logging.getLogger(__name__)

NEVER_ASKED_AFTER = timedelta(minutes=5)  # a refund request not even tried by then lost its task: refund_owed_payments


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


FEW_LEFT = 20  # seats: at most this many left (and some) is "few left" on every page that shows the sales state


class SalesStatus(models.TextChoices):
    ON_SALE = "on-sale", "On sale"
    FEW_LEFT = "few-left", "Few left"
    SOLD_OUT = "sold-out", "Sold out"
    NOT_YET_OPEN = "not-yet-open", "Not on sale yet"
    CLOSED = "closed", "Closed"


@dataclass(frozen=True)
class SalesState:
    """Whether tickets for one event can be bought, as every page says it.

    `status`; `seats_left` (0 unless bookable); `figure`, the state in a few words ("Only 3 left", "Sold out");
    `sentence`, the state for the buyer in one sentence ("Only 3 tickets left.", "Tickets go on sale on ...").
    """

    event_id: int
    status: SalesStatus
    seats_left: int
    figure: str
    sentence: str

    @property
    def can_book(self) -> bool:
        """True when the ticket form takes bookings: the only state in which a page offers a booking button."""
        return self.status in (SalesStatus.ON_SALE, SalesStatus.FEW_LEFT)


def sales_state(event: Event, *, now: datetime | None = None) -> SalesState:
    """The one answer to "can I buy a ticket for `event` at `now` (default: now)?" for the home page, the session
    pages and the ticket form: not yet open or closed (sales_problem's sentence), else sold out, few left (at most
    FEW_LEFT seats) or on sale. At most one query (seats_left, only while sales are open); locks nothing."""
    now = now or timezone.now()
    if problem := sales_problem(event, now=now):
        status = SalesStatus.NOT_YET_OPEN if now < event.sales_open_at else SalesStatus.CLOSED
        return SalesState(event.pk, status, 0, status.label, problem)
    left = seats_left(event)
    if left == 0:
        return SalesState(event.pk, SalesStatus.SOLD_OUT, 0, "Sold out", "Every ticket has been reserved.")
    tickets = f"{left} ticket{'s' if left != 1 else ''}"
    if left <= FEW_LEFT:
        return SalesState(event.pk, SalesStatus.FEW_LEFT, left, f"Only {left} left", f"Only {tickets} left.")
    return SalesState(event.pk, SalesStatus.ON_SALE, left, f"{left} left", f"{tickets} left.")


def hold_ends_at(event: Event, *, now: datetime) -> datetime:
    """The one rule for a hold's length: when a hold made at `now` ends, and its Checkout Session with it.

    The event's hold time (Event.hold_minutes), but never before Stripe lets a Checkout Session expire
    (payments.MIN_SESSION_LIFETIME), so the seats are held for as long as Stripe may take the payment.
    """
    return now + max(timedelta(minutes=event.hold_minutes), payments.MIN_SESSION_LIFETIME)


def provisional_hold_ends_at(*, now: datetime) -> datetime:
    """When the hold of a new order made at `now` ends if its checkout never starts: PROVISIONAL_HOLD_SECONDS later.

    reserve_tickets holds seats this long; start_checkout extends the hold to hold_ends_at once the Checkout
    Session is recorded. So a buyer whose request failed between the two (an error page, the database restarting)
    holds nothing for long: release_expired_holds frees the seats.
    """
    return now + timedelta(seconds=settings.PROVISIONAL_HOLD_SECONDS)


def client_hash(address: str) -> str:
    """A keyed hash (HMAC-SHA256 with SECRET_KEY, 64 hex characters) of a client's address, for Order.client_hash:
    the same address gives the same hash, and the hash doesn't give the address back. "" for no address."""
    return salted_hmac("tickets.client_hash", address, algorithm="sha256").hexdigest() if address else ""


def reserve_tickets(
    *,
    event: Event,
    buyer_name: str,
    buyer_email: str,
    quantity: int,
    attendee_names: list[str] | None = None,
    client_address: str = "",
    form_token: str = "",
) -> Order:
    """Create a pending order that holds `quantity` seats until hold_ends_at, at the event's price (pence).

    `attendee_names` are the names printed on the tickets (missing ones default to the buyer).
    `client_address` is the buyer's address (tickets.ratelimit.client_address; stored only as client_hash);
    `form_token` the reservation form's one-time token: if an order already has it, that order is returned
    as it is and nothing else happens (the same form submitted twice makes one booking).
    The hold is provisional (provisional_hold_ends_at) until start_checkout records the Checkout Session.
    Returns the new pending order (free ones too: confirm_free_order follows). Raises SalesClosed outside the
    sales window, SoldOut for a quantity outside 1..Event.per_order_limit or more than seats_left, and
    TooManyUnpaidBookings when the address or the email (any case) already has as many unpaid bookings holding
    seats (OrderQuerySet.awaiting_checkout) as settings MAX_UNPAID_BOOKINGS_PER_CLIENT / _PER_EMAIL allow (0: no
    limit). In one transaction, the event row is locked (PostgreSQL) or the database write-locked (SQLite,
    IMMEDIATE transactions) while seats and bookings are counted, so concurrent buyers can't oversell or
    pass the limits. No call to Stripe: checkout_or_booking_url follows.
    """
    hashed = client_hash(client_address)
    if not sales_problem(event) and 1 <= quantity <= event.per_order_limit and (left := seats_left(event)) < quantity:
        # Too few seats already: refused without queueing for the event's lock behind the buyers who hold it (the
        # late buyers of a rush). Only ever a refusal: seats are granted under the lock alone. Unless the seats
        # counted are this form's own (a double-click, the form sent again): looked for after the count, so that
        # a first submission the count saw is found.
        if form_token and (earlier := Order.objects.filter(form_token=form_token).first()) is not None:
            return earlier
        raise SoldOut(_too_few_seats(event, left))
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if form_token and (earlier := Order.objects.filter(form_token=form_token).first()) is not None:
            return earlier  # a double-click, or the form sent again: the first submission's booking
        if problem := sales_problem(event):
            raise SalesClosed(problem)
        if not 1 <= quantity <= event.per_order_limit:
            raise SoldOut(f"You can reserve between 1 and {event.per_order_limit} tickets in one order.")
        _check_unpaid_bookings(event, client_hash=hashed, buyer_email=buyer_email)
        if (left := seats_left(event)) < quantity:
            raise SoldOut(_too_few_seats(event, left))
        order = Order.objects.create(
            event=event,
            buyer_name=buyer_name,
            buyer_email=buyer_email,
            quantity=quantity,
            unit_price_pence=event.ticket_price_pence,
            total_pence=event.ticket_price_pence * quantity,
            attendee_names=attendee_names or [],
            hold_expires_at=provisional_hold_ends_at(now=timezone.now()),
            client_hash=hashed,
            form_token=form_token,
        )
    return order


def _too_few_seats(event: Event, left: int) -> str:
    """The refusal of a reservation for more than the `left` seats of `event`, for the buyer."""
    if left == 0:
        return f"Sorry, {event.name} is sold out."
    return f"Sorry, only {left} ticket{'s' if left != 1 else ''} left. Please choose fewer."


def _check_unpaid_bookings(event: Event, *, client_hash: str, buyer_email: str) -> None:
    """Inside reserve_tickets' transaction, with the event row locked: raise TooManyUnpaidBookings if this client
    or this email already has as many unpaid bookings of `event` holding seats as the settings allow."""
    limits = [
        (False, settings.MAX_UNPAID_BOOKINGS_PER_CLIENT, Q(client_hash=client_hash) if client_hash else None),
        (True, settings.MAX_UNPAID_BOOKINGS_PER_EMAIL, Q(buyer_email__iexact=buyer_email)),
    ]
    for by_email, limit, whose in limits:
        if not limit or whose is None:
            continue
        holds = sorted(Order.objects.filter(whose, event=event).awaiting_checkout().values_list("hold_expires_at"))
        if len(holds) >= limit:
            who = f"{buyer_email} already has" if by_email else "You already have"
            bookings = "an unpaid booking" if len(holds) == 1 else f"{len(holds)} unpaid bookings"
            them = "it" if len(holds) == 1 else "one of them"
            until = date_format(timezone.localtime(holds[0][0]), "H:i")
            raise TooManyUnpaidBookings(
                f"{who} {bookings} for {event.name}: please pay for or cancel {them} first, "
                f"or wait until {until}, when {'its' if len(holds) == 1 else 'the first one’s'} hold ends.",
                count=len(holds),
                by_email=by_email,
            )


def start_checkout(*, order: Order) -> str:
    """Create the order's Checkout Session and hold its seats until the session expires; returns the URL to send the
    buyer to.

    Calls Stripe (idempotent per order; one try, a bounded wait: payments.STRIPE_CONNECT_TIMEOUT_SECONDS and
    STRIPE_READ_TIMEOUT_SECONDS) for a session expiring at hold_ends_at from the order's creation, then, in one
    UPDATE of an order still pending, stores the session's id and URL (so a buyer who leaves Checkout can be sent
    back to it) and extends the provisional hold to that time. Raises PaymentError if
    Stripe can't be reached or refuses, or if the order was released meanwhile (its session is then expired): the
    order is cancelled at once, freeing its seats.
    """
    # From the order's creation, not now: a second call (a double-click) asks Stripe for the same session.
    order.hold_expires_at = hold_ends_at(order.event, now=order.created_at)
    try:
        session = payments.create_checkout_session(
            order,
            success_url=emails.absolute(reverse("tickets:checkout-success")),
            cancel_url=emails.absolute(order.get_cancel_url()),
        )
        recorded = Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING).update(
            stripe_checkout_session_id=session.id, checkout_url=session.url or "", hold_expires_at=order.hold_expires_at
        )
        if not recorded:  # released while Stripe answered (its provisional hold ran out): no one may pay it now
            payments.expire_checkout_session(session.id)
            raise PaymentError("Your hold on these seats ran out before the payment could start. Please try again.")
    except PaymentError:
        _release(order.pk, OrderStatus.CANCELLED, note="Stripe unavailable when starting checkout")
        raise
    order.stripe_checkout_session_id, order.checkout_url = session.id, session.url or ""
    return session.url


def release_unstarted(*, order_id: int, note: str) -> None:
    """Release a pending order whose checkout could not start (the buyer saw an error), if the database lets us.

    Best effort, for the reserve view's error path: never raises (if this fails too, the provisional hold runs
    out within PROVISIONAL_HOLD_SECONDS and release_expired_holds frees the seats). An order that has a
    Checkout Session is left to release_order, which asks Stripe first.
    """
    try:
        connection.close_if_unusable_or_obsolete()  # the error may have cut our connection: open a new one
        if Order.objects.filter(pk=order_id, stripe_checkout_session_id="").exists():
            _release(order_id, OrderStatus.CANCELLED, note=note)
    except Exception:
        logger.exception("Could not release order %s after an error; its provisional hold runs out", order_id)


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
        _mark_paid(order, note="Stripe reports the Checkout Session paid")
    return order


def confirm_free_order(*, order: Order) -> Order:
    """Confirm a free order (total 0 pence, Order.is_free) at once, without Stripe: there is nothing to pay.

    Locking the order row, then the event row (_has_seats), moves a pending free order to paid, creates its
    tickets and queues the confirmation email (sent after commit), exactly as fulfil_checkout does for a paid
    Checkout Session. Returns the order; one that is no longer pending is returned unchanged (safe to call
    twice). Raises ValueError for an order that costs something, and SoldOut if its hold ran out and its seats
    went to others meanwhile (it stays pending, and expires).
    """
    if not order.is_free:
        raise ValueError(f"{order.reference} costs {order.total_pence}p: it is paid through Stripe Checkout.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if not order.is_pending:
            return order
        if not _has_seats(order):
            raise SoldOut(f"Sorry, your hold on these seats ended and {order.event.name} is now sold out.")
        _mark_paid(order, note="free tickets: confirmed without payment")
    return order


def checkout_or_booking_url(*, order: Order) -> str:
    """Where the buyer goes once reserve_tickets returned `order` (new, or the earlier booking of a repeated submit).

    A free pending order is confirmed first (confirm_free_order). An order that awaits checkout (holding seats,
    its payment not started) goes to its Stripe Checkout Session: the one it has, else a new one (start_checkout,
    which calls Stripe). Any other order (paid, released, its payment on its way) goes to its booking page,
    which says where it stands. Returns a URL; raises PaymentError and SoldOut as those services do.
    """
    if order.is_free and order.is_pending:
        order = confirm_free_order(order=order)
    if not Order.objects.filter(pk=order.pk).awaiting_checkout().exists():
        return order.get_absolute_url()
    return order.checkout_url or start_checkout(order=order)


def _mark_paid(order: Order, *, note: str) -> None:
    """The one paid path (fulfil_checkout, confirm_free_order). Inside a transaction, with the order row locked
    and its seats checked (_has_seats): the order becomes paid (with `note` in its log), its tickets are created
    and its confirmation email queued, sent after commit. Saves stripe_payment_intent_id as set by the caller."""
    order.transition_to(OrderStatus.PAID, note=note)
    order.paid_at = timezone.now()
    order.is_awaiting_async_payment = False
    order.save_transition("paid_at", "stripe_payment_intent_id", "is_awaiting_async_payment")
    Ticket.objects.bulk_create(Ticket(order=order, attendee_name=name) for name in order.names_for_tickets())
    _queue_email(order, Email.Kind.CONFIRMATION)


def _give_back(order_id: int, session: payments.CheckoutSession, *, note: str) -> Order:
    """A payment we can't honour: release the order if it still holds seats, and refund the payment after commit.

    The refund is a task (refund_unhonourable_payment_task), tried again with backoff while Stripe is down.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.has_payment_in_hand:
            return order  # already handled
        order.stripe_payment_intent_id = session.payment_intent_id
        if order.status == OrderStatus.PENDING:
            order.transition_to(OrderStatus.CANCELLED, note=note)
            order.released_at, order.is_awaiting_async_payment = timezone.now(), False
            order.save_transition("stripe_payment_intent_id", "released_at", "is_awaiting_async_payment")
        else:
            order.save(update_fields=["stripe_payment_intent_id", "updated_at"])
        enqueue_after_commit(refund_unhonourable_payment_task, order.pk)
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
    """Lock the order row; a pending order becomes `status` (EXPIRED or CANCELLED), frees its seats and no longer
    awaits a bank payment (a released order awaits nothing: a late payment is fulfil_checkout's). Any other order
    is returned unchanged. No call to Stripe: callers expire its Checkout Session first."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != OrderStatus.PENDING:
            return order
        order.transition_to(status, note=note)
        order.released_at, order.is_awaiting_async_payment = timezone.now(), False
        order.save_transition("released_at", "is_awaiting_async_payment")
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


def refund_order(*, order_id: int, ticket_ids: Iterable[int] | None = None, by: Any = None, note: str = "") -> Refund:
    """Ask for a refund of tickets of a paid order: those in `ticket_ids` (primary keys of its tickets), or all
    it has left (None). The amount (pence) is the unit price times their number, capped at what is still unrefunded.

    Under the order lock: check, and record the request (a Refund, status requested, with its own idempotency
    key, covering those tickets), so no second request can refund the same tickets. Stripe is asked by the
    process_refund task, enqueued after commit: it records Stripe's answer (the tickets become void and their
    seats return to sale; once refunds reach the amount paid the order becomes refunded and the buyer is emailed),
    and tries again with backoff while Stripe doesn't answer. `by` is the organiser (a User) who asked; `note` goes
    to the order's log. Returns the Refund, requested. Raises NotRefundable, recording nothing, unless the order is
    paid and every chosen ticket is its own and neither refunded nor being refunded.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if not order.is_refundable:
            raise NotRefundable(
                f"{order.reference} is not refunded: it is “{order.get_status_display()}”, "
                "and only paid orders can be refunded."
            )
        if order.is_free:
            raise NotRefundable(f"{order.reference} is free: there is no payment to refund.")
        tickets = list(order.refundable_tickets())
        if ticket_ids is not None:
            wanted = set(ticket_ids)
            tickets = [ticket for ticket in tickets if ticket.pk in wanted]
            if len(tickets) != len(wanted):
                raise NotRefundable(
                    f"{order.reference} is not refunded: some of the chosen tickets are not its own, "
                    "or are refunded already."
                )
        amount = order.refund_amount_for(len(tickets))
        if not tickets or amount <= 0:
            raise NotRefundable(f"{order.reference} is not refunded: it has no tickets left to refund.")
        refund = _request_refund(order, amount_pence=amount, source=RefundSource.ORGANISER, made_by=by)
        Ticket.objects.filter(pk__in=[ticket.pk for ticket in tickets]).update(refund=refund)
        enqueue_after_commit(process_refund, refund.pk, note=note)
    return refund


def refund_unhonourable_payment(*, order_id: int) -> Order:
    """A payment arrived for a released order whose seats are gone: give the money back in full, and apologise.

    Returns the order, refunded; an order that owes no such refund is returned unchanged. Records the request
    (or takes up one whose answer was lost, with its key) under the order lock, then calls Stripe; raises
    PaymentError if Stripe refuses, RefundUnconfirmed if it doesn't answer (the refund_unhonourable_payment_task
    tries again). Queues the apology email after commit.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if not Order.objects.filter(pk=order_id).owing_refunds().exists():
            return order
        refund = order.refunds.unanswered().first() or _request_refund(
            order, amount_pence=order.refund_amount_for(order.quantity), source=RefundSource.AUTOMATIC
        )
    return _ask_stripe(refund, note="a payment we could not honour: refunded automatically")


def _request_refund(order: Order, *, amount_pence: int, source: str, made_by: Any = None) -> Refund:
    """Inside a transaction, with the order locked: record that we are asking Stripe for a refund, under a new key."""
    return Refund.objects.create(
        order=order,
        amount_pence=amount_pence,
        source=source,
        made_by=made_by,
        idempotency_key=f"refund-{order.reference}-{secrets.token_hex(8)}",
    )


def _ask_stripe(refund: Refund, *, note: str) -> Order:
    """Ask Stripe for the recorded refund request `refund`, outside any transaction, and record its answer.

    Counts the attempt and stores the error, if any, on the Refund (shown to organisers). Raises RefundUnconfirmed
    (still requested: asked again with the same key) or PaymentError (refused: recorded as failed, its tickets
    freed to be refunded again).
    """
    order = refund.order
    Refund.objects.filter(pk=refund.pk).update(attempts=F("attempts") + 1)
    try:
        made = payments.refund_payment(
            payment_intent_id=order.stripe_payment_intent_id,
            # a payment we can't honour goes back whole, whatever it took (it may not match the order)
            amount_pence=None if refund.source == RefundSource.AUTOMATIC else refund.amount_pence,
            idempotency_key=refund.idempotency_key,
        )
    except RefundUnconfirmed as exc:
        Refund.objects.filter(pk=refund.pk).update(last_error=_error_note(exc))
        raise  # still requested: asked again with the same key, or matched when Stripe's webhook comes
    except PaymentError as exc:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order.pk)
            failed = Refund.objects.filter(pk=refund.pk, status=RefundStatus.REQUESTED)
            if failed.update(status=RefundStatus.FAILED, last_error=_error_note(exc)):
                Ticket.objects.filter(refund=refund, refunded_at__isnull=True).update(refund=None)
        raise
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        Refund.objects.filter(pk=refund.pk).update(last_error="")
        _settle_refund(order, Refund.objects.get(pk=refund.pk), made, note=note)
    return order


def _error_note(exc: Exception) -> str:
    return f"{timezone.localtime():%Y-%m-%d %H:%M} {exc}"[:2000]


def refund_owed_payments(*, now: datetime | None = None) -> int:
    """Enqueue the refund tasks that were lost (the process stopped between a commit and its enqueue): automatic
    refunds owed (Order.owing_refunds) with no request yet, and requests Stripe was never asked about
    NEVER_ASKED_AFTER after they were made, leaving those whose task is only waiting (tickets.tasks.waiting_for).
    Refunds that failed are tried again by their own task, not here.

    Returns how many tasks were enqueued. Safe to run twice at once: the tasks are idempotent.
    """
    asked_before = (now or timezone.now()) - NEVER_ASKED_AFTER
    owed = Order.objects.owing_refunds().filter(updated_at__lt=asked_before, refunds__isnull=True)
    queued_orders = waiting_for(refund_unhonourable_payment_task)
    order_ids = [pk for pk in owed.values_list("pk", flat=True) if pk not in queued_orders]
    for order_id in order_ids:
        refund_unhonourable_payment_task.enqueue(order_id)
    never_asked = Refund.objects.unanswered().filter(attempts=0, created_at__lt=asked_before)
    queued = waiting_for(process_refund)  # only queued behind a busy or stopped worker: not lost
    refund_ids = [pk for pk in never_asked.values_list("pk", flat=True) if pk not in queued]
    for refund_id in refund_ids:
        process_refund.enqueue(refund_id)
    return len(order_ids) + len(refund_ids)


def record_stripe_refund(*, refund_id: str) -> Order | None:
    """A refund Stripe reports (ours, or one made in Stripe's dashboard), recorded exactly once by its Stripe id,
    partial ones included. Ours are known by the key in their metadata; others are recorded as made in Stripe's
    dashboard, covering no tickets. When the order's refunds reach the amount paid, the order is refunded, its
    tickets void and the buyer emailed; a partial dashboard refund voids nothing and is logged for a person.

    Re-reads the refund `refund_id` from Stripe; raises PaymentError if it can't. Returns the refund's order, or
    None if it matches none. Locks the order row; queues the refund email after commit.
    """
    made = payments.retrieve_refund(refund_id)
    order = (
        Order.objects.filter(stripe_payment_intent_id=made.payment_intent_id).first()
        if made.payment_intent_id
        else None
    )
    if order is None:
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        refund = order.refunds.filter(stripe_refund_id=made.id).first()
        if refund is None and made.idempotency_key:
            refund = order.refunds.filter(idempotency_key=made.idempotency_key).first()
        if refund is None:
            refund = Refund.objects.create(
                order=order, amount_pence=made.amount, source=RefundSource.DASHBOARD, stripe_refund_id=made.id
            )
        _settle_refund(order, refund, made, note=f"Stripe reports refund {made.id}")
    return order


def _settle_refund(order: Order, refund: Refund, made: payments.Refund, *, note: str) -> None:
    """Inside a transaction, with the order locked: record what Stripe says of `refund` (made), once.

    Money back (succeeded or pending): the refund's tickets become void. Failed: a request's tickets are freed;
    a refund that had gone through and now failed is logged for a person (the buyer was told). Then the order
    is refunded if its refunds reach its total (_refund_if_settled).
    """
    was_money_back = refund.status in MONEY_BACK
    refund.stripe_refund_id = made.id
    refund.amount_pence = made.amount
    refund.status = STRIPE_REFUND_STATUSES.get(made.status, RefundStatus.PENDING)
    refund.save(update_fields=["stripe_refund_id", "amount_pence", "status", "updated_at"])
    if refund.status == RefundStatus.FAILED:
        if was_money_back:
            logger.error(
                "Refund %s of %s %s at Stripe: refund the buyer another way", made.id, order.reference, made.status
            )
        else:
            Ticket.objects.filter(refund=refund, refunded_at__isnull=True).update(refund=None)
        return
    if was_money_back:
        return  # known already: a repeated webhook, or our own refund reported back
    voided = Ticket.objects.filter(refund=refund, refunded_at__isnull=True).update(refunded_at=timezone.now())
    if not _refund_if_settled(order, refund, note=note) and order.is_paid:
        if not voided:
            logger.warning(
                "Partial refund %s of %s for %s (Stripe dashboard): no tickets voided; a person should decide",
                made.id,
                pounds(made.amount),
                order.reference,
            )
        detail = f"{voided} ticket{'s' if voided != 1 else ''}" if voided else "no tickets"
        OrderLog.objects.create(
            order=order,
            from_status=order.status,
            to_status=order.status,
            note=f"partial refund {made.id}: {pounds(made.amount)}, {detail} ({refund.made_by_label})"[:255],
        )
        _queue_email(order, Email.Kind.PARTIAL_REFUND, refund=refund)


def _refund_if_settled(order: Order, refund: Refund, *, note: str) -> bool:
    """Inside a transaction, with the order locked: if refunds reach the amount paid (or `refund` is the automatic
    one, which gives back the whole payment, whatever it took), the order is refunded, every ticket void, and the
    buyer told (after commit). Returns whether the order is refunded now."""
    if order.is_refunded:
        return True
    if order.refunded_pence < order.total_pence and refund.source != RefundSource.AUTOMATIC:
        return False
    now = timezone.now()
    order.tickets.filter(refund__isnull=True).update(refund=refund)
    order.tickets.filter(refunded_at__isnull=True).update(refunded_at=now)
    order.transition_to(OrderStatus.REFUNDED, note=note)
    order.stripe_refund_id, order.refunded_at = refund.stripe_refund_id, now
    order.save_transition("stripe_refund_id", "refunded_at")
    _queue_email(order, Email.Kind.REFUND)
    return True


def _queue_email(order: Order, kind: str, *, refund: Refund | None = None) -> None:
    """Record the email we owe (once per order and kind, or once per `refund` for a partial refund's notice); the
    send_order_email task sends it after commit."""
    email, _ = Email.objects.get_or_create(order=order, kind=kind, refund=refund)
    emails.queue(email)


# Tasks (tickets.tasks): the calls to Stripe that no buyer waits for. Each is idempotent: see its docstring.


@task()
def process_refund(refund_id: int, note: str = "", attempt: int = 1) -> str:
    """Task: ask Stripe for the requested refund `refund_id` (refund_order recorded it) and record the answer.

    Idempotent and safe to run twice at once: Stripe gets the refund's own idempotency key (the same refund, never
    a second), and the answer is recorded under the order lock, once. A refund already answered is left alone.
    No answer from Stripe: tried again with backoff (tickets.tasks.retry_later). Refused: recorded as failed (the
    tickets may be refunded again), and the task fails with Stripe's reason, for the admin. Returns the refund's
    status.
    """
    refund = Refund.objects.select_related("order", "made_by").get(pk=refund_id)
    if refund.status != RefundStatus.REQUESTED:
        return refund.status
    try:
        _ask_stripe(refund, note=note or f"refunded by {refund.made_by_label}")
    except RefundUnconfirmed as exc:
        retry_later(process_refund, refund_id, note=note, attempt=attempt, error=exc)
    return Refund.objects.get(pk=refund_id).status


@task()
def refund_unhonourable_payment_task(order_id: int, attempt: int = 1) -> str:
    """Task: refund_unhonourable_payment. Money we must give back: tried again with backoff while Stripe doesn't
    answer or refuses. Returns the order's status."""
    try:
        return refund_unhonourable_payment(order_id=order_id).status
    except TicketError as exc:
        retry_later(refund_unhonourable_payment_task, order_id, attempt=attempt, error=exc)
        raise  # not reached: retry_later raises


@task()
def release_expired_holds_task() -> int:
    """Periodic (manage.py run_scheduler): release_expired_holds. Returns how many holds ended."""
    return release_expired_holds()


@task()
def refund_owed_payments_task() -> int:
    """Periodic (manage.py run_scheduler): refund_owed_payments. Returns how many refund tasks it enqueued."""
    return refund_owed_payments()
