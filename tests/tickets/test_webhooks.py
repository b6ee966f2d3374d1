"""The Stripe webhook: signed or nothing (a webhook that fails verification gets 400 and changes nothing), each
event recorded once, and every event type we handle dispatched, whatever the order and however often it comes."""

import json
import time

import pytest
from django.core import mail

from tests.factories import EventFactory, OrderFactory
from tests.tickets.helpers import WEBHOOK, deliver, last_event, pay_at_stripe, reserve_over_http
from tickets import payments, services
from tickets.models import Order, OrderStatus, StripeEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(db):
    return EventFactory(capacity=10, ticket_price_pence=500)


@pytest.fixture
def paid_event(stripe_double, event):
    """An order paid at Stripe whose checkout.session.completed event has not been delivered yet."""
    order = OrderFactory(event=event, quantity=2)
    return order, pay_at_stripe(stripe_double, order)


def assert_nothing_changed(order):
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not StripeEvent.objects.exists()


# --- signed or nothing ---


def test_a_correctly_signed_event_is_accepted(client, stripe_double, paid_event):
    order, event = paid_event
    assert deliver(client, stripe_double, event).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_unsigned(client, paid_event):
    order, event = paid_event
    assert client.post(WEBHOOK, data=json.dumps(event), content_type="application/json").status_code == 400
    assert_nothing_changed(order)


def test_signed_with_the_wrong_secret(client, stripe_double, paid_event):
    order, event = paid_event
    assert deliver(client, stripe_double, event, secret="whsec_wrong").status_code == 400
    assert_nothing_changed(order)


def test_stale_timestamp(client, stripe_double, paid_event):
    order, event = paid_event
    assert deliver(client, stripe_double, event, timestamp=int(time.time()) - 301).status_code == 400
    assert_nothing_changed(order)


def test_tampered_body(client, stripe_double, paid_event):
    order, event = paid_event
    body, headers = stripe_double.signed_payload(event)
    tampered = body.replace(b'"paid"', b'"PAID"', 1) if b'"paid"' in body else body + b" "
    response = client.post(
        WEBHOOK, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"]
    )
    assert response.status_code == 400
    assert_nothing_changed(order)


def test_signed_but_not_json(client, stripe_double, paid_event):
    order, _ = paid_event
    body = b"this is not json"
    timestamp = int(time.time())
    import hashlib
    import hmac

    signature = hmac.new(stripe_double.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    header = f"t={timestamp},v1={signature.hexdigest()}"
    response = client.post(WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400
    assert_nothing_changed(order)


def test_oversized(client, stripe_double, paid_event):
    order, event = paid_event
    huge = {**event, "padding": "x" * 100_000}
    assert deliver(client, stripe_double, huge).status_code == 400
    assert_nothing_changed(order)


def test_a_webhook_with_a_non_numeric_content_length_is_a_bad_request(client, db):
    response = client.post(WEBHOOK, data=b"{}", content_type="application/json", CONTENT_LENGTH="lots")
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_get_is_not_allowed(client):
    assert client.get(WEBHOOK).status_code == 405


# --- each event once, each type dispatched ---


def test_each_event_is_recorded_once(client, stripe_double, paid_event):
    _, event = paid_event
    deliver(client, stripe_double, event)
    response = deliver(client, stripe_double, event)
    assert response.content == b"duplicate"
    assert StripeEvent.objects.filter(stripe_event_id=event["id"]).count() == 1


def test_paid_exactly_once_despite_duplicate_late_and_out_of_order_events(
    client, stripe_double, event, django_capture_on_commit_callbacks
):
    order = reserve_over_http(client, quantity=2)  # this browser's order: its success page shows it
    stripe_double.complete(order.stripe_checkout_session_id, outcome="paid")
    completed = last_event(stripe_double, "checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        success = client.get("/tickets/checkout/success/", {"session_id": order.stripe_checkout_session_id})
        assert deliver(client, stripe_double, completed).status_code == 200
        assert deliver(client, stripe_double, completed).status_code == 200  # a retry of the same event
        late = {**completed, "id": "evt_late_expired", "type": "checkout.session.expired"}
        assert deliver(client, stripe_double, late).status_code == 200
    order.refresh_from_db()
    assert success.status_code == 302
    assert success["Location"] == order.get_absolute_url()
    assert order.status == OrderStatus.PAID
    assert order.tickets.count() == 2
    assert len(mail.outbox) == 1
    assert list(order.log.values_list("to_status", flat=True)) == [OrderStatus.PAID]
    assert StripeEvent.objects.get(stripe_event_id=completed["id"]).outcome == "order paid"


def test_async_payment_pending_then_succeeded(client, stripe_double, event, django_capture_on_commit_callbacks):
    order = OrderFactory(event=event, quantity=2)
    completed = pay_at_stripe(stripe_double, order, outcome="async_pending")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, completed)
        order.refresh_from_db()
        assert (order.status, order.is_awaiting_async_payment) == (OrderStatus.PENDING, True)
        stripe_double.async_result(order.stripe_checkout_session_id, outcome="succeeded")
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.async_payment_succeeded"))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(mail.outbox) == 1


def test_async_events_in_reverse_order_still_pay_once(client, stripe_double, event, django_capture_on_commit_callbacks):
    order = OrderFactory(event=event, quantity=2)
    completed = pay_at_stripe(stripe_double, order, outcome="async_pending")
    stripe_double.async_result(order.stripe_checkout_session_id, outcome="succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.async_payment_succeeded"))
        deliver(client, stripe_double, completed)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(mail.outbox) == 1


def test_async_payment_failed_releases_the_seats(client, stripe_double, event):
    order = OrderFactory(event=event, quantity=4)
    pay_at_stripe(stripe_double, order, outcome="async_pending")
    stripe_double.async_result(order.stripe_checkout_session_id, outcome="failed")
    deliver(client, stripe_double, last_event(stripe_double, "checkout.session.async_payment_failed"))
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert Order.objects.seats_taken(event) == 0


def test_expired_event_never_unpays_a_paid_order(client, stripe_double, paid_event, django_capture_on_commit_callbacks):
    order, completed = paid_event
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, completed)
    deliver(client, stripe_double, {**completed, "id": "evt_x", "type": "checkout.session.expired"})
    deliver(client, stripe_double, {**completed, "id": "evt_y", "type": "checkout.session.async_payment_failed"})
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_an_amount_mismatch_is_refused_refunded_and_logged(
    client, stripe_double, event, caplog, django_capture_on_commit_callbacks
):
    order = OrderFactory(event=event, quantity=2)
    cheaper = Order(pk=order.pk, reference="NR-OTHER1", event=event, buyer_email=order.buyer_email, quantity=1,
                    unit_price_pence=100, total_pence=100, hold_expires_at=order.hold_expires_at)  # fmt: skip
    session = payments.create_checkout_session(cheaper, success_url="http://testserver/s/", cancel_url="http://x/")
    Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id=session.id)
    stripe_double.complete(session.id)
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
    order.refresh_from_db()
    assert response.status_code == 200
    assert "does not match" in StripeEvent.objects.get().outcome
    assert "Refusing" in caplog.text
    # The money is never kept: the order is released and the whole payment (£1, not the order's £10) refunded.
    assert order.status == OrderStatus.REFUNDED
    assert order.tickets.count() == 0
    (refund,) = stripe_double.events("refund.created")
    assert refund["data"]["object"]["amount"] == 100
    assert refund["data"]["object"]["payment_intent"] == order.stripe_payment_intent_id
    [apology] = [message for message in mail.outbox if message.to == ["ada@example.com"]]
    assert "couldn’t honour your payment" in apology.body


def test_other_event_types_get_200_and_change_nothing(client, stripe_double, event):
    order = OrderFactory(event=event, quantity=2)
    services.start_checkout(order=order)
    fake = (
        {**stripe_double.events()[0], "id": "evt_other", "type": "customer.created"} if stripe_double.events() else None
    )
    fake = fake or {"id": "evt_other", "object": "event", "type": "customer.created", "data": {"object": {}}}
    response = deliver(client, stripe_double, fake)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert StripeEvent.objects.get().outcome == "ignored"


# --- signed but malformed: a 400 and nothing recorded, never a 500 ---


def _without_object(event: dict) -> dict:
    return {**event, "data": {key: value for key, value in event["data"].items() if key != "object"}}


def _with_object(event: dict, obj) -> dict:
    return {**event, "data": {**event["data"], "object": obj}}


def _with_session_id(event: dict, session_id) -> dict:
    return _with_object(event, {**event["data"]["object"], "id": session_id})


MALFORMED = {
    "no data.object": _without_object,
    "no data": lambda e: {key: value for key, value in e.items() if key != "data"},
    "data is a list": lambda e: {**e, "data": [e["data"]]},
    "object is a list": lambda e: _with_object(e, [e["data"]["object"]]),
    "object is a string": lambda e: _with_object(e, "cs_test_123"),
    "object is null": lambda e: _with_object(e, None),
    "object is a number": lambda e: _with_object(e, 5),
    "session id is a number": lambda e: _with_session_id(e, 5),
    "session id is null": lambda e: _with_session_id(e, None),
    "session id is a dict": lambda e: _with_session_id(e, {"id": "cs_x"}),
    "session id has a NUL byte": lambda e: _with_session_id(e, "cs_test\x00x"),
    "session id is a lone surrogate": lambda e: _with_session_id(e, "cs_\ud800"),
    "no event id": lambda e: {key: value for key, value in e.items() if key != "id"},
    "event id is a number": lambda e: {**e, "id": 5},
    "event id has a NUL byte": lambda e: {**e, "id": "evt_\x00"},
    "no type": lambda e: {key: value for key, value in e.items() if key != "type"},
    "type is a list": lambda e: {**e, "type": ["checkout.session.completed"]},
    "type has a NUL byte": lambda e: {**e, "type": "checkout.session.completed\x00"},
    "a list, not an event": lambda e: [e],
    "a number, not an event": lambda e: 5,
    "null": lambda e: None,
}


@pytest.mark.parametrize("malformed", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_but_malformed_event_is_a_bad_request_and_changes_nothing(
    client, stripe_double, paid_event, malformed
):
    order, event = paid_event
    response = deliver(client, stripe_double, malformed(event))
    assert response.status_code == 400
    assert_nothing_changed(order)
    assert deliver(client, stripe_double, event).status_code == 200  # the real one still works afterwards
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
