"""One sales state everywhere: the home page, every session page and the ticket form say the same one of on sale,
few left, sold out, not yet open and closed (tickets.services.sales_state), offer a booking button only when the
form takes bookings, and change at once when orders or the clock change it, cached or not."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import EventFactory, OrderFactory, SessionFactory
from tests.tickets.helpers import deliver, reserve_over_http
from tickets import services
from tickets.models import OrderStatus
from tickets.services import FEW_LEFT, SalesStatus

pytestmark = pytest.mark.django_db

HOLD_LEFT = timedelta(seconds=1.5)  # long enough for a page to be cached, and hit, before it changes by itself
BOOK = re.compile(r'<a class="btn[^"]*" href="/tickets/">')  # a button to the ticket form


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def states(body: str) -> set[str]:
    return set(re.findall(r'data-sales-state="([a-z-]+)"', body))


def make_event(state: str):
    now = timezone.now()
    event = EventFactory(capacity=FEW_LEFT * 3)
    if state == SalesStatus.FEW_LEFT:
        OrderFactory(event=event, quantity=FEW_LEFT * 2, paid=True)
    elif state == SalesStatus.SOLD_OUT:
        OrderFactory(event=event, quantity=FEW_LEFT * 3, paid=True)
    elif state == SalesStatus.NOT_YET_OPEN:
        event.sales_open_at = now + timedelta(days=2)
    elif state == SalesStatus.CLOSED:
        event.sales_open_at, event.sales_close_at = now - timedelta(days=9), now - timedelta(minutes=1)
    event.save()
    return event


@pytest.mark.parametrize(
    ("state", "figure", "sentence"),
    [
        (SalesStatus.ON_SALE, f"{FEW_LEFT * 3} left", f"{FEW_LEFT * 3} tickets left."),
        (SalesStatus.FEW_LEFT, f"Only {FEW_LEFT} left", f"Only {FEW_LEFT} tickets left."),
        (SalesStatus.SOLD_OUT, "Sold out", "Every ticket has been reserved."),
        (SalesStatus.NOT_YET_OPEN, "Not on sale yet", "Tickets go on sale on"),
        (SalesStatus.CLOSED, "Closed", "Ticket sales have closed."),
    ],
)
def test_home_session_and_ticket_form_agree_and_offer_booking_only_when_it_works(client, state, figure, sentence):
    event = make_event(state)
    session = SessionFactory(event=event)
    home, session_page, form = get(client, "/"), get(client, session.get_absolute_url()), get(client, "/tickets/")
    bookable = state in (SalesStatus.ON_SALE, SalesStatus.FEW_LEFT)
    for body in (home, session_page, form):
        assert states(body) == {state.value}
    for body in (home, session_page):
        assert bool(BOOK.search(body)) is bookable  # no "Reserve" button that leads to a closed form
    assert f"<strong>{figure}</strong>" in home
    assert f"<strong>{figure}</strong>" in session_page
    assert sentence in form
    assert ('name="buyer_email"' in form and 'type="submit"' in form) is bookable
    for other in {"Sold out", "Tickets go on sale on", "Ticket sales have closed.", "left"} - {figure, sentence}:
        if bookable and other == "left":
            continue
        assert other not in home + session_page + form  # no contradictory text


def test_few_left_starts_at_the_named_threshold():
    event = EventFactory(capacity=FEW_LEFT + 1)
    assert services.sales_state(event).status == SalesStatus.ON_SALE
    OrderFactory(event=event, quantity=1, paid=True)
    state = services.sales_state(event)
    assert (state.status, state.seats_left, state.figure) == (SalesStatus.FEW_LEFT, FEW_LEFT, f"Only {FEW_LEFT} left")
    assert state.sentence == f"Only {FEW_LEFT} tickets left."
    OrderFactory(event=event, quantity=FEW_LEFT - 1, paid=True)
    assert services.sales_state(event).sentence == "Only 1 ticket left."


def test_a_cached_session_page_changes_at_once_when_tickets_are_reserved(
    client, stripe_double, django_capture_on_commit_callbacks
):
    event = EventFactory(capacity=10, per_order_limit=10)
    url = SessionFactory(event=event).get_absolute_url()
    assert "Only 10 left" in get(client, url)
    assert "Only 10 left" in get(client, url)  # a hit
    with django_capture_on_commit_callbacks(execute=True):  # the SALES version is bumped once the order commits
        reserve_over_http(client, quantity=10)
    body = get(client, url)
    assert states(body) == {"sold-out"}
    assert not BOOK.search(body)


def test_a_cached_session_page_changes_when_a_hold_runs_out_with_no_write(client):
    event = EventFactory(capacity=10)
    url = SessionFactory(event=event).get_absolute_url()
    order = OrderFactory(event=event, quantity=10, hold_expires_at=timezone.now() + HOLD_LEFT)
    assert states(get(client, url)) == {"sold-out"}
    assert states(get(client, url)) == {"sold-out"}  # a hit
    time.sleep(max(0.0, (order.hold_expires_at - timezone.now()).total_seconds()) + 0.05)
    assert "Only 10 left" in get(client, url)


def test_a_cached_session_page_changes_when_sales_open_with_no_write(client):
    event = EventFactory(capacity=10, sales_open_at=timezone.now() + HOLD_LEFT)
    url = SessionFactory(event=event).get_absolute_url()
    assert states(get(client, url)) == {"not-yet-open"}
    assert states(get(client, url)) == {"not-yet-open"}  # a hit
    time.sleep(max(0.0, (event.sales_open_at - timezone.now()).total_seconds()) + 0.05)
    body = get(client, url)
    assert states(body) == {"few-left"}
    assert BOOK.search(body)


def test_a_session_of_another_event_offers_no_booking_for_the_current_one(client):
    EventFactory(capacity=10)
    past = EventFactory(starts_at=timezone.now() - timedelta(days=400), ends_at=timezone.now() - timedelta(days=399))
    body = get(client, SessionFactory(event=past).get_absolute_url())
    assert not states(body)
    assert not BOOK.search(body)


def test_after_cancel_on_stripe_the_booking_link_says_cancelled_as_the_cancel_page_did(client, stripe_double):
    EventFactory(capacity=10)
    order = reserve_over_http(client)
    cancel_url = stripe_double.session(order.stripe_checkout_session_id)["cancel_url"]
    cancelled = get(client, cancel_url.removeprefix("http://testserver"))  # the buyer presses Cancel on Stripe
    assert "Your booking is cancelled" in cancelled
    for expired in stripe_double.events("checkout.session.expired"):  # Stripe's webhook follows, later
        assert deliver(client, stripe_double, expired).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    booking = get(client, order.get_absolute_url())
    assert "<h1>Booking cancelled</h1>" in booking
    assert '<span class="status status--cancelled">Cancelled</span>' in booking
    assert "nothing was charged" in booking
    assert "expired" not in booking.lower()


def test_a_cancelled_booking_offers_to_reserve_again_only_when_the_form_takes_bookings(client):
    event = EventFactory(capacity=2)
    order = OrderFactory(event=event, quantity=2, cancelled=True)
    assert 'href="/tickets/">Reserve again</a>' in get(client, order.get_absolute_url())
    OrderFactory(event=event, quantity=2, paid=True)
    body = get(client, order.get_absolute_url())
    assert "Reserve again" not in body
    assert states(body) == {"sold-out"}
