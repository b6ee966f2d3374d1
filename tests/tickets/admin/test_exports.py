"""The attendee CSV export (tickets.admin.exports): the list's link and the action."""

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.tickets.admin.helpers import EXPORT, ORDERS
from tests.tickets.helpers import make_order
from tickets import reports
from tickets.models import OrderStatus, Ticket

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


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
