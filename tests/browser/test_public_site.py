"""What an attendee does on the public site, in a real browser."""

import pytest

from events.models import Session, programme_speakers
from tests.browser.conftest import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def public_paths() -> list[str]:
    session = Session.objects.published().filter(kind=Session.Kind.WORKSHOP).first()
    speaker = programme_speakers().first()
    return [
        "/",
        "/programme/",
        "/programme/?kind=workshop",
        session.get_absolute_url(),
        "/speakers/",
        speaker.get_absolute_url(),
        "/organisations/",
        "/no-such-page/",
    ]


def test_home_to_programme_to_workshops_to_a_session_to_its_speaker(site, page):
    page.goto(site + "/")
    assert page.locator("h1").inner_text() == "Netroots UK"
    page.get_by_role("link", name="See the programme").click()
    page.wait_for_url("**/programme/")
    page.get_by_role("navigation", name="Filter the programme").get_by_role("link", name="Workshops").click()
    page.wait_for_url("**/programme/?kind=workshop")
    kinds = page.locator(".timetable .kind").all_inner_texts()
    assert kinds
    assert {kind.lower() for kind in kinds} == {"workshop"}
    page.get_by_role("link", name="From clicks to doorsteps", exact=False).click()
    assert "doorsteps" in page.locator("h1").inner_text()
    facts = page.locator(".facts").inner_text()
    assert "Saturday 8 January 2028, 10:45" in facts
    assert "workshop" in page.locator(".page-head").inner_text().lower()
    page.get_by_role("complementary").get_by_role("link", name="Teddy Goff").click()
    assert page.locator("h1").inner_text() == "Teddy Goff"
    assert page.get_by_role("link", name="From clicks to doorsteps", exact=False).count() == 1
    assert page.csp_errors == []


def test_main_navigation_works_from_the_keyboard_alone(site, page):
    page.goto(site + "/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Skip to main content"
    assert skip.evaluate("el => el.getBoundingClientRect().top >= 0")  # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(site + "/")
    names = []
    for _ in range(6):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        names.append(focused.inner_text().strip())
        outline = focused.evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline != "none", f"no visible focus on {names[-1]!r}"
        if names[-1] == "Speakers":
            break
    assert names[-3:] == ["NR\nNetroots UK", "Programme", "Speakers"] or names[-2:] == ["Programme", "Speakers"]
    page.keyboard.press("Enter")
    page.wait_for_url("**/speakers/")
    assert page.locator("h1").inner_text() == "Speakers"


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_no_page_scrolls_sideways(site, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    for path in public_paths():
        page.goto(site + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px too wide at {width}px"
    context.close()


def test_programme_works_with_javascript_off(site, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/programme/")
    shown = page.locator(".timetable .slot").count()
    assert shown == Session.objects.published().count()
    page.get_by_role("link", name="Workshops").click()
    assert page.locator(".timetable .slot").count() == Session.objects.published().filter(kind="workshop").count()
    context.close()


def test_axe_finds_no_wcag_violations_on_any_public_page(site, page, axe_source):
    problems = {}
    for path in public_paths():
        page.goto(site + path)
        if violations := axe_violations(page, axe_source):
            problems[path] = violations
    assert problems == {}
    assert page.csp_errors == []
