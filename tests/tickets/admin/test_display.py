"""Times in the admin (tickets.admin.display): 24-hour, London time, on every page that shows one."""

from datetime import UTC, datetime

import pytest

from tests.tickets.admin.helpers import ORDERS, TICKETS, change_url
from tickets.models import Order

pytestmark = pytest.mark.django_db


AFTERNOON = datetime(2025, 6, 7, 13, 5, tzinfo=UTC)  # 14:05 in London (BST)


def test_admin_times_are_24_hour_london_time(client, organiser, paid_order):
    Order.objects.filter(pk=paid_order.pk).update(created_at=AFTERNOON, paid_at=AFTERNOON)
    paid_order.tickets.filter(attendee_name="Grace Hopper").update(checked_in_at=AFTERNOON)
    for url in [change_url(paid_order), ORDERS, TICKETS]:
        body = client.get(url).content.decode()
        assert "7 Jun 2025, 14:05" in body, url
        assert "p.m." not in body, url
        assert "a.m." not in body, url
