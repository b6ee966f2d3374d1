"""Buying tickets in a real browser: the form, the Stripe test double's payment page, and back."""

import re

import pytest
from django.core import mail

from events.models import Event
from tests.browser.conftest import axe_violations
from tickets import services
from tickets.models import Order, OrderStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(site, stripe_double, settings):
    """The demo site, on sale, paying through the Stripe double, which sends its webhooks to the live server."""
    settings.SITE_URL = site
    stripe_double.webhook_url = f"{site}/stripe/webhook/"
    return site


def reserve(page, shop: str, *, quantity: int, names: str = "") -> None:
    page.goto(shop + "/tickets/")
    page.get_by_label("Number of tickets").select_option(str(quantity))
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Your email").fill("ada@example.com")
    page.get_by_label("Names for the tickets (optional)").fill(names)
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r".*/pay/cs_test_\w+$"))


def assert_accessible(page, axe_source: str) -> None:
    assert axe_violations(page, axe_source, min_passes=6) == [], page.url


def test_reserve_two_pay_on_the_test_page_get_the_confirmation_email_and_open_its_booking_link(shop, page, axe_source):
    page.goto(shop + "/tickets/")
    assert_accessible(page, axe_source)
    reserve(page, shop, quantity=2, names="Ada Lovelace\nCharles Babbage")
    assert page.get_by_text("Test payment page").count() == 1
    page.get_by_role("button", name="Pay £10.00").click()
    page.wait_for_url(re.compile(r".*/tickets/order/NR-\w+/[\w-]+/$"))
    assert page.locator("h1").inner_text() == "You’re going to Netroots UK"
    tickets = page.locator(".ticket")
    assert tickets.count() == 2
    assert tickets.locator("svg").count() == 2
    assert tickets.locator(".ticket__name").all_inner_texts() == ["Ada Lovelace", "Charles Babbage"]
    assert_accessible(page, axe_source)

    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    (email,) = mail.outbox
    assert order.reference in email.subject
    link = re.search(r"https?://\S+/tickets/order/\S+/", email.body).group(0)
    page.context.clear_cookies()  # the link works in any browser, not just the one that paid
    page.goto(link)
    assert page.locator(".ticket").count() == 2
    assert page.csp_errors == []


def test_cancelling_on_the_payment_page_frees_the_seats_at_once(shop, page, axe_source):
    event = Event.objects.get()
    before = services.seats_left(event)
    reserve(page, shop, quantity=3)
    assert services.seats_left(event) == before - 3
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(re.compile(r".*/cancel/$"))
    assert page.locator("h1").inner_text() == "Your booking is cancelled"
    assert "free again" in page.locator(".lead").inner_text()
    assert services.seats_left(event) == before
    # Cancelling expires the Checkout Session first; the double's checkout.session.expired webhook may land
    # before our own release does, and then the order is recorded as expired. Either way, the seats are free.
    assert Order.objects.get().status in {OrderStatus.CANCELLED, OrderStatus.EXPIRED}
    assert_accessible(page, axe_source)


def test_return_pages_and_booking_lookup_are_accessible_with_javascript_off(shop, browser, axe_source):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    reserve(page, shop, quantity=1)
    order = Order.objects.get()
    page.goto(shop + order.get_absolute_url())
    assert page.locator("h1").inner_text() == "Not paid yet"  # opened from a link, not back from Stripe
    page.goto(shop + order.get_absolute_url() + "?from=checkout")
    assert page.locator("h1").inner_text() == "Confirming your payment…"
    with page.expect_navigation(timeout=10_000):  # the Refresh header reloads it, JavaScript off
        pass
    assert page.url.endswith("?from=checkout")
    for path in [
        order.get_absolute_url(),
        order.get_absolute_url() + "?from=checkout",
        "/tickets/checkout/success/?session_id=cs_test_unknown",
        "/tickets/find/",
        f"/tickets/order/{order.reference}/wrong-secret/",
    ]:
        page.goto(shop + path)
        page.goto("about:blank")  # a page that reloads itself (the Refresh header) must not cut into the next visit
        js_page = browser.new_page()
        js_page.goto(shop + path)
        assert_accessible(js_page, axe_source)
        js_page.close()
    context.close()


def test_back_from_checkout_the_form_offers_to_continue_paying(shop, page, axe_source):
    reserve(page, shop, quantity=2)
    page.go_back()  # the page is never cached (no-store), so the browser asks again and sees the hold
    notice = page.locator(".notice", has_text="You have an unpaid booking")
    order = Order.objects.get()
    assert order.reference in notice.inner_text()
    assert_accessible(page, axe_source)
    notice.get_by_role("link", name="Continue to payment").click()
    page.wait_for_url(re.compile(r".*/pay/cs_test_\w+$"))
    assert page.url.endswith(order.stripe_checkout_session_id)


def test_a_failed_submit_shows_the_problems_first_and_keyboard_focus_is_visible(shop, page, axe_source):
    page.goto(shop + "/tickets/")
    page.keyboard.press("Tab")  # skip link
    page.get_by_label("Your name").focus()
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    colour = page.evaluate("() => getComputedStyle(document.activeElement).outlineColor")
    assert (ring, colour) == ("solid", "rgb(185, 58, 11)")  # the site's ring, as on links
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_load_state()
    assert page.title().startswith("Error: ")
    summary = page.get_by_role("alert")
    assert summary.get_by_role("heading").inner_text() == "There is a problem"
    assert summary.get_by_role("link").all_inner_texts() == [
        "Please enter your name.",
        "Please enter your email address.",
    ]
    summary.get_by_role("link", name="Please enter your email address.").click()
    assert page.url.endswith("#id_buyer_email")
    assert_accessible(page, axe_source)


@pytest.mark.parametrize(("width", "price_first"), [(390, True), (1280, False)])
def test_the_price_box_sits_above_the_form_on_phones_and_beside_it_on_desktops(shop, browser, width, price_first):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(shop + "/tickets/")
    price = page.locator(".summary").bounding_box()
    button = page.get_by_role("button", name="Continue to payment").bounding_box()
    if price_first:
        assert price["y"] + price["height"] < button["y"]
    else:
        assert price["x"] > button["x"] + button["width"]
    context.close()
