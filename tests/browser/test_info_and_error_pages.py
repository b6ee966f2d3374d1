"""The event's information pages and the 404 and 500 pages, in a real browser at a phone's and a laptop's width:
the site's header and footer on each, nothing wider than the screen, no WCAG violation that axe finds."""

import pytest
from django.http import HttpRequest
from django.urls import path

from events.models import InfoPage
from netroots import urls as site_urls
from tests.browser.conftest import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [320, 390, 1280]


def boom(request: HttpRequest):
    raise RuntimeError("a bug")


# The site's URLs and one that fails, so that the live server shows its 500 page (@pytest.mark.urls(__name__)).
urlpatterns = [path("boom/", boom), *site_urls.urlpatterns]


def paths() -> list[str]:
    return [*(f"/info/{kind}/" for kind in InfoPage.Kind.values), "/", "/tickets/", "/no-such-page/", "/boom/"]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("width", WIDTHS)
def test_header_and_footer_on_every_page_and_nothing_scrolls_sideways(site, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    for url in paths():
        response = page.goto(site + url)
        assert response.status == {"/no-such-page/": 404, "/boom/": 500}.get(url, 200), url
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{url} is {overflow}px too wide at {width}px"
        for part in ["header.site-header", "footer.site-footer"]:
            box = page.locator(part).bounding_box()
            assert box, (url, part)
            assert box["width"] == width, (url, part, box)  # the whole width, at every width
            assert box["height"] > 30, (url, part, box)
        for name in ["Programme", "Speakers", "Organisations", "Tickets"]:
            link = page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)
            assert link.is_visible(), (url, name)
            assert link.bounding_box()["x"] + link.bounding_box()["width"] <= width, (url, name)
    context.close()


@pytest.mark.urls(__name__)
def test_axe_finds_no_wcag_violations(site, page, axe_source):
    problems = {}
    for url in paths():
        page.goto(site + url)
        if violations := axe_violations(page, axe_source):
            problems[url] = violations
    assert problems == {}
    assert page.csp_errors == []


def test_plan_your_day_from_the_home_page_to_the_venue_and_on(site, page):
    page.goto(site + "/")
    page.get_by_role("region", name="Plan your day").get_by_role("link", name="Accessibility").click()
    page.wait_for_url("**/info/accessibility/")
    assert page.locator("h1").inner_text() == "Accessibility"
    page.get_by_role("navigation", name="Plan your day").get_by_role("link", name="Venue and getting there").click()
    page.wait_for_url("**/info/venue/")
    assert "40 Theobalds Road" in page.locator(".venue-card").inner_text()
    map_link = page.get_by_role("link", name="See Holborn Assembly Rooms on OpenStreetMap")
    assert map_link.get_attribute("href").startswith("https://www.openstreetmap.org/?mlat=")
    page.get_by_role("contentinfo").get_by_role("link", name="Tickets, refunds and cancellation").click()
    page.wait_for_url("**/info/terms/")
    assert page.csp_errors == []
