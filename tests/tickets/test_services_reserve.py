"""Capacity and the sales window: the rules of reserve_tickets and seats_left, tested directly."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import EventFactory, OrderFactory
from tickets import services
from tickets.exceptions import SalesClosed, SoldOut
from tickets.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


def reserve(event, quantity=1, **kwargs):
    return services.reserve_tickets(
        event=event, buyer_name="Ada Activist", buyer_email="ada@example.com", quantity=quantity, **kwargs
    )


def test_a_reservation_holds_seats_at_the_price_in_force():
    event = EventFactory(capacity=10, ticket_price_pence=500, hold_minutes=30)
    order = reserve(event, 3)
    assert order.status == OrderStatus.PENDING
    assert (order.unit_price_pence, order.total_pence) == (500, 1500)
    assert order.hold_expires_at - timezone.now() > timedelta(minutes=29)
    assert services.seats_left(event) == 7


def test_reserve_refuses_when_sold_out():
    event = EventFactory(capacity=2)
    reserve(event, 2)
    with pytest.raises(SoldOut, match="sold out"):
        reserve(event, 1)


def test_reserve_refuses_more_than_are_left_and_says_how_many():
    event = EventFactory(capacity=3)
    reserve(event, 2)
    with pytest.raises(SoldOut, match="only 1 ticket left"):
        reserve(event, 2)


def test_expired_holds_do_not_count():
    event = EventFactory(capacity=2)
    OrderFactory(event=event, quantity=2, hold_expired=True)
    assert services.seats_left(event) == 2
    reserve(event, 2)


def test_paid_orders_count_and_released_ones_do_not():
    event = EventFactory(capacity=5)
    OrderFactory(event=event, quantity=2, paid=True)
    OrderFactory(event=event, quantity=2, cancelled=True)
    assert services.seats_left(event) == 3


@pytest.mark.parametrize("quantity", [0, -1, 11, 10**9])
def test_reserve_refuses_quantities_outside_the_per_order_limit(quantity):
    event = EventFactory(per_order_limit=10)
    with pytest.raises(SoldOut, match="between 1 and 10"):
        reserve(event, quantity)
    assert not Order.objects.exists()


def test_sales_not_yet_open():
    event = EventFactory(sales_open_at=timezone.now() + timedelta(days=2))
    with pytest.raises(SalesClosed, match="go on sale on"):
        reserve(event)


def test_sales_closed():
    event = EventFactory(
        sales_close_at=timezone.now() - timedelta(minutes=1), sales_open_at=timezone.now() - timedelta(days=9)
    )
    with pytest.raises(SalesClosed, match="closed"):
        reserve(event)
