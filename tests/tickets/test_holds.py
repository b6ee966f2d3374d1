"""Holds expire; a payment that lands after its hold was released is honoured if it can be, else refunded."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tests.factories import EventFactory
from tests.tickets.helpers import deliver, last_event, reserve_over_http
from tickets import services
from tickets.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


def run_release_command() -> str:
    out = io.StringIO()
    call_command("release_expired_holds", stdout=out)
    return out.getvalue()


def expire_hold(order):
    Order.objects.filter(pk=order.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))


def test_the_command_releases_expired_holds_after_expiring_their_sessions(client, stripe_double):
    event = EventFactory(capacity=5)
    stale, fresh = reserve_over_http(client, quantity=2), reserve_over_http(client, quantity=1)
    expire_hold(stale)
    assert "Released 1 expired hold" in run_release_command()
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == OrderStatus.EXPIRED
    assert stripe_double.session(stale.stripe_checkout_session_id)["status"] == "expired"
    assert fresh.status == OrderStatus.PENDING
    assert services.seats_left(event) == 4
    assert "Released 0" in run_release_command()  # running it again changes nothing


def test_a_hold_whose_session_was_paid_is_fulfilled_not_released(
    client, stripe_double, django_capture_on_commit_callbacks
):
    EventFactory(capacity=5)
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)  # paid; the webhook is lost
    expire_hold(order)
    with django_capture_on_commit_callbacks(execute=True):
        run_release_command()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(mail.outbox) == 1


def test_an_async_payment_in_flight_keeps_its_hold(client, stripe_double):
    EventFactory(capacity=5)
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id, outcome="async_pending")
    expire_hold(order)
    run_release_command()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.is_awaiting_async_payment


def pay_after_release(client, stripe_double, *, capacity: int, rival_quantity: int):
    """Order A is paid at Stripe just as its hold is released locally; a rival may take the seats meanwhile."""
    EventFactory(capacity=capacity)
    order = reserve_over_http(client, quantity=2)
    stripe_double.complete(order.stripe_checkout_session_id)
    services._release(order.pk, OrderStatus.EXPIRED, note="hold expired (the race)")
    if rival_quantity:
        reserve_over_http(client, quantity=rival_quantity, email="rival@example.com")
    return order, last_event(stripe_double, "checkout.session.completed")


def test_a_late_payment_is_honoured_when_seats_are_still_free(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order, completed = pay_after_release(client, stripe_double, capacity=10, rival_quantity=0)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, completed)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.tickets.count() == 2
    assert "is confirmed" in mail.outbox[0].body


def test_a_late_payment_for_sold_out_seats_is_refunded_with_an_apology(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order, completed = pay_after_release(client, stripe_double, capacity=2, rival_quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_double, completed).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.stripe_refund_id.startswith("re_")
    assert stripe_double.events("refund.created")
    assert not order.tickets.exists()
    [apology] = [m for m in mail.outbox if m.to == ["ada@example.com"]]
    assert "Sorry" in apology.subject
    assert "refunded your payment in full" in apology.body
    assert "sold out" in apology.body


def test_a_refund_that_failed_is_retried_by_the_command(
    client, stripe_double, monkeypatch, django_capture_on_commit_callbacks
):
    from tickets import payments
    from tickets.exceptions import PaymentError

    order, completed = pay_after_release(client, stripe_double, capacity=2, rival_quantity=2)

    def stripe_down(**kwargs):
        raise PaymentError("Stripe unreachable")

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


def test_a_payment_after_the_hold_ran_out_but_before_the_release_never_oversells(
    client, stripe_double, django_capture_on_commit_callbacks
):
    event = EventFactory(capacity=2)
    late = reserve_over_http(client, quantity=2)
    expire_hold(late)  # not released yet: the seats are on sale again
    rival = reserve_over_http(client, quantity=2, email="rival@example.com")
    stripe_double.complete(late.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
    late.refresh_from_db()
    assert late.status == OrderStatus.REFUNDED
    assert Order.objects.get(pk=rival.pk).status == OrderStatus.PENDING
    assert Order.objects.holding_seats().filter(event=event).count() == 1
    assert services.seats_left(event) == 0


def test_the_hold_lasts_as_long_as_stripe_may_take_the_payment(client, stripe_double):
    EventFactory(capacity=5, hold_minutes=30)
    order = reserve_over_http(client)
    session = stripe_double.session(order.stripe_checkout_session_id)
    assert int(order.hold_expires_at.timestamp()) == session["expires_at"]  # Stripe's floor: 30 min from creation


def test_a_delayed_payment_keeps_its_seats_counted_after_the_hold_time(client, stripe_double):
    event = EventFactory(capacity=2)
    order = reserve_over_http(client, quantity=2)
    stripe_double.complete(order.stripe_checkout_session_id, outcome="async_pending")
    deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
    expire_hold(order)
    assert services.seats_left(event) == 0
    response = client.post("/tickets/", {"quantity": 1, "buyer_name": "Rival", "buyer_email": "rival@example.com"})
    assert response.status_code == 409
    assert Order.objects.count() == 1


@pytest.mark.parametrize(("outcome", "status"), [("succeeded", OrderStatus.PAID), ("failed", OrderStatus.EXPIRED)])
def test_a_delayed_payment_whose_webhook_is_lost_is_settled_by_the_command(
    client, stripe_double, django_capture_on_commit_callbacks, outcome, status
):
    EventFactory(capacity=5)
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id, outcome="async_pending")
    run_release_command()  # before the hold ends: nothing to do
    expire_hold(order)
    run_release_command()
    order.refresh_from_db()
    assert (order.status, order.is_awaiting_async_payment) == (OrderStatus.PENDING, True)
    stripe_double.async_result(order.stripe_checkout_session_id, outcome=outcome)  # its webhook never arrives
    with django_capture_on_commit_callbacks(execute=True):
        run_release_command()
    order.refresh_from_db()
    assert order.status == status


def test_one_order_stripe_refuses_does_not_stop_the_others(client, stripe_double, monkeypatch):
    from tickets.exceptions import PaymentMismatch

    EventFactory(capacity=5)
    first, second = reserve_over_http(client, quantity=1), reserve_over_http(client, quantity=1)
    expire_hold(first)
    expire_hold(second)
    real_release = services.release_order

    def refuse_first(*, order, **kwargs):
        if order.pk == first.pk:
            raise PaymentMismatch("refused")
        return real_release(order=order, **kwargs)

    monkeypatch.setattr(services, "release_order", refuse_first)
    assert "Released 1 expired hold" in run_release_command()
    assert Order.objects.get(pk=second.pk).status == OrderStatus.EXPIRED


def test_a_delayed_payment_that_clears_while_the_command_asks_is_paid_not_released(
    client, stripe_double, monkeypatch, django_capture_on_commit_callbacks
):
    from tickets import payments

    EventFactory(capacity=5)
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id, outcome="async_pending")
    expire_hold(order)
    real_status = payments.payment_intent_status

    def clears_just_now(payment_intent_id):  # between our read of the session and of the payment
        stripe_double.async_result(order.stripe_checkout_session_id, outcome="succeeded")
        return real_status(payment_intent_id)

    monkeypatch.setattr(payments, "payment_intent_status", clears_just_now)
    with django_capture_on_commit_callbacks(execute=True):
        run_release_command()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.tickets.count() == 2


def test_a_refund_we_owe_made_in_stripes_dashboard_settles_it_and_apologises(
    client, stripe_double, monkeypatch, django_capture_on_commit_callbacks
):
    from tickets import payments
    from tickets.exceptions import PaymentError

    order, completed = pay_after_release(client, stripe_double, capacity=2, rival_quantity=2)

    def stripe_down(**kwargs):
        raise PaymentError("Stripe unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(payments, "refund_payment", stripe_down)
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, stripe_double, completed)
    order.refresh_from_db()
    assert (order.status, bool(order.stripe_payment_intent_id)) == (OrderStatus.EXPIRED, True)  # a refund owed
    assert "refunding it in full" in client.get(order.get_absolute_url()).content.decode()
    assert "nothing was charged" not in client.get(order.get_absolute_url()).content.decode()

    payments.client().v1.refunds.create(params={"payment_intent": order.stripe_payment_intent_id})
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "refund.created"))
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert [m for m in mail.outbox if "refunded your payment" in m.body]
    assert "refunded 0" in run_release_command()  # nothing owed any more


def test_an_email_that_keeps_failing_stops_being_retried_after_a_day(client, stripe_double):
    from tickets import emails
    from tickets.models import Email

    EventFactory(capacity=5)
    order = reserve_over_http(client)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID, paid_at=timezone.now())
    email = Email.objects.create(order=order, kind=Email.Kind.CONFIRMATION, attempts=emails.MAX_AUTOMATIC_ATTEMPTS)
    Email.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert emails.send_pending() == (0, 0)
    Email.objects.filter(pk=email.pk).update(attempts=emails.MAX_AUTOMATIC_ATTEMPTS - 1)
    assert emails.send_pending() == (1, 0)
