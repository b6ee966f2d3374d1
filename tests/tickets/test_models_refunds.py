"""Refunds in the models: the refunded and remaining money of an order, and the seats a refund gives back."""

import pytest
from django.db import IntegrityError

from tests.factories import EventFactory, OrderFactory, RefundFactory
from tickets.models import Order, OrderStatus, Refund, RefundSource, RefundStatus, Ticket

pytestmark = pytest.mark.django_db


def test_refunded_and_remaining_count_only_money_stripe_gave_back():
    order = OrderFactory(paid=True, quantity=2, event=EventFactory(ticket_price_pence=500))
    RefundFactory(order=order, amount_pence=300)
    RefundFactory(order=order, amount_pence=200, status=RefundStatus.PENDING)  # on its way: counted
    RefundFactory(order=order, amount_pence=500, status=RefundStatus.FAILED, stripe_refund_id="re_failed")
    RefundFactory(order=order, amount_pence=500, status=RefundStatus.REQUESTED, stripe_refund_id="")  # no answer
    assert (order.refunded_pence, order.remaining_pence) == (500, 500)
    assert order.refund_amount_for(2) == 0  # asked-for money is spoken for, too
    assert order.refund_amount_for(1) == 0


def test_an_unpaid_order_has_nothing_remaining():
    assert OrderFactory().remaining_pence == 0


def test_seats_taken_gives_back_the_seats_of_refunded_tickets_of_paid_orders():
    event = EventFactory(capacity=10)
    order = OrderFactory(event=event, paid=True, quantity=3)
    OrderFactory(event=event, quantity=2)  # a live hold
    OrderFactory(event=event, refunded=True, quantity=4)  # refunded in full: holds nothing
    assert Order.objects.seats_taken(event) == 5
    RefundFactory(order=order, tickets=list(order.tickets.all()[:2]))
    assert Order.objects.seats_taken(event) == 3
    assert Ticket.objects.filter(order=order).void().count() == 2


def test_a_stripe_refund_is_recorded_once():
    order = OrderFactory(paid=True)
    RefundFactory(order=order, stripe_refund_id="re_once")
    with pytest.raises(IntegrityError):
        Refund.objects.create(order=order, amount_pence=1, source=RefundSource.DASHBOARD, stripe_refund_id="re_once")


def test_a_refunded_order_from_the_factory_has_its_refund_and_void_tickets():
    order = OrderFactory(refunded=True, quantity=2)
    assert order.status == OrderStatus.REFUNDED
    assert order.refunded_pence == order.total_pence
    assert all(ticket.is_void for ticket in order.tickets.all())
