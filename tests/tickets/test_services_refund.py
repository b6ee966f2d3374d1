"""Refunds: an organiser's refund_order (paid orders only), the automatic refund of a payment we could not honour
(retried while Stripe is down), and refunds Stripe reports to us, including ones made in Stripe's dashboard."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from tests.factories import EventFactory, OrderFactory
from tests.tickets.helpers import (
    deliver,
    expire_hold,
    last_event,
    paid_order,
    pay_after_release,
    pay_at_stripe,
    run_release_command,
    stripe_down,
)
from tickets import payments, services
from tickets.checkin import Outcome, check_in_ticket
from tickets.exceptions import NotRefundable, PaymentError, RefundUnconfirmed
from tickets.models import Email, Order, OrderStatus, RefundStatus

pytestmark = pytest.mark.django_db


def refund_in_stripes_dashboard(stripe_double, order: Order, **params) -> dict:
    payments.client().v1.refunds.create(params={"payment_intent": order.stripe_payment_intent_id, **params})
    return last_event(stripe_double, "refund.created")


# --- refund_order: an organiser refunds a paid order ---


def test_our_own_refund_and_its_event_refund_once_and_email_once(
    client, stripe_double, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = paid_order(stripe_double, event=EventFactory(capacity=10), quantity=2)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk)
        deliver(client, stripe_double, last_event(stripe_double, "refund.created"))
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1


def test_a_refund_stripe_reports_failed_leaves_the_booking_paid_and_says_why(stripe_double, monkeypatch):
    order = OrderFactory(paid=True, quantity=2)
    failed = type("Refund", (), {"id": "re_failed", "status": "failed"})()
    monkeypatch.setattr(payments.client().v1.refunds, "create", lambda **kwargs: failed)
    with pytest.raises(PaymentError, match="re_failed failed"):
        services.refund_order(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def paid_at_stripe_but_still_pending(stripe_double, monkeypatch) -> Order:
    order = OrderFactory(event=EventFactory(capacity=5), quantity=2)
    pay_at_stripe(stripe_double, order)  # its webhook has not arrived yet
    return order


def released_with_its_late_payment_owed_back(stripe_double, monkeypatch) -> Order:
    order, _ = pay_after_release(stripe_double, capacity=2, rival_quantity=2)
    with monkeypatch.context() as patched:  # the automatic refund fails: Stripe is down
        patched.setattr(payments, "refund_payment", stripe_down)
        services.fulfil_checkout(session_id=order.stripe_checkout_session_id)
    return order


def cancelled_with_its_late_payment_owed_back(stripe_double, monkeypatch) -> Order:
    event = EventFactory(capacity=2)
    order = OrderFactory(event=event, quantity=2)
    services.start_checkout(order=order)
    expire_hold(order)
    services.reserve_tickets(event=event, buyer_name="Rival", buyer_email="rival@example.com", quantity=2)
    pay_at_stripe(stripe_double, order)
    with monkeypatch.context() as patched:
        patched.setattr(payments, "refund_payment", stripe_down)
        services.fulfil_checkout(session_id=order.stripe_checkout_session_id)
    return order


def refunded_already(stripe_double, monkeypatch) -> Order:
    order = paid_order(stripe_double, event=EventFactory(capacity=5), quantity=2)
    return services.refund_order(order_id=order.pk)


@pytest.mark.parametrize(
    ("make_order", "status"),
    [
        (paid_at_stripe_but_still_pending, OrderStatus.PENDING),
        (released_with_its_late_payment_owed_back, OrderStatus.EXPIRED),
        (cancelled_with_its_late_payment_owed_back, OrderStatus.CANCELLED),
        (refunded_already, OrderStatus.REFUNDED),
    ],
)
def test_refund_order_refuses_an_order_that_is_not_paid_and_sends_nothing_to_stripe(
    stripe_double, monkeypatch, make_order, status
):
    """Guards against refund_order without its paid-only check (`if not order.is_refundable: raise NotRefundable`),
    called directly, not through the admin: a pending, released or refunded order raises NotRefundable, Stripe
    is asked for no refund, and the order stays as it was."""
    order = make_order(stripe_double, monkeypatch)
    order.refresh_from_db()
    assert order.status == status
    refunds_at_stripe = stripe_double.events("refund.created")

    with pytest.raises(NotRefundable):
        services.refund_order(order_id=order.pk)

    assert stripe_double.events("refund.created") == refunds_at_stripe
    unchanged = Order.objects.get(pk=order.pk)
    assert (unchanged.status, unchanged.stripe_refund_id, unchanged.refunded_at) == (
        order.status,
        order.stripe_refund_id,
        order.refunded_at,
    )
    refund_notices = 1 if status == OrderStatus.REFUNDED else 0  # only the one of the refund already made
    assert Email.objects.filter(order=order, kind=Email.Kind.REFUND).count() == refund_notices


# --- the automatic refund of a payment we could not honour ---


def test_a_refund_that_failed_is_retried_by_the_command(
    client, stripe_double, monkeypatch, django_capture_on_commit_callbacks
):
    order, completed = pay_after_release(stripe_double, capacity=2, rival_quantity=2)
    with monkeypatch.context() as patched:
        patched.setattr(payments, "refund_payment", stripe_down)
        with django_capture_on_commit_callbacks(execute=True):  # the refund fails, and is logged
            assert deliver(client, stripe_double, completed).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert order.stripe_payment_intent_id  # the money is known about: owed back
    with django_capture_on_commit_callbacks(execute=True):
        assert "refunded 1 payment" in run_release_command()
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert len([m for m in mail.outbox if "Sorry" in m.subject]) == 1


# --- refunds Stripe reports (refund.* webhooks) ---


def test_a_refund_made_in_stripes_dashboard_refunds_the_booking(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order = paid_order(stripe_double, event=EventFactory(capacity=10), quantity=2)
    refunded = refund_in_stripes_dashboard(stripe_double, order)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_double, refunded).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.stripe_refund_id == refunded["data"]["object"]["id"]
    assert [message.subject for message in mail.outbox if "refund" in message.subject.lower()]


def test_a_partial_refund_in_stripe_keeps_the_booking_paid(client, stripe_double):
    order = paid_order(stripe_double, event=EventFactory(capacity=10), quantity=2)
    deliver(client, stripe_double, refund_in_stripes_dashboard(stripe_double, order, amount=100))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_refund_we_owe_made_in_stripes_dashboard_settles_it_and_apologises(
    client, stripe_double, monkeypatch, django_capture_on_commit_callbacks
):
    order, completed = pay_after_release(stripe_double, capacity=2, rival_quantity=2)
    with monkeypatch.context() as patched:
        patched.setattr(payments, "refund_payment", stripe_down)
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, stripe_double, completed)
    order.refresh_from_db()
    assert (order.status, bool(order.stripe_payment_intent_id)) == (OrderStatus.EXPIRED, True)  # a refund owed
    assert "refunding it in full" in client.get(order.get_absolute_url()).content.decode()
    assert "nothing was charged" not in client.get(order.get_absolute_url()).content.decode()

    refunded = refund_in_stripes_dashboard(stripe_double, order)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, refunded)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert [m for m in mail.outbox if "refunded your payment" in m.body]
    assert "refunded 0" in run_release_command()  # nothing owed any more


# --- refunds add up: every refund recorded with its amount, partial ones too, whoever made it ---


def two_ticket_booking(stripe_double) -> Order:
    """A £10 booking of two £5 tickets, paid at the Stripe double; capacity 3."""
    return paid_order(stripe_double, event=EventFactory(capacity=3, ticket_price_pence=500), quantity=2)


def door(order: Order) -> list[str]:
    """Each ticket of the order scanned at the door, in order: what the door says."""
    return [check_in_ticket(reference=ticket.reference, event=order.event).outcome for ticket in order.tickets.all()]


def test_two_partial_refunds_in_stripes_dashboard_refund_the_booking_and_stop_its_tickets(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    first = refund_in_stripes_dashboard(stripe_double, order, amount=500)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_double, first).status_code == 200
        assert deliver(client, stripe_double, first).status_code == 200  # Stripe delivers again
    services.record_stripe_refund(refund_id=first["data"]["object"]["id"])  # say, its refund.updated: still once
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert (order.refunded_pence, order.remaining_pence) == (500, 500)
    [refund] = order.refunds.all()
    assert (refund.amount_pence, refund.status, refund.made_by_label) == (500, "succeeded", "Stripe dashboard")
    assert not order.tickets.void().exists()  # which ticket £5 paid for is for a person to say
    assert Email.objects.filter(order=order, kind=Email.Kind.REFUND).count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, refund_in_stripes_dashboard(stripe_double, order, amount=500))
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert (order.refunded_pence, order.remaining_pence) == (1000, 0)
    assert order.refunds.count() == 2
    assert order.tickets.void().count() == 2
    assert door(order) == [Outcome.NOT_VALID, Outcome.NOT_VALID]
    assert len([m for m in mail.outbox if "refunded" in m.subject]) == 1
    with pytest.raises(NotRefundable):  # not Stripe's "already refunded"
        services.refund_order(order_id=order.pk)
    assert len(stripe_double.events("refund.created")) == 2


def test_refunding_chosen_tickets_refunds_their_price_voids_them_and_frees_their_seats(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    organiser = User.objects.create_user("ops", "ops@example.com", "pw")
    _grace, alan = order.tickets.all()
    assert services.seats_left(order.event) == 1
    with django_capture_on_commit_callbacks(execute=True):
        order = services.refund_order(order_id=order.pk, ticket_ids=[alan.pk], by=organiser)
        deliver(client, stripe_double, last_event(stripe_double, "refund.created"))  # our own, reported back
    [at_stripe] = [event["data"]["object"] for event in stripe_double.events("refund.created")]
    assert at_stripe["amount"] == 500
    assert order.status == OrderStatus.PAID
    [refund] = order.refunds.all()
    assert (refund.amount_pence, refund.stripe_refund_id, refund.made_by) == (500, at_stripe["id"], organiser)
    assert list(refund.tickets.all()) == [alan]
    assert (order.refunded_pence, order.remaining_pence) == (500, 500)
    assert services.seats_left(order.event) == 2  # Alan's seat is back on sale
    assert door(order) == [Outcome.CHECKED_IN, Outcome.NOT_VALID]
    assert mail.outbox == []  # the booking stands

    with django_capture_on_commit_callbacks(execute=True):
        order = services.refund_order(order_id=order.pk, by=organiser)  # the rest: Grace's ticket, though used
    assert order.status == OrderStatus.REFUNDED
    assert [e["data"]["object"]["amount"] for e in stripe_double.events("refund.created")] == [500, 500]
    assert services.seats_left(order.event) == 3
    assert len(mail.outbox) == 1


def test_refund_order_refuses_tickets_already_refunded_or_of_another_order(stripe_double):
    order = two_ticket_booking(stripe_double)
    other = two_ticket_booking(stripe_double)
    grace, _ = order.tickets.all()
    services.refund_order(order_id=order.pk, ticket_ids=[grace.pk])
    for chosen in ([grace.pk], [other.tickets.first().pk], []):
        with pytest.raises(NotRefundable):
            services.refund_order(order_id=order.pk, ticket_ids=chosen)
    assert len(stripe_double.events("refund.created")) == 1


def test_a_partial_refund_in_the_dashboard_caps_what_refunding_the_tickets_then_asks(client, stripe_double):
    order = two_ticket_booking(stripe_double)
    deliver(client, stripe_double, refund_in_stripes_dashboard(stripe_double, order, amount=300))
    order = services.refund_order(order_id=order.pk)
    assert [e["data"]["object"]["amount"] for e in stripe_double.events("refund.created")] == [300, 700]
    assert order.status == OrderStatus.REFUNDED
    assert order.refunded_pence == 1000


# --- a refund whose answer is lost (a timeout) is asked again with the same key ---


@pytest.fixture
def no_pause(monkeypatch):
    monkeypatch.setattr(payments, "REFUND_RECHECK_PAUSE_SECONDS", 0)


def test_a_refund_whose_answer_is_lost_is_asked_again_and_reports_the_truth(stripe_double, no_pause):
    order = two_ticket_booking(stripe_double)
    stripe_double.lose_responses("/v1/refunds", times=2)  # the library's own try and its retry both time out
    order = services.refund_order(order_id=order.pk)
    assert order.status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1  # asked three times, refunded once
    [refund] = order.refunds.all()
    assert refund.status == RefundStatus.SUCCEEDED


def test_a_refund_stripe_never_answers_is_not_called_refused_and_is_settled_later(
    client, stripe_double, no_pause, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    stripe_double.lose_responses("/v1/refunds", times=4)
    with pytest.raises(RefundUnconfirmed, match="don't know yet whether the refund went through"):
        services.refund_order(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # nothing recorded as refunded before Stripe says so
    [refund] = order.refunds.all()
    assert refund.status == RefundStatus.REQUESTED
    assert not order.tickets.void().exists()
    with pytest.raises(NotRefundable):  # its tickets are being refunded: no second refund of them
        services.refund_order(order_id=order.pk)
    assert services.refund_owed_payments() == 0  # too recent: it may still be on its way

    with django_capture_on_commit_callbacks(execute=True):
        assert services.refund_owed_payments(now=timezone.now() + timedelta(minutes=2)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1  # the same refund, found again by its key
    assert order.refunds.get().status == RefundStatus.SUCCEEDED
    assert len(mail.outbox) == 1


def test_a_lost_answer_is_settled_by_stripes_webhook_too(client, stripe_double, no_pause):
    order = two_ticket_booking(stripe_double)
    stripe_double.lose_responses("/v1/refunds", times=4)
    with pytest.raises(RefundUnconfirmed):
        services.refund_order(order_id=order.pk)
    deliver(client, stripe_double, last_event(stripe_double, "refund.created"))
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.refunds.count() == 1  # matched to our request by the key in its metadata, not a second row


def test_a_refund_stripe_refuses_frees_its_tickets_for_another_try(stripe_double):
    order = two_ticket_booking(stripe_double)
    Order.objects.filter(pk=order.pk).update(stripe_payment_intent_id="pi_unknown")
    with pytest.raises(PaymentError, match="Stripe refused the refund"):
        services.refund_order(order_id=order.pk)
    assert order.refunds.get().status == RefundStatus.FAILED
    assert order.refundable_tickets().count() == 2
    assert Order.objects.get(pk=order.pk).refunded_pence == 0
