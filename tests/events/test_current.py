"""The current event (events.current), and `event` on every page through the site's context processor."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.current import current_event, current_event_or_404
from tests.factories import EventFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_the_current_event_is_the_next_to_end_else_the_latest():
    now = timezone.now()
    past = EventFactory(name="Last year", starts_at=now - timedelta(days=365), ends_at=now - timedelta(days=364))
    assert current_event(RequestFactory().get("/")) == past
    coming = EventFactory(
        name="This year", starts_at=now + timedelta(days=30), ends_at=now + timedelta(days=30, hours=8)
    )
    EventFactory(name="Next year", starts_at=now + timedelta(days=395), ends_at=now + timedelta(days=395, hours=8))
    assert current_event(RequestFactory().get("/")) == coming


def test_the_current_event_is_read_once_per_request():
    EventFactory()
    request = RequestFactory().get("/")
    with CaptureQueriesContext(connection) as queries:
        first, again, or_404 = current_event(request), current_event(request), current_event_or_404(request)
    assert first is again is or_404
    assert len(queries) == 1


def test_no_event_is_a_404_where_one_is_needed(client):
    assert client.get("/programme/").status_code == 404
    assert client.get("/tickets/").status_code == 404


@pytest.mark.parametrize("url", ["/speakers/", "/organisations/", "/tickets/find/", "/tickets/order/NR-AAAAAA/x/"])
def test_every_page_names_the_current_event(client, url):
    EventFactory(name="Netroots Test Day", venue="Conway Hall Test")
    body = client.get(url).content.decode()
    assert "Netroots Test Day" in body.split("<title>")[1].split("</title>")[0]
    assert "Conway Hall Test" in body  # the footer


def test_a_booking_page_shows_its_own_event_not_the_current_one(client):
    now = timezone.now()
    old = EventFactory(name="Netroots Long Ago", starts_at=now - timedelta(days=400), ends_at=now - timedelta(days=399))
    EventFactory(name="Netroots Coming Soon")
    order = OrderFactory(event=old, paid=True)
    body = client.get(order.get_absolute_url()).content.decode()
    assert "Netroots Long Ago" in body
