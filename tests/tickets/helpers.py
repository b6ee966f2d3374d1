"""Shared steps for the ticket tests: reserve through the real form, and deliver signed webhooks."""

import json

from tickets.models import Order

WEBHOOK = "/stripe/webhook/"


def reserve_over_http(client, *, quantity: int = 2, email: str = "ada@example.com", names: str = "") -> Order:
    """POST the reservation form (as a browser does) and return the new order; the response must redirect."""
    response = client.post(
        "/tickets/",
        {"quantity": quantity, "buyer_name": "Ada Activist", "buyer_email": email, "attendee_names": names},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.latest("pk")
    assert response["Location"].endswith(f"/pay/{order.stripe_checkout_session_id}")
    return order


def deliver(client, double, event: dict, **sign):
    """POST an event to our webhook, signed as Stripe signs it."""
    body, headers = double.signed_payload(event, **sign)
    return client.post(
        WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"]
    )


def last_event(double, type_: str) -> dict:
    return double.events(type_)[-1]


def as_json(event: dict) -> str:
    return json.dumps(event)
