"""An event's ticket settings stay within what checkout can honour: orders of at most 100, holds Stripe accepts."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Event
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

PER_ORDER = "Allow between 1 and 100 tickets per order."
HOLD = "Hold seats for between 30 and 1440 minutes (24 hours): Stripe Checkout allows no shorter or longer time to pay."


def split(moment) -> tuple[str, str]:
    moment = timezone.localtime(moment)
    return moment.strftime("%d/%m/%Y"), moment.strftime("%H:%M:%S")


def event_form(event: Event, **changes) -> dict:
    data = {
        field: getattr(event, field)
        for field in [
            "name",
            "slug",
            "summary",
            "description",
            "venue",
            "address",
            "capacity",
            "per_order_limit",
            "hold_minutes",
        ]
    }
    pence = event.ticket_price_pence
    data["ticket_price"] = f"{pence // 100}.{pence % 100:02d}"  # typed in pounds (tickets.admin.events.PoundsField)
    for field in ["starts_at", "ends_at", "sales_open_at", "sales_close_at"]:
        data[f"{field}_0"], data[f"{field}_1"] = split(getattr(event, field))
    return {**data, **changes}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("per_order_limit", 0, PER_ORDER),
        ("per_order_limit", 101, PER_ORDER),
        ("hold_minutes", 29, HOLD),
        ("hold_minutes", 1441, HOLD),
    ],
)
def test_full_clean_refuses_ticket_settings_checkout_cannot_honour(field, value, message):
    event = EventFactory.build(**{field: value})
    with pytest.raises(ValidationError) as refused:
        event.full_clean()
    assert refused.value.message_dict[field] == [message]


def test_the_limits_themselves_are_allowed():
    for per_order_limit, hold_minutes in [(1, 30), (100, 1440)]:
        EventFactory.build(per_order_limit=per_order_limit, hold_minutes=hold_minutes).full_clean()


@pytest.mark.parametrize(("field", "value"), [("per_order_limit", 101), ("hold_minutes", 1441)])
def test_the_database_refuses_them_too(field, value):
    event = EventFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(**{field: value})


@pytest.mark.parametrize(
    ("field", "value", "message"), [("per_order_limit", 150, PER_ORDER), ("hold_minutes", 2000, HOLD)]
)
def test_the_admin_form_says_what_is_allowed(client, organiser, field, value, message):
    event = EventFactory()
    url = f"/admin/events/event/{event.pk}/change/"
    response = client.post(url, event_form(event, **{field: value}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [message]}
    assert message in response.content.decode()
    event.refresh_from_db()
    assert getattr(event, field) != value
    assert client.post(url, event_form(event, per_order_limit=100, hold_minutes=1440)).status_code == 302
    event.refresh_from_db()
    assert (event.per_order_limit, event.hold_minutes) == (100, 1440)


PRICE = (
    "Enter 0 for free tickets, or a price in pence from 30 (30p, Stripe's smallest payment in pounds) to 999999 "
    "(£9,999.99, so that 100 tickets stay within Stripe's largest)."
)
CAPACITY = "An event needs at least 1 seat."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ticket_price_pence", 1, PRICE),
        ("ticket_price_pence", 10, PRICE),
        ("ticket_price_pence", 29, PRICE),
        ("ticket_price_pence", 1_000_000, PRICE),
        ("capacity", 0, CAPACITY),
    ],
)
def test_full_clean_refuses_prices_stripe_cannot_charge_and_an_event_without_seats(field, value, message):
    event = EventFactory.build(**{field: value})
    with pytest.raises(ValidationError) as refused:
        event.full_clean()
    assert refused.value.message_dict[field] == [message]


@pytest.mark.parametrize("price", [0, 30, 500, 999_999])
def test_free_and_chargeable_prices_are_allowed(price):
    EventFactory.build(ticket_price_pence=price, capacity=1).full_clean()


@pytest.mark.parametrize(
    ("field", "value"), [("ticket_price_pence", 10), ("ticket_price_pence", 10**6), ("capacity", 0)]
)
def test_the_database_refuses_such_prices_and_capacities_too(field, value):
    event = EventFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(**{field: value})


PRICE_IN_POUNDS = (
    "Enter 0 for free tickets, or a price from £0.30 (Stripe's smallest payment) to £9,999.99 "
    "(so that 100 tickets stay within Stripe's largest)."
)


@pytest.mark.parametrize(
    ("field", "value", "message"), [("ticket_price", "0.10", PRICE_IN_POUNDS), ("capacity", 0, CAPACITY)]
)
def test_the_admin_refuses_a_price_below_stripes_minimum_and_no_seats_with_a_clear_message(
    client, organiser, field, value, message
):
    event = EventFactory(ticket_price_pence=500, capacity=400)
    url = f"/admin/events/event/{event.pk}/change/"
    response = client.post(url, event_form(event, **{field: value}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [message]}
    assert message.replace("'", "&#x27;") in response.content.decode()
    event.refresh_from_db()
    assert (event.ticket_price_pence, event.capacity) == (500, 400)
    assert client.post(url, event_form(event, ticket_price="0", capacity=1)).status_code == 302
    event.refresh_from_db()
    assert (event.ticket_price_pence, event.capacity) == (0, 1)
