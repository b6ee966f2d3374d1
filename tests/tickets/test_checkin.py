"""Checking a ticket in (tickets.checkin): the rule behind the door's page."""

import pytest

from tests.factories import EventFactory
from tests.tickets.helpers import make_order
from tickets.checkin import Outcome, check_in_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_a_short_reference_shared_by_two_tickets_checks_in_neither():
    event = EventFactory()
    order = make_order(event, "One", "Two")
    one, two = order.tickets.order_by("pk")
    Ticket.objects.filter(pk=one.pk).update(reference="ABCDEFGH" + "2" * 18)
    Ticket.objects.filter(pk=two.pk).update(reference="ABCDEFGH" + "3" * 18)
    assert check_in_ticket(reference="abcd-efgh").outcome == Outcome.AMBIGUOUS
    assert check_in_ticket(reference="ABCDEFGH" + "3" * 18).outcome == Outcome.CHECKED_IN  # the QR code still works
    assert Ticket.objects.get(pk=one.pk).checked_in_at is None
