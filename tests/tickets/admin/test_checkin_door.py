"""The door page on a phone: it works with no script at all (type the code, press the button), shows the live count,
and loads the site's own script, which scans QR codes where the browser can. Over HTTP; tests/browser/test_door.py
drives it in Chromium."""

import re

import pytest
import segno
from django.test import Client
from django.utils import timezone

from tests.factories import RefundFactory
from tests.tickets.admin.helpers import CHECK_IN, staff_user
from tests.tickets.helpers import make_order
from tickets.models import OrderStatus
from tickets.templatetags.qr import qr_svg

pytestmark = pytest.mark.django_db

COUNT = CHECK_IN + "count/"
SCRIPT = "/static/js/checkin.js"


@pytest.fixture
def door(client):
    client.force_login(staff_user("door", "Door staff"))


@pytest.fixture
def sold(event):
    """Three valid tickets sold (one already in), a refunded ticket of a paid order, a refunded order and an unpaid
    one: the door counts 1 of 3."""
    paid = make_order(event, "Grace Hopper", "Alan Turing")
    make_order(event, "Ada Lovelace").tickets.update(checked_in_at=timezone.now())
    partly = make_order(event, "Refunded Ticket")
    RefundFactory(order=partly, tickets=list(partly.tickets.all()))  # the order stays paid; its ticket is void
    make_order(event, "Refunded Person", status=OrderStatus.REFUNDED)
    make_order(event, "Unpaid Person", status=OrderStatus.PENDING)
    return paid


def shown_count(body: str) -> str:
    match = re.search(r'<p class="checkin-count"[^>]*>(.*?)</p>', body, re.S)
    assert match, "no count on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_page_counts_who_is_in_and_a_typed_code_counts_up_with_no_script(client, door, sold):
    page = client.get(CHECK_IN).content.decode()
    assert shown_count(page) == "Checked in 1 of 3 sold"
    grace = sold.tickets.get(attendee_name="Grace Hopper")
    response = client.post(CHECK_IN, {"reference": grace.short_reference})  # a plain form post, as with JS off
    body = response.content.decode()
    assert "Checked in" in re.search(r'<h2 id="checkin-result-title".*?</h2>', body, re.S).group(0)
    assert shown_count(body) == "Checked in 2 of 3 sold"
    assert '<p class="checkin-result__name">Grace Hopper</p>' in body
    assert f"<dt>Event</dt><dd>{sold.event.name}, 8 Jan 2028</dd>" in body


def test_a_second_scan_does_not_count_twice(client, door, sold):
    grace = sold.tickets.get(attendee_name="Grace Hopper")
    client.post(CHECK_IN, {"reference": grace.reference})
    body = client.post(CHECK_IN, {"reference": grace.reference}).content.decode()
    assert shown_count(body) == "Checked in 2 of 3 sold"


def test_the_count_is_served_as_json_for_the_page_to_refresh(client, door, sold):
    response = client.get(COUNT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert response.json() == {"checked_in": 1, "sold": 3, "text": "Checked in 1 of 3 sold"}
    client.post(CHECK_IN, {"reference": sold.tickets.get(attendee_name="Alan Turing").reference})
    assert client.get(COUNT).json()["checked_in"] == 2


def test_the_count_is_for_door_staff_only(client, sold):
    assert client.get(COUNT).status_code == 302  # anonymous: log in first
    client.force_login(staff_user("editor", "Programme editors"))
    assert client.get(COUNT).status_code == 403
    client.force_login(staff_user("desk", "Box office"))
    assert client.get(COUNT).status_code == 403


def test_with_no_event_the_count_is_not_found(client, door):
    assert client.get(COUNT).status_code == 404


def test_the_page_loads_the_door_script_and_hides_the_scanner_until_it_runs(client, door, sold):
    body = client.get(CHECK_IN).content.decode()
    assert f'<script src="{SCRIPT}" defer></script>' in body
    scanner = re.search(r"<div class=\"checkin-scan\"[^>]*>", body).group(0)
    assert " hidden" in scanner  # without the script (or a camera), no button that does nothing
    assert f'data-count-url="{COUNT}"' in body
    assert "<script>" not in body
    assert " style=" not in body
    form = re.search(r'<form method="post" class="checkin-form".*?</form>', body, re.S).group(0)
    assert 'name="reference"' in form
    assert 'type="submit"' in form


def test_the_door_script_is_served_and_scans_with_barcode_detector(client):
    response = Client().get(SCRIPT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript") or "javascript" in response["Content-Type"]
    source = b"".join(response.streaming_content).decode()
    assert '"BarcodeDetector" in window' in source
    assert "getUserMedia" in source
    assert 'new window.BarcodeDetector({ formats: ["qr_code"] })' in source
    assert "data-checkin-count" in source
    assert "countUrl" in source


def test_the_qr_code_on_the_booking_page_encodes_the_full_reference_the_door_accepts(client, door, sold):
    """What the camera reads is what tickets/templatetags/qr.py encodes: the ticket's full 26-character reference."""
    grace = sold.tickets.get(attendee_name="Grace Hopper")
    expected = segno.make(grace.reference, error="m").svg_inline(scale=4, title="x", dark="#14211b", light="#ffffff")
    assert qr_svg(grace.reference, "x") == expected
    booking = client.get(sold.get_absolute_url()).content.decode()
    assert qr_svg(grace.reference, f"Ticket code for {grace.attendee_name}") in booking
    response = client.post(CHECK_IN, {"reference": grace.reference})
    assert '<p class="checkin-result__name">Grace Hopper</p>' in response.content.decode()
