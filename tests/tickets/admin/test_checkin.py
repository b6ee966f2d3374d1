"""The door's check-in page (tickets.admin.checkin), driven over HTTP as door staff would."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from events.models import Event
from tests.factories import EventFactory
from tests.tickets.admin.helpers import CHECK_IN, EXPORT, ORDERS, TICKETS, staff_user
from tests.tickets.helpers import make_order, ticket_of
from tickets.models import OrderStatus, Ticket

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def door(client):
    client.force_login(staff_user("door", "Door staff"))


def scan(client, reference: str):
    response = client.post(CHECK_IN, {"reference": reference})
    assert response.status_code == 200
    return response, response.content.decode()


def result_title(body: str) -> str:
    match = re.search(r'<h2 id="checkin-result-title"[^>]*>(.*?)</h2>', body, re.S)
    assert match, "no check-in result shown"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).replace("✓", "").replace("✕", "").split()).strip("! ")


# --- check-in over HTTP: every result ---


def test_a_valid_ticket_is_checked_in_and_shows_who_it_is(client, door, event):
    order = make_order(event, "Grace Hopper")
    ticket = ticket_of(order)
    before = timezone.now()
    response, body = scan(client, ticket.reference)
    assert result_title(body) == "Checked in"
    assert "checkin-result--ok" in body
    assert "Grace Hopper" in body
    assert order.reference in body
    ticket.refresh_from_db()
    assert before <= ticket.checked_in_at <= timezone.now()
    assert response.context["form"]["reference"].value() in (None, "")  # empty again for the next person
    [field] = re.findall(r'<input type="text" name="reference"[^>]*>', body)
    assert "autofocus" in field
    assert 'aria-describedby="checkin-result id_reference_helptext"' in field  # the result is read with the field


def test_a_second_scan_warns_with_the_first_time_and_changes_nothing(client, door, event):
    ticket = ticket_of(make_order(event, "Grace Hopper"))
    first = datetime(2028, 1, 8, 9, 5, tzinfo=LONDON)
    Ticket.objects.filter(pk=ticket.pk).update(checked_in_at=first)
    _, body = scan(client, ticket.reference)
    assert result_title(body) == "Already checked in at 09:05"
    assert "checkin-result--warning" in body
    assert "Grace Hopper" in body
    ticket.refresh_from_db()
    assert ticket.checked_in_at == first


def test_scanning_twice_checks_in_once(client, door, event):
    ticket = ticket_of(make_order(event, "Grace Hopper"))
    scan(client, ticket.reference)
    ticket.refresh_from_db()
    first = ticket.checked_in_at
    _, body = scan(client, ticket.reference)
    assert result_title(body) == f"Already checked in at {timezone.localtime(first, LONDON):%H:%M}"
    ticket.refresh_from_db()
    assert ticket.checked_in_at == first


@pytest.mark.parametrize(
    "status", [OrderStatus.REFUNDED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.PENDING]
)
def test_a_ticket_of_an_unpaid_order_is_refused(client, door, event, status):
    order = make_order(event, "Alan Turing", status=status)
    ticket = ticket_of(order)
    _, body = scan(client, ticket.reference)
    assert result_title(body) == f"Not valid: order {status}"
    assert "checkin-result--error" in body
    assert "Alan Turing" in body
    assert order.reference in body
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None


def test_a_refunded_ticket_already_checked_in_is_still_refused(client, door, event):
    ticket = ticket_of(make_order(event, status=OrderStatus.REFUNDED))
    Ticket.objects.filter(pk=ticket.pk).update(checked_in_at=timezone.now())
    _, body = scan(client, ticket.reference)
    assert result_title(body) == "Not valid: order refunded"


def past_event():
    """An event that is over (so the door's is the fixture's, in 2028)."""
    starts = datetime(2025, 1, 11, 9, 0, tzinfo=LONDON)
    return EventFactory(name="Netroots UK 2025", starts_at=starts, ends_at=starts.replace(hour=18))


def test_a_paid_ticket_of_last_years_event_is_refused_naming_its_event(client, door, event):
    last_year = past_event()
    order = make_order(last_year, "Grace Hopper")
    ticket = ticket_of(order)
    _, body = scan(client, ticket.reference)
    assert result_title(body) == "Wrong event: this ticket is for Netroots UK 2025, 11 Jan 2025"
    assert "checkin-result--error" in body
    assert "Grace Hopper" in body
    assert order.reference in body
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None


def test_the_page_names_the_doors_event_and_each_result_the_tickets_event(client, door, event):
    past_event()
    Event.objects.filter(pk=event.pk).update(name="Netroots UK 2028")
    page = client.get(CHECK_IN).content.decode()
    assert "Door for <strong>Netroots UK 2028</strong>, Saturday 8 January 2028" in page
    _, body = scan(client, ticket_of(make_order(event, "Grace Hopper")).reference)
    assert result_title(body) == "Checked in"
    assert "<dt>Event</dt><dd>Netroots UK 2028, 8 Jan 2028</dd>" in body
    assert "Grace Hopper" in body


def test_with_no_event_set_up_the_page_says_so_and_checks_nothing_in(client, door):
    page = client.get(CHECK_IN).content.decode()
    assert "No event has been set up yet" in page
    response = client.post(CHECK_IN, {"reference": "ABCD-EFGH"})
    assert response.status_code == 200
    assert response.context["result"] is None


@pytest.mark.parametrize("typed", ["ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "ZZZZ-ZZZZ", "hello", "NR-ABCDEF"])
def test_an_unknown_reference_is_no_such_ticket(client, door, event, typed):
    ticket = ticket_of(make_order(event))
    _, body = scan(client, typed)
    assert result_title(body) == "No such ticket"
    assert "checkin-result--error" in body
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None


def test_the_short_printed_form_works_in_any_case_with_spaces(client, door, event):
    order = make_order(event, "Grace Hopper", "Alan Turing")
    grace, alan = order.tickets.order_by("pk")
    typed = " " + alan.short_reference.lower().replace("-", " - ") + " \n"
    _, body = scan(client, typed)
    assert result_title(body) == "Checked in"
    assert "Alan Turing" in body
    assert alan.short_reference in body
    alan.refresh_from_db()
    grace.refresh_from_db()
    assert alan.checked_in_at is not None
    assert grace.checked_in_at is None


def test_the_full_reference_works_lower_case_and_spaced(client, door, event):
    ticket = ticket_of(make_order(event))
    typed = " ".join(ticket.reference.lower()[i : i + 4] for i in range(0, 26, 4))
    _, body = scan(client, typed)
    assert result_title(body) == "Checked in"


def test_an_empty_scan_asks_again(client, door, event):
    _, body = scan(client, "   ")
    assert "Scan or type a ticket reference." in body
    assert "checkin-result" not in body.split('<div id="content-main"')[1].split("<form")[0]


def test_the_check_in_page_is_csrf_protected(event):
    ticket = ticket_of(make_order(event))
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user("door", "Door staff"))
    assert client.post(CHECK_IN, {"reference": ticket.reference}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None


# --- who may use it ---


def test_the_door_staff_group_has_only_the_check_in_permission():
    perms = Group.objects.get(name="Door staff").permissions.values_list("content_type__app_label", "codename")
    assert set(perms) == {("tickets", "check_in_ticket")}


def test_door_staff_can_check_in_and_do_nothing_else(client, door, event):
    order = make_order(event)
    ticket = ticket_of(order)
    page = client.get(CHECK_IN)
    assert page.status_code == 200
    assert '<input type="text" name="reference"' in page.content.decode()
    assert "autofocus" in page.content.decode()
    for url in [ORDERS, f"{ORDERS}{order.pk}/change/", EXPORT, TICKETS, f"{TICKETS}{ticket.pk}/change/"]:
        assert client.get(url).status_code == 403, url
    response = client.post(ORDERS, {"action": "export_attendees", "_selected_action": [order.pk]})
    assert response.status_code == 403
    index = client.get("/admin/").content.decode()
    assert CHECK_IN in index
    assert ORDERS not in index
    assert TICKETS + '"' not in index


def test_programme_editors_cannot_use_the_check_in_page(client, editor, event):
    ticket = ticket_of(make_order(event))
    assert client.get(CHECK_IN).status_code == 403
    assert client.post(CHECK_IN, {"reference": ticket.reference}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None
    assert CHECK_IN not in client.get("/admin/").content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, event):
    ticket = ticket_of(make_order(event))
    response = client.post(CHECK_IN, {"reference": ticket.reference})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    ticket.refresh_from_db()
    assert ticket.checked_in_at is None


def test_organisers_find_the_check_in_page_from_the_index_and_the_ticket_list(client, organiser, event):
    assert f'href="{CHECK_IN}"' in client.get("/admin/").content.decode()
    assert f'href="{CHECK_IN}"' in client.get(TICKETS).content.decode()
    assert client.get(CHECK_IN).status_code == 200
