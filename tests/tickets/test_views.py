"""The reservation form, booking page and find-my-booking: clear answers to bad input, nothing half-written."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.factories import EventFactory
from tests.tickets.helpers import reserve_over_http
from tickets.models import Order, OrderStatus, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(db):
    return EventFactory(capacity=10, per_order_limit=10)


def post_form(client, **overrides):
    data = {"quantity": "2", "buyer_name": "Ada Activist", "buyer_email": "ada@example.com", "attendee_names": ""}
    return client.post("/tickets/", {**data, **overrides})


def test_the_form_shows_price_and_seats_left(client, event):
    body = client.get("/tickets/").content.decode()
    assert "£5 a ticket" in body
    assert "10 tickets left" in body
    assert 'name="buyer_email"' in body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"quantity": "0"}, "Choose between 1 and 10 tickets."),
        ({"quantity": "-1"}, "Choose between 1 and 10 tickets."),
        ({"quantity": "11"}, "Choose between 1 and 10 tickets."),
        ({"quantity": "two"}, "Choose between 1 and 10 tickets."),
        ({"quantity": "9" * 400}, "Choose between 1 and 10 tickets."),
        ({"quantity": ""}, "This field is required."),
        ({"buyer_email": ""}, "This field is required."),
        ({"buyer_email": "not-an-email"}, "Enter a valid email address."),
        ({"buyer_name": "   "}, "This field is required."),
        ({"buyer_name": "x" * 101}, "at most 100 characters"),
        ({"attendee_names": "y" * 101}, "Each name can be at most 100 characters."),
        ({"attendee_names": "A\nB\nC"}, "You gave 3 names for 2 tickets."),
    ],
)
def test_bad_input_gets_a_clear_message_and_no_order(client, stripe_double, event, overrides, message):
    response = post_form(client, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Order.objects.exists()


def test_a_missing_csrf_token_is_refused(stripe_double, event):
    strict = Client(enforce_csrf_checks=True)
    response = post_form(strict)
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_sold_out_shows_a_message_instead_of_the_form(client, event):
    Order.objects.create(event=event, buyer_name="A", buyer_email="a@example.com", quantity=10, unit_price_pence=500,
                         total_pence=5000, status=OrderStatus.PAID, paid_at=timezone.now(),
                         hold_expires_at=timezone.now())  # fmt: skip
    body = client.get("/tickets/").content.decode()
    assert "Sold out" in body
    assert 'name="buyer_email"' not in body


def test_posting_when_sold_out_says_so(client, stripe_double, event):
    post_form(client, quantity="8")
    response = post_form(client, quantity="3")
    assert response.status_code == 409
    assert "only 2 tickets left" in response.content.decode()
    assert Order.objects.count() == 1


def test_sales_not_open_and_closed_show_a_message(client):
    event = EventFactory(sales_open_at=timezone.now() + timezone.timedelta(days=1))
    assert "Tickets go on sale on" in client.get("/tickets/").content.decode()
    event.sales_open_at = timezone.now() - timezone.timedelta(days=9)
    event.sales_close_at = timezone.now() - timezone.timedelta(days=1)
    event.save()
    assert "Ticket sales have closed." in client.get("/tickets/").content.decode()


def test_reservations_are_rate_limited_per_address(client, stripe_double, event, settings):
    settings.RESERVATION_RATE_LIMIT = "2/m"
    assert post_form(client, quantity="1").status_code == 302
    assert post_form(client, quantity="1").status_code == 302
    response = post_form(client, quantity="1")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert Order.objects.count() == 2


def test_stripe_being_down_releases_the_hold_and_says_so(client, event, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    response = post_form(client)
    assert response.status_code == 409
    assert "start the payment just now. Nothing was charged" in response.content.decode()
    assert Order.objects.get().status == OrderStatus.CANCELLED


def test_booking_page_needs_the_right_secret(client, stripe_double, event):
    order = reserve_over_http(client)
    assert client.get(f"/tickets/order/{order.reference}/{order.secret}/").status_code == 200
    wrong = order.secret[:-1] + ("A" if order.secret[-1] != "A" else "B")
    for url in [
        f"/tickets/order/{order.reference}/{wrong}/",
        f"/tickets/order/{order.reference}/x/",
        f"/tickets/order/NR-NOPE00/{order.secret}/",
        f"/tickets/order/{order.reference}/{wrong}/cancel/",
        f"/tickets/order/{order.reference}/{wrong}/calendar.ics",
    ]:
        assert Client().get(url).status_code == 404, url
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_paid_booking_page_shows_each_ticket_with_a_qr_code(client, event):
    order = Order.objects.create(event=event, buyer_name="Ada", buyer_email="a@example.com", quantity=2,
                                 unit_price_pence=500, total_pence=1000, status=OrderStatus.PAID,
                                 paid_at=timezone.now(), hold_expires_at=timezone.now())  # fmt: skip
    Ticket.objects.create(order=order, attendee_name="Grace")
    Ticket.objects.create(order=order, attendee_name="Alan")
    response = client.get(order.get_absolute_url())
    body = response.content.decode()
    assert body.count("<svg") == 2
    assert "Grace" in body
    assert "Alan" in body
    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    calendar = client.get(f"/tickets/order/{order.reference}/{order.secret}/calendar.ics")
    assert b"BEGIN:VEVENT" in calendar.content


def without_csrf_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_find_booking_answers_the_same_either_way_and_emails_only_real_bookings(client, stripe_double, event):
    order = reserve_over_http(client, email="known@example.com")
    known = client.post("/tickets/find/", {"email": "known@example.com"}, follow=True)
    unknown = client.post("/tickets/find/", {"email": "stranger@example.com"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert without_csrf_token(known).replace("known", "X") == without_csrf_token(unknown).replace("stranger", "X")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["known@example.com"]
    assert order.get_absolute_url() in mail.outbox[0].body


def test_find_booking_is_rate_limited(client, event, settings):
    settings.FIND_BOOKING_RATE_LIMIT = "1/m"
    client.post("/tickets/find/", {"email": "a@example.com"})
    response = client.post("/tickets/find/", {"email": "a@example.com"})
    assert response.status_code == 429
