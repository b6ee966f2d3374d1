"""The door's check-in page on a phone (390 px), in Chromium: typing a code checks in and the count goes up; the
count refreshes itself; the camera button appears only where the browser can read QR codes from its camera.

Headless Chromium on Linux has neither BarcodeDetector nor a camera, so the scanning test gives the page stand-ins
for both (an init script: a canvas for a camera, a detector that "sees" a ticket's QR code), as a phone would have.
"""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect

from tests.browser.test_tickets import assert_accessible
from tests.factories import EventFactory
from tests.tickets.admin.helpers import CHECK_IN
from tests.tickets.helpers import make_order
from tickets import checkin
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# A phone's camera and QR code reader, as far as the page can tell: BarcodeDetector "sees" window.shownCode (set by
# the test) from the third frame it is asked about; getUserMedia gives a canvas's stream.
CAMERA_AND_READER = """
window.shownCode = null;
window.detectCalls = 0;
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code", "ean_13"]; }
  constructor(options) { this.formats = options.formats; }
  async detect(source) {
    window.detectCalls += 1;
    return window.shownCode && window.detectCalls > 2 ? [{ rawValue: window.shownCode, format: "qr_code" }] : [];
  }
};
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 320; canvas.height = 240;
  const draw = () => { const c = canvas.getContext("2d"); c.fillStyle = "#345"; c.fillRect(0, 0, 320, 240); };
  draw(); setInterval(draw, 100);
  return canvas.captureStream(10);
};
"""


@pytest.fixture
def door(live_server, transactional_db):
    """The live server, an event with three paid tickets, and a door login ("door", "pw") with the Door staff group's
    one permission (the group itself, made by a data migration, is gone once an earlier test here has flushed)."""
    event = EventFactory(name="Netroots UK 2028")
    make_order(event, "Grace Hopper", "Alan Turing")
    make_order(event, "Ada Lovelace")
    user = User.objects.create_user("door", "door@example.com", "pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="tickets", codename="check_in_ticket"))
    return live_server.url


def screenshot(page, name: str) -> None:
    """With SCREENSHOT_DIR set, keep a picture of the page there, to look at."""
    if folder := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=Path(folder) / f"{name}.png", full_page=True)


def log_in(page, site: str) -> None:
    page.goto(site + CHECK_IN)
    page.get_by_label("Username").fill("door")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/check-in/$"))


def count(page) -> str:
    return " ".join(page.locator(".checkin-count").inner_text().split())


def phone(browser, **options):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, **options)
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_errors.append(msg.text))
    return context, page


def test_typing_a_code_checks_in_and_the_count_goes_up_on_a_phone(door, browser, axe_source):
    context, page = phone(browser)
    log_in(page, door)
    assert count(page) == "Checked in 0 of 3 sold"
    assert page.evaluate("'BarcodeDetector' in window") is False  # so no camera button: typing is the way
    assert page.get_by_role("button", name="Scan a ticket’s QR code").is_hidden()
    assert page.locator("[data-checkin-scanner]").is_hidden()

    grace = Ticket.objects.get(attendee_name="Grace Hopper")
    page.get_by_label("Ticket reference").fill(grace.short_reference.lower())
    page.get_by_role("button", name="Check in").click()
    page.wait_for_load_state()
    assert page.locator("#checkin-result-title").inner_text().strip().endswith("Checked in")
    assert page.locator(".checkin-result__name").inner_text() == "Grace Hopper"
    assert "Netroots UK 2028" in page.locator(".checkin-result__facts").inner_text()
    assert count(page) == "Checked in 1 of 3 sold"
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    screenshot(page, "door-390-checked-in")
    assert_accessible(page, axe_source)

    # another door lets Alan in; this page's count catches up by itself (here: when the page is looked at again)
    checkin.check_in_ticket(
        reference=Ticket.objects.get(attendee_name="Alan Turing").reference, event=grace.order.event
    )
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("[data-checked-in]")).to_have_text("2")  # retried by Playwright: no eval (the CSP)
    assert count(page) == "Checked in 2 of 3 sold"
    assert page.csp_errors == []
    context.close()


def test_without_javascript_typing_a_code_still_checks_in(door, browser):
    context, page = phone(browser, java_script_enabled=False)
    log_in(page, door)
    page.get_by_label("Ticket reference").fill(Ticket.objects.get(attendee_name="Ada Lovelace").reference)
    page.get_by_role("button", name="Check in").click()
    page.wait_for_load_state()
    assert page.locator(".checkin-result__name").inner_text() == "Ada Lovelace"
    assert count(page) == "Checked in 1 of 3 sold"
    assert page.locator("[data-checkin-scanner]").is_hidden()
    context.close()


def test_where_the_phone_reads_qr_codes_a_scan_checks_in_and_the_camera_waits_for_the_next(door, browser):
    context, page = phone(browser)
    context.add_init_script(CAMERA_AND_READER)
    log_in(page, door)
    scan = page.get_by_role("button", name="Scan a ticket’s QR code")
    assert scan.is_visible()
    screenshot(page, "door-390-scan-button")

    grace = Ticket.objects.get(attendee_name="Grace Hopper")
    scan.click()
    expect(page.locator("video[data-scan-video]")).to_be_visible()
    # "Starting the camera…" first, until the (fake) camera's stream plays: wait for it, don't race it
    expect(page.get_by_role("status")).to_have_text("Hold the ticket’s QR code in front of the camera.")
    screenshot(page, "door-390-camera")
    with page.expect_navigation():
        page.evaluate("code => { window.shownCode = code; }", grace.reference)  # what the QR code encodes
    assert page.locator(".checkin-result__name").inner_text() == "Grace Hopper"
    assert count(page) == "Checked in 1 of 3 sold"
    grace.refresh_from_db()
    assert grace.checked_in_at is not None

    # the camera is on again for the next person, and the ticket still in front of it is not sent twice
    page.wait_for_selector("video[data-scan-video]", state="visible")
    page.evaluate("code => { window.shownCode = code; }", grace.reference)
    for _ in range(50):  # a second and more of frames looked at (polled: wait_for_function would need eval)
        if page.evaluate("window.detectCalls") > 10:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("window.detectCalls") > 10
    assert page.locator(".checkin-result__name").inner_text() == "Grace Hopper"
    assert "Checked in" in page.locator("#checkin-result-title").inner_text()  # not "Already checked in"

    # stopping the camera leaves the typed way
    page.get_by_role("button", name="Stop the camera").click()
    assert page.locator("video[data-scan-video]").is_hidden()
    assert scan.is_visible()
    assert page.csp_errors == []
    context.close()
