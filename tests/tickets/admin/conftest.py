"""Who is logged in to the admin, and an event with a paid order to look at."""

import pytest
from django.core import mail

from tests.factories import EventFactory
from tests.tickets.admin.helpers import staff_user
from tests.tickets.helpers import deliver, last_event, reserve_over_http
from tickets.models import OrderStatus


@pytest.fixture
def event(db):
    return EventFactory(capacity=10, ticket_price_pence=500)


@pytest.fixture
def editor(client):
    client.force_login(staff_user("editor", "Programme editors"))


@pytest.fixture
def paid_order(client, stripe_double, event, django_capture_on_commit_callbacks):
    """Two tickets reserved through the form and paid on the Stripe double; the confirmation sent."""
    order = reserve_over_http(client, quantity=2, names="Grace Hopper\nAlan Turing")
    stripe_double.complete(order.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed")).status_code == 200
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(mail.outbox) == 1
    mail.outbox.clear()
    return order
