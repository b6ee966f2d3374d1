"""Signed or nothing: a webhook that fails verification gets 400 and changes nothing."""

import json
import time

import pytest

from tests.factories import EventFactory
from tests.tickets.helpers import WEBHOOK, deliver, last_event, reserve_over_http
from tickets.models import OrderStatus, StripeEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_event(client, stripe_double):
    """An order paid at Stripe whose checkout.session.completed event has not been delivered yet."""
    EventFactory(capacity=10)
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)
    return order, last_event(stripe_double, "checkout.session.completed")


def assert_nothing_changed(order):
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not StripeEvent.objects.exists()


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


def test_get_is_not_allowed(client):
    assert client.get(WEBHOOK).status_code == 405


def test_each_event_is_recorded_once(client, stripe_double, paid_event):
    _, event = paid_event
    deliver(client, stripe_double, event)
    response = deliver(client, stripe_double, event)
    assert response.content == b"duplicate"
    assert StripeEvent.objects.filter(stripe_event_id=event["id"]).count() == 1
