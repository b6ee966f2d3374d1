"""What an order is born with, and who its tickets are for."""

import pytest

from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_order_secret_has_at_least_128_bits_and_reference_is_short():
    order = OrderFactory()
    assert len(order.secret) >= 43  # token_urlsafe(32): 256 bits
    assert order.reference.startswith("NR-")
    assert len(order.reference) == 9
    assert str(order.pk) not in order.get_absolute_url().split("/")[3]


def test_attendee_names_default_to_the_buyer():
    order = OrderFactory(quantity=3, attendee_names=["Grace"])
    assert order.names_for_tickets() == ["Grace", "Ada Activist", "Ada Activist"]
