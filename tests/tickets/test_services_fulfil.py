"""fulfil_checkout: a paid Checkout Session makes a paid order once, and a payment that lands after its hold
was released is honoured if seats allow, else given back. Whatever it has done once, it never undoes or redoes."""

import pytest
from django.core import mail

from tests.factories import EventFactory, OrderFactory
from tests.tickets.helpers import deliver, expire_hold, paid_order, pay_after_release, pay_at_stripe, stripe_down
from tickets import payments, services
from tickets.models import Email, Order, OrderStatus

pytestmark = pytest.mark.django_db


def test_a_late_payment_is_honoured_when_seats_are_still_free(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order, completed = pay_after_release(stripe_double, capacity=10, rival_quantity=0)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, completed)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.tickets.count() == 2
    assert "is confirmed" in mail.outbox[0].body


def test_a_late_payment_for_sold_out_seats_is_refunded_with_an_apology(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order, completed = pay_after_release(stripe_double, capacity=2, rival_quantity=2)
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


def test_a_payment_after_the_hold_ran_out_but_before_the_release_never_oversells(
    client, stripe_double, django_capture_on_commit_callbacks
):
    event = EventFactory(capacity=2)
    late = OrderFactory(event=event, quantity=2)
    services.start_checkout(order=late)
    expire_hold(late)  # not released yet: the seats are on sale again
    rival = services.reserve_tickets(event=event, buyer_name="Rival", buyer_email="rival@example.com", quantity=2)
    completed = pay_at_stripe(stripe_double, late)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, completed)
    late.refresh_from_db()
    assert late.status == OrderStatus.REFUNDED
    assert Order.objects.get(pk=rival.pk).status == OrderStatus.PENDING
    assert Order.objects.holding_seats().filter(event=event).count() == 1
    assert services.seats_left(event) == 0


def test_fulfilling_a_refunded_order_again_changes_nothing(stripe_double, django_capture_on_commit_callbacks):
    """Guards against fulfil_checkout's "already done" check narrowed to paid orders: a refunded order whose
    Checkout Session is fulfilled again (a late webhook retry, the success page reloaded) stays refunded, gets
    no new tickets and no second confirmation, and the call raises nothing."""
    with django_capture_on_commit_callbacks(execute=True):
        order = paid_order(stripe_double, event=EventFactory(capacity=10), quantity=2)
        services.refund_order(order_id=order.pk)
    tickets = list(order.tickets.values_list("pk", flat=True))
    assert len(tickets) == 2
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        again = services.fulfil_checkout(session_id=order.stripe_checkout_session_id)

    order.refresh_from_db()
    assert again.status == order.status == OrderStatus.REFUNDED
    assert list(order.tickets.values_list("pk", flat=True)) == tickets
    assert list(order.log.values_list("to_status", flat=True)) == [OrderStatus.PAID, OrderStatus.REFUNDED]
    assert Email.objects.filter(order=order, kind=Email.Kind.CONFIRMATION).count() == 1
    assert mail.outbox == []


@pytest.mark.parametrize("refund", ["owed", "made"])
def test_a_late_payment_given_back_is_not_taken_when_seats_free_up_again(
    stripe_double, monkeypatch, django_capture_on_commit_callbacks, refund
):
    """Guards against fulfil_checkout's "already done" check narrowed to paid orders: a released order whose
    late payment we decided to give back (refund still owed, or made) stays as it is when it is fulfilled again
    after seats have freed up: it is not paid, gets no tickets and no confirmation, and the call raises nothing."""
    order, _ = pay_after_release(stripe_double, capacity=2, rival_quantity=2)
    with monkeypatch.context() as patched:
        if refund == "owed":
            patched.setattr(payments, "refund_payment", stripe_down)
        with django_capture_on_commit_callbacks(execute=True):
            services.fulfil_checkout(session_id=order.stripe_checkout_session_id)  # sold out: given back
    order.refresh_from_db()
    given_back = OrderStatus.EXPIRED if refund == "owed" else OrderStatus.REFUNDED
    assert (order.status, bool(order.stripe_payment_intent_id)) == (given_back, True)
    rival = Order.objects.get(buyer_email="rival@example.com")
    services.release_order(order=rival, status=OrderStatus.CANCELLED, note="the rival cancels")
    assert services.seats_left(order.event) == 2
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        again = services.fulfil_checkout(session_id=order.stripe_checkout_session_id)

    order.refresh_from_db()
    assert again.status == order.status == given_back
    assert not order.tickets.exists()
    assert not Email.objects.filter(order=order, kind=Email.Kind.CONFIRMATION).exists()
    assert [m for m in mail.outbox if "is confirmed" in m.body] == []
    assert services.seats_left(order.event) == 2
