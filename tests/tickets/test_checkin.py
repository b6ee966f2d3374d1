"""The door (check-in page), the attendee export and the sales summary, driven over HTTP as organisers would."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import EventFactory
from tickets import reports, services
from tickets.checkin import Outcome, check_in_ticket
from tickets.models import Order, OrderStatus, Ticket

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
CHECK_IN = "/admin/tickets/ticket/check-in/"
ORDERS = "/admin/tickets/order/"
TICKETS = "/admin/tickets/ticket/"
EXPORT = "/admin/tickets/order/attendees.csv"


@pytest.fixture
def event(db):
    return EventFactory(capacity=20, ticket_price_pence=550)


def make_order(
    event,
    *names: str,
    status: str = OrderStatus.PAID,
    buyer_name: str = "Ada Activist",
    buyer_email: str = "ada@example.com",
    paid_at: datetime | None = None,
    hold_expires_at: datetime | None = None,
) -> Order:
    """An order in any state, with a ticket per name (whatever the state: the door must not rely on that)."""
    names = names or ("Grace Hopper",)
    now = timezone.now()
    order = Order.objects.create(
        event=event,
        buyer_name=buyer_name,
        buyer_email=buyer_email,
        quantity=len(names),
        unit_price_pence=event.ticket_price_pence,
        total_pence=event.ticket_price_pence * len(names),
        attendee_names=list(names),
        status=status,
        paid_at=paid_at or (now if status in (OrderStatus.PAID, OrderStatus.REFUNDED) else None),
        hold_expires_at=hold_expires_at or now + timedelta(minutes=30),
    )
    Ticket.objects.bulk_create(Ticket(order=order, attendee_name=name) for name in names)
    return order


def ticket_of(order: Order) -> Ticket:
    return order.tickets.get()


def staff_user(username: str, group: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def organiser(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))


@pytest.fixture
def door(client):
    client.force_login(staff_user("door", "Door staff"))


@pytest.fixture
def editor(client):
    client.force_login(staff_user("editor", "Programme editors"))


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


def test_a_short_reference_shared_by_two_tickets_checks_in_neither():
    event = EventFactory()
    order = make_order(event, "One", "Two")
    one, two = order.tickets.order_by("pk")
    Ticket.objects.filter(pk=one.pk).update(reference="ABCDEFGH" + "2" * 18)
    Ticket.objects.filter(pk=two.pk).update(reference="ABCDEFGH" + "3" * 18)
    assert check_in_ticket(reference="abcd-efgh").outcome == Outcome.AMBIGUOUS
    assert check_in_ticket(reference="ABCDEFGH" + "3" * 18).outcome == Outcome.CHECKED_IN  # the QR code still works
    assert Ticket.objects.get(pk=one.pk).checked_in_at is None


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


# --- attendee export ---


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="attendees-')
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_export_action_lists_the_paid_tickets_of_the_selected_orders(client, organiser, event):
    paid = make_order(
        event,
        "Grace Hopper",
        "Alan Turing",
        buyer_name="Ada Activist",
        buyer_email="ada@example.com",
        paid_at=datetime(2027, 7, 1, 12, 0, tzinfo=UTC),  # 13:00 in London (summer time)
    )
    refunded = make_order(event, "Refunded Person", status=OrderStatus.REFUNDED)
    pending = make_order(event, "Pending Person", status=OrderStatus.PENDING)
    not_selected = make_order(event, "Someone Else")
    grace, alan = paid.tickets.order_by("pk")
    Ticket.objects.filter(pk=alan.pk).update(checked_in_at=datetime(2028, 1, 8, 9, 5, tzinfo=LONDON))
    response = client.post(
        ORDERS, {"action": "export_attendees", "_selected_action": [paid.pk, refunded.pk, pending.pk]}
    )
    rows = read_csv(response)
    assert rows == [
        reports.CSV_HEADER,
        [
            alan.short_reference,
            "Alan Turing",
            "Ada Activist",
            "ada@example.com",
            paid.reference,
            "2027-07-01 13:00",
            "2028-01-08 09:05",
        ],
        [
            grace.short_reference,
            "Grace Hopper",
            "Ada Activist",
            "ada@example.com",
            paid.reference,
            "2027-07-01 13:00",
            "",
        ],
    ]
    assert not_selected.reference not in response.content.decode()


def test_export_link_lists_every_paid_ticket_and_nothing_else(client, organiser, event):
    one = make_order(event, "Grace Hopper")
    two = make_order(event, "Alan Turing", buyer_email="alan@example.com")
    make_order(event, "Refunded Person", status=OrderStatus.REFUNDED)
    make_order(event, "Expired Person", status=OrderStatus.EXPIRED)
    make_order(event, "Pending Person", status=OrderStatus.PENDING)
    assert f'href="{EXPORT}"' in client.get(ORDERS).content.decode()
    rows = read_csv(client.get(EXPORT))
    assert [row[1] for row in rows[1:]] == ["Alan Turing", "Grace Hopper"]
    assert {row[4] for row in rows[1:]} == {one.reference, two.reference}


def test_export_neutralises_spreadsheet_formulas(client, organiser, event):
    make_order(
        event,
        '=HYPERLINK("http://evil.example","click")',
        "+44 20 7946 0000",
        "-2+3",
        "@SUM(A1:A9)",
        "Ordinary Name",
        buyer_name="=1+1",
        buyer_email="@attacker@example.com",
    )
    rows = read_csv(client.get(EXPORT))
    cells = {cell for row in rows[1:] for cell in row[1:4]}
    assert cells == {
        '\'=HYPERLINK("http://evil.example","click")',
        "'+44 20 7946 0000",
        "'-2+3",
        "'@SUM(A1:A9)",
        "Ordinary Name",
        "'=1+1",
        "'@attacker@example.com",
    }
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# --- sales summary ---


def figures(body: str) -> dict[str, str]:
    found = dict(re.findall(r'data-figure="([a-z-]+)">(.*?)</dd>', body, re.S))
    return {name: " ".join(re.sub(r"<[^>]+>", " ", value).split()) for name, value in found.items()}


@pytest.fixture
def sales(event):
    """Capacity 20 at £5.50: 5 sold, 4 held, 1 lapsed hold, 2 refunded, 1 checked in."""
    now = timezone.now()
    first = make_order(event, "A", "B")
    make_order(event, "C", "D", "E")
    make_order(event, "F", "G", "H", "I", status=OrderStatus.PENDING, hold_expires_at=now + timedelta(minutes=10))
    make_order(event, "J", status=OrderStatus.PENDING, hold_expires_at=now - timedelta(minutes=1))
    make_order(event, "K", "L", status=OrderStatus.REFUNDED)
    make_order(event, "M", status=OrderStatus.CANCELLED)
    Ticket.objects.filter(pk=first.tickets.first().pk).update(checked_in_at=now)
    refunded_in = Ticket.objects.filter(order__status=OrderStatus.REFUNDED).first()
    Ticket.objects.filter(pk=refunded_in.pk).update(checked_in_at=now)  # not counted: the order is refunded
    return event


def test_the_order_list_shows_the_sales_summary(client, organiser, sales):
    body = client.get(ORDERS).content.decode()
    assert figures(body) == {
        "sold": "5",
        "held": "4",
        "left": "11 of 20",
        "revenue": "£27.50",
        "refunded": "2 (£11)",
        "checked-in": "1 of 5",
    }


def test_the_summary_never_shows_fewer_than_zero_left(client, organiser):
    event = EventFactory(capacity=2)
    make_order(event, "A", "B", "C")  # e.g. capacity lowered after sales
    assert figures(client.get(ORDERS).content.decode())["left"] == "0 of 2"


def test_the_summary_counts_a_delayed_payment_as_held_as_seats_left_does(event):
    past = timezone.now() - timedelta(minutes=1)
    lapsed = make_order(event, "N", "O", status=OrderStatus.PENDING, hold_expires_at=past)
    Order.objects.filter(pk=lapsed.pk).update(is_awaiting_async_payment=True)  # a bank payment on its way
    [summary] = reports.sales_summary()
    assert summary.held == 2
    assert summary.left == services.seats_left(event)


def test_the_summary_is_one_query(sales, django_assert_num_queries):
    with django_assert_num_queries(1):
        [summary] = reports.sales_summary()
    assert (summary.sold, summary.held, summary.left, summary.revenue_pence) == (5, 4, 11, 2750)
    assert (summary.refunded, summary.refunded_pence, summary.checked_in) == (2, 1100, 1)


def test_the_order_list_costs_the_same_queries_with_more_orders(client, organiser, event):
    make_order(event)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(ORDERS).status_code == 200
        return len(queries)

    few = count()
    for n in range(10):
        make_order(event, f"Person {n}", status=[OrderStatus.PAID, OrderStatus.REFUNDED][n % 2])
    make_order(EventFactory(), "Another Event")
    assert count() == few
