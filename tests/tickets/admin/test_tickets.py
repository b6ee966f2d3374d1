"""The ticket list and page (tickets.admin.tickets), driven over HTTP as an organiser would."""

import re

import pytest

from tests.tickets.admin.helpers import TICKETS, listed, offered_actions
from tests.tickets.helpers import reserve, set_status
from tickets.models import OrderStatus

pytestmark = pytest.mark.django_db


def test_ticket_search_by_reference_and_attendee_name(client, organiser, paid_order):
    grace, alan = paid_order.tickets.order_by("pk")
    assert [grace.attendee_name, alan.attendee_name] == ["Grace Hopper", "Alan Turing"]
    assert listed(client.get(TICKETS, {"q": grace.reference})) == {grace}
    assert listed(client.get(TICKETS, {"q": "Turing"})) == {alan}
    assert listed(client.get(TICKETS, {"q": paid_order.reference})) == {grace, alan}
    assert listed(client.get(TICKETS, {"q": "Lovelace"})) == set()


def test_ticket_search_by_the_short_reference_printed_on_it(client, organiser, paid_order):
    grace, alan = paid_order.tickets.order_by("pk")
    booking_page = client.get(paid_order.get_absolute_url()).content.decode()
    assert grace.short_reference in booking_page  # what the attendee reads out at the door
    assert listed(client.get(TICKETS, {"q": grace.short_reference})) == {grace}
    assert listed(client.get(TICKETS, {"q": f" {alan.short_reference.lower()} "})) == {alan}


def test_ticket_reference_and_order_are_read_only(client, organiser, paid_order):
    ticket = paid_order.tickets.first()
    reference = ticket.reference
    url = f"{TICKETS}{ticket.pk}/change/"
    form = client.get(url).context["adminform"].form
    assert set(form.fields) == {"attendee_name"}
    response = client.post(url, {"attendee_name": "Grace B. Hopper", "reference": "FORGED", "order": 999})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.attendee_name, ticket.reference, ticket.order_id) == ("Grace B. Hopper", reference, paid_order.pk)


def test_tickets_list_shows_the_order_status(client, organiser, event, paid_order):
    refunded = reserve(event, name="Ada Lovelace", email="ada@engine.example")
    set_status(refunded, OrderStatus.REFUNDED)
    refunded.tickets.create(attendee_name="Ada Lovelace")
    body = client.get(TICKETS).content.decode()
    assert "Order status" in body
    assert re.search(r'<span class="order-status order-status--refunded">Refunded</span>', body)
    assert body.count('<span class="order-status order-status--paid">Paid</span>') == 2


def test_tickets_cannot_be_deleted(client, organiser, paid_order):
    ticket = paid_order.tickets.first()
    assert f"{TICKETS}{ticket.pk}/delete/" not in client.get(f"{TICKETS}{ticket.pk}/change/").content.decode()
    assert client.get(f"{TICKETS}{ticket.pk}/delete/").status_code == 403
    assert client.post(f"{TICKETS}{ticket.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in offered_actions(client.get(TICKETS))
    client.post(TICKETS, {"action": "delete_selected", "_selected_action": [ticket.pk], "post": "yes"})
    assert paid_order.tickets.count() == 2
