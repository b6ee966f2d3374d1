"""The booking's calendar file (tickets.views.order_calendar): the day in a calendar, with no secret in it.

Calendar entries get shared (a family calendar, a colleague's invite), so the file links the event's
public page, never the private booking link that opens the booking and its door codes."""

import pytest

from tests.factories import OrderFactory
from tests.tickets.test_emails import unfolded

pytestmark = pytest.mark.django_db


def test_the_bookings_calendar_file_links_the_event_page_and_carries_no_secret(client):
    order = OrderFactory(paid=True)
    response = client.get(f"/tickets/order/{order.reference}/{order.secret}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = unfolded(response.content)
    assert "BEGIN:VEVENT" in calendar
    assert "URL:http://testserver/\r\n" in calendar
    assert order.secret not in calendar
    assert order.reference not in calendar
