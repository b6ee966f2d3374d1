"""The Checkout Session we open at Stripe (the double): exactly the order's amount, open as long as the hold."""

import time

import pytest

from tests.factories import EventFactory
from tickets import services
from tickets.models import OrderStatus

pytestmark = pytest.mark.django_db


def reserve_and_start_checkout(event, *, quantity: int, email: str = "ada@example.com"):
    """What the reservation form does once it is valid, without HTTP."""
    order = services.reserve_tickets(event=event, buyer_name="Ada Activist", buyer_email=email, quantity=quantity)
    services.start_checkout(order=order)
    order.refresh_from_db()
    return order


def test_reserving_creates_a_checkout_session_for_exactly_the_order(stripe_double):
    event = EventFactory(capacity=10, ticket_price_pence=500)
    order = reserve_and_start_checkout(event, quantity=3, email="grace@example.com")
    session = stripe_double.session(order.stripe_checkout_session_id)
    assert session["amount_total"] == order.total_pence == 1500
    assert session["currency"] == "gbp"
    assert session["client_reference_id"] == str(order.pk)
    assert session["metadata"]["order_reference"] == order.reference
    assert session["customer_email"] == "grace@example.com"
    # With the hold, but never under Stripe's 30-minute floor (the default hold is exactly 30 minutes).
    assert session["expires_at"] >= int(order.hold_expires_at.timestamp())
    assert 30 * 60 < session["expires_at"] - time.time() <= 32 * 60
    assert session["success_url"].endswith("/tickets/checkout/success/?session_id={CHECKOUT_SESSION_ID}")
    assert order.checkout_url == session["url"]  # kept, to send the buyer back to Checkout while the hold lasts
    assert order.status == OrderStatus.PENDING


def test_the_hold_lasts_as_long_as_stripe_may_take_the_payment(stripe_double):
    order = reserve_and_start_checkout(EventFactory(capacity=5, hold_minutes=30), quantity=2)
    session = stripe_double.session(order.stripe_checkout_session_id)
    assert int(order.hold_expires_at.timestamp()) == session["expires_at"]  # Stripe's floor: 30 min from creation
