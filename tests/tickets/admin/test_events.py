"""The event's admin page refuses a capacity below the seats sold plus held, naming both (the race with buyers is in
tests/tickets/test_concurrency.py). Other ticket settings change only orders made after the edit."""

import pytest
from django.contrib import admin

from events.models import Event
from tests.events.test_event_limits import event_form
from tests.factories import EventFactory, OrderFactory
from tickets import services
from tickets.admin.events import EventAdmin, EventTicketsForm
from tickets.models import Order

pytestmark = pytest.mark.django_db


def url(event: Event) -> str:
    return f"/admin/events/event/{event.pk}/change/"


@pytest.fixture
def event(db):
    """46 seats sold, 14 held by 7 unpaid bookings (the issue's case), and bookings that hold nothing."""
    event = EventFactory(capacity=100)
    OrderFactory(event=event, quantity=40, paid=True, tickets=False)
    OrderFactory(event=event, quantity=6, paid=True, tickets=False)
    OrderFactory.create_batch(7, event=event, quantity=2)
    OrderFactory(event=event, quantity=9, hold_expired=True)
    OrderFactory(event=event, quantity=9, cancelled=True)
    return event


def test_the_event_page_is_the_ticket_desks(client, organiser):
    assert type(admin.site._registry[Event]) is EventAdmin
    assert isinstance(client.get(url(EventFactory())).context["adminform"].form, EventTicketsForm)


def test_capacity_below_sold_plus_held_is_refused_naming_both(client, organiser, event):
    response = client.post(url(event), event_form(event, capacity=46))
    assert response.status_code == 200
    message = (
        "At least 60: 46 seats are sold and 14 are held by unpaid bookings right now. "
        "Held seats come back when their bookings expire or are cancelled."
    )
    assert response.context["adminform"].form.errors == {"capacity": [message]}
    assert message in response.content.decode()
    event.refresh_from_db()
    assert event.capacity == 100


def test_capacity_down_to_sold_plus_held_is_allowed(client, organiser, event):
    assert client.post(url(event), event_form(event, capacity=60)).status_code == 302
    event.refresh_from_db()
    assert event.capacity == 60
    assert services.seats_left(event) == 0


def test_one_seat_each_is_said_in_the_singular(client, organiser):
    event = EventFactory(capacity=10)
    OrderFactory(event=event, quantity=1, paid=True)
    OrderFactory(event=event, quantity=1)
    response = client.post(url(event), event_form(event, capacity=1))
    assert (
        response.context["adminform"]
        .form.errors["capacity"][0]
        .startswith("At least 2: 1 seat is sold and 1 is held by unpaid bookings right now.")
    )


def test_a_new_price_or_limit_leaves_existing_orders_costing_what_they_did(client, organiser, event):
    before = list(Order.objects.order_by("pk").values_list("quantity", "unit_price_pence", "total_pence"))
    assert client.post(url(event), event_form(event, ticket_price="9.00", per_order_limit=1)).status_code == 302
    assert list(Order.objects.order_by("pk").values_list("quantity", "unit_price_pence", "total_pence")) == before
    order = services.reserve_tickets(event=event, buyer_name="Ada", buyer_email="ada@example.com", quantity=1)
    assert (order.unit_price_pence, order.total_pence) == (900, 900)


def test_an_event_with_orders_cannot_be_deleted(client, organiser, event):
    response = client.post(f"/admin/events/event/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200
    assert "<title>Cannot delete event" in response.content.decode()
    assert Event.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_form_refuses_to_count_outside_a_transaction(event):
    form = EventTicketsForm(event_form(event, capacity=60), instance=event)
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        form.is_valid()
