"""The sales summary (tickets.reports), in figures and on the order list."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import EventFactory, RefundFactory
from tests.tickets.admin.helpers import ORDERS
from tests.tickets.helpers import deliver, last_event, make_order, paid_order
from tickets import payments, reports, services
from tickets.models import Order, OrderStatus, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(db):
    return EventFactory(capacity=20, ticket_price_pence=550)


def figures(body: str) -> dict[str, str]:
    found = dict(re.findall(r'data-figure="([a-z-]+)">(.*?)</dd>', body, re.S))
    return {name: " ".join(re.sub(r"<[^>]+>", " ", value).split()) for name, value in found.items()}


@pytest.fixture
def sales(event):
    """Capacity 20 at £5.50: 5 sold, 4 held, 1 lapsed hold, 2 refunded, 1 checked in."""
    now = timezone.now()
    first = make_order(event, "A", "B")
    make_order(event, "C", "D", "E")
    make_order(event, "F", "G", "H", "I", status=OrderStatus.PENDING, hold_expires_at=now + timedelta(minutes=10))
    make_order(event, "J", status=OrderStatus.PENDING, hold_expires_at=now - timedelta(minutes=1))
    make_order(event, "K", "L", status=OrderStatus.REFUNDED)
    make_order(event, "M", status=OrderStatus.CANCELLED)
    Ticket.objects.filter(pk=first.tickets.first().pk).update(checked_in_at=now)
    refunded_in = Ticket.objects.filter(order__status=OrderStatus.REFUNDED).first()
    Ticket.objects.filter(pk=refunded_in.pk).update(checked_in_at=now)  # not counted: the order is refunded
    return event


def test_the_order_list_shows_the_sales_summary(client, organiser, sales):
    body = client.get(ORDERS).content.decode()
    assert figures(body) == {
        "sold": "5",
        "held": "4",
        "left": "11 of 20",
        "revenue": "£27.50",
        "refunded": "2 (£11)",
        "checked-in": "1 of 5",
        "failed-emails": "0",
    }


def test_the_summary_never_shows_fewer_than_zero_left(client, organiser):
    event = EventFactory(capacity=2)
    make_order(event, "A", "B", "C")  # e.g. capacity lowered after sales
    assert figures(client.get(ORDERS).content.decode())["left"] == "0 of 2"


def test_the_summary_counts_a_delayed_payment_as_held_as_seats_left_does(event):
    past = timezone.now() - timedelta(minutes=1)
    lapsed = make_order(event, "N", "O", status=OrderStatus.PENDING, hold_expires_at=past)
    Order.objects.filter(pk=lapsed.pk).update(is_awaiting_async_payment=True)  # a bank payment on its way
    [summary] = reports.sales_summary()
    assert summary.held == 2
    assert summary.left == services.seats_left(event)


def test_the_summary_is_one_query(sales, django_assert_num_queries):
    with django_assert_num_queries(1):
        [summary] = reports.sales_summary()
    assert (summary.sold, summary.held, summary.left, summary.revenue_pence) == (5, 4, 11, 2750)
    assert (summary.refunded, summary.refunded_pence, summary.checked_in) == (2, 1100, 1)


def test_the_order_list_costs_the_same_queries_with_more_orders(client, organiser, event):
    make_order(event)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(ORDERS).status_code == 200
        return len(queries)

    few = count()
    for n in range(10):
        make_order(event, f"Person {n}", status=[OrderStatus.PAID, OrderStatus.REFUNDED][n % 2])
    make_order(EventFactory(), "Another Event")
    assert count() == few


def test_revenue_is_net_of_partial_refunds_and_refunded_seats_are_left_again(
    client, organiser, stripe_double, django_capture_on_commit_callbacks
):
    event = EventFactory(capacity=10, ticket_price_pence=500)
    order = paid_order(stripe_double, event=event, quantity=3)
    with django_capture_on_commit_callbacks() as commit:
        services.refund_order(order_id=order.pk, ticket_ids=[order.tickets.first().pk])
    [asked] = reports.sales_summary()  # requested, not made yet: the money and the seat are still the buyer's
    assert (asked.sold, asked.left, asked.revenue_pence, asked.refunded_pence) == (3, 7, 1500, 0)
    assert asked.left == services.seats_left(event)
    with django_capture_on_commit_callbacks(execute=True):
        for enqueue in commit:  # the commit: its process_refund task runs
            enqueue()
    [summary] = reports.sales_summary()
    assert (summary.sold, summary.left, summary.revenue_pence) == (2, 8, 1000)
    assert (summary.refunded, summary.refunded_pence) == (1, 500)
    assert summary.left == services.seats_left(event)
    assert figures(client.get(ORDERS).content.decode())["revenue"] == "£10"


def test_a_partial_refund_covering_no_ticket_still_comes_off_revenue(client, stripe_double):
    event = EventFactory(capacity=10, ticket_price_pence=500)
    order = paid_order(stripe_double, event=event, quantity=2)
    payments.client().v1.refunds.create(params={"payment_intent": order.stripe_payment_intent_id, "amount": 150})
    deliver(client, stripe_double, last_event(stripe_double, "refund.created"))
    [summary] = reports.sales_summary()
    assert (summary.sold, summary.revenue_pence, summary.refunded_pence) == (2, 850, 150)


def test_a_checked_in_ticket_refunded_afterwards_is_not_counted_as_checked_in(
    stripe_double, django_capture_on_commit_callbacks
):
    event = EventFactory(capacity=10, ticket_price_pence=500)
    order = paid_order(stripe_double, event=event, quantity=2)
    used = order.tickets.first()
    Ticket.objects.filter(pk=used.pk).update(checked_in_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk, ticket_ids=[used.pk])
    [summary] = reports.sales_summary()
    assert (summary.sold, summary.checked_in) == (1, 0)


@pytest.mark.parametrize("page", ["list", "summary"])
def test_the_order_list_and_the_summary_cost_the_same_queries_for_5_and_50_orders(client, organiser, event, page):
    def fill(n: int) -> None:
        for i in range(n):
            order = make_order(event, f"P{i}", f"Q{i}", status=[OrderStatus.PAID, OrderStatus.REFUNDED][i % 2])
            RefundFactory(order=order, tickets=[order.tickets.first()])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            if page == "list":
                assert client.get(ORDERS).status_code == 200
            else:
                reports.sales_summary()
        return len(queries)

    fill(5)
    five = count()
    fill(45)
    assert count() == five
