"""Releasing holds: release_expired_holds (a periodic task) frees seats only once Stripe can no longer take the payment,
and settles delayed payments (bank debits) as Stripe reports them."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from tests.factories import EventFactory, OrderFactory
from tests.tickets.helpers import expire_hold, pay_at_stripe, run_release_task
from tickets import payments, services
from tickets.exceptions import PaymentMismatch
from tickets.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


def checked_out(event, *, quantity: int = 2) -> Order:
    """A pending order whose buyer has been sent to Stripe Checkout (its session open at the double)."""
    order = OrderFactory(event=event, quantity=quantity)
    services.start_checkout(order=order)
    return order


def test_the_command_releases_expired_holds_after_expiring_their_sessions(stripe_double):
    event = EventFactory(capacity=5)
    stale, fresh = checked_out(event, quantity=2), checked_out(event, quantity=1)
    expire_hold(stale)
    assert run_release_task() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == OrderStatus.EXPIRED
    assert stripe_double.session(stale.stripe_checkout_session_id)["status"] == "expired"
    assert fresh.status == OrderStatus.PENDING
    assert services.seats_left(event) == 4
    assert run_release_task() == 0  # running it again changes nothing


def test_a_hold_whose_session_was_paid_is_fulfilled_not_released(stripe_double, django_capture_on_commit_callbacks):
    order = OrderFactory(event=EventFactory(capacity=5), quantity=2)
    pay_at_stripe(stripe_double, order)  # paid; the webhook is lost
    expire_hold(order)
    with django_capture_on_commit_callbacks(execute=True):
        run_release_task()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(mail.outbox) == 1


def test_an_async_payment_in_flight_keeps_its_hold(stripe_double):
    order = OrderFactory(event=EventFactory(capacity=5), quantity=2)
    pay_at_stripe(stripe_double, order, outcome="async_pending")
    expire_hold(order)
    run_release_task()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.is_awaiting_async_payment


def test_a_delayed_payment_keeps_its_seats_counted_after_the_hold_time(client, stripe_double):
    event = EventFactory(capacity=2)
    order = OrderFactory(event=event, quantity=2)
    pay_at_stripe(stripe_double, order, outcome="async_pending")
    services.fulfil_checkout(session_id=order.stripe_checkout_session_id)  # its checkout.session.completed
    expire_hold(order)
    assert services.seats_left(event) == 0
    response = client.post("/tickets/", {"quantity": 1, "buyer_name": "Rival", "buyer_email": "rival@example.com"})
    assert response.status_code == 409
    assert Order.objects.count() == 1


@pytest.mark.parametrize(("outcome", "status"), [("succeeded", OrderStatus.PAID), ("failed", OrderStatus.EXPIRED)])
def test_a_delayed_payment_whose_webhook_is_lost_is_settled_by_the_command(
    stripe_double, django_capture_on_commit_callbacks, outcome, status
):
    order = OrderFactory(event=EventFactory(capacity=5), quantity=2)
    pay_at_stripe(stripe_double, order, outcome="async_pending")
    run_release_task()  # before the hold ends: nothing to do
    expire_hold(order)
    run_release_task()
    order.refresh_from_db()
    assert (order.status, order.is_awaiting_async_payment) == (OrderStatus.PENDING, True)
    stripe_double.async_result(order.stripe_checkout_session_id, outcome=outcome)  # its webhook never arrives
    with django_capture_on_commit_callbacks(execute=True):
        run_release_task()
    order.refresh_from_db()
    assert (order.status, order.is_awaiting_async_payment) == (status, False)  # expired: no bank payment awaited


def test_a_released_order_can_never_be_marked_awaiting_a_bank_payment():
    order = OrderFactory(expired=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(is_awaiting_async_payment=True)


def test_a_failed_delayed_payment_reported_by_webhook_releases_the_order_awaiting_nothing(stripe_double):
    order = OrderFactory(event=EventFactory(capacity=5), quantity=2)
    pay_at_stripe(stripe_double, order, outcome="async_pending")
    services.fulfil_checkout(session_id=order.stripe_checkout_session_id)  # its checkout.session.completed
    services.release_if_pending(session_id=order.stripe_checkout_session_id, note="async_payment_failed")
    order.refresh_from_db()
    assert (order.status, order.is_awaiting_async_payment) == (OrderStatus.EXPIRED, False)


def test_one_order_stripe_refuses_does_not_stop_the_others(stripe_double, monkeypatch):
    event = EventFactory(capacity=5)
    first, second = checked_out(event, quantity=1), checked_out(event, quantity=1)
    expire_hold(first)
    expire_hold(second)
    real_release = services.release_order

    def refuse_first(*, order, **kwargs):
        if order.pk == first.pk:
            raise PaymentMismatch("refused")
        return real_release(order=order, **kwargs)

    monkeypatch.setattr(services, "release_order", refuse_first)
    assert run_release_task() == 1
    assert Order.objects.get(pk=second.pk).status == OrderStatus.EXPIRED


def test_a_delayed_payment_that_clears_while_the_command_asks_is_paid_not_released(
    stripe_double, monkeypatch, django_capture_on_commit_callbacks
):
    order = OrderFactory(event=EventFactory(capacity=5), quantity=2)
    pay_at_stripe(stripe_double, order, outcome="async_pending")
    expire_hold(order)
    real_status = payments.payment_intent_status

    def clears_just_now(payment_intent_id):  # between our read of the session and of the payment
        stripe_double.async_result(order.stripe_checkout_session_id, outcome="succeeded")
        return real_status(payment_intent_id)

    monkeypatch.setattr(payments, "payment_intent_status", clears_just_now)
    with django_capture_on_commit_callbacks(execute=True):
        run_release_task()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.tickets.count() == 2
