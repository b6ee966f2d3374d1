"""The event's information pages (venue, accessibility, FAQ, code of conduct, privacy, terms, contact), through HTTP:
organisers' Markdown comes out sanitised, every page is linked from the footer, the home page and (terms, privacy)
the ticket form, an admin edit shows at once on the cached pages, and the demo ships all of them."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from events.models import Event, InfoPage
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

KINDS = [kind.value for kind in InfoPage.Kind]
HOSTILE = """\
## Getting here

Plain **bold** and *italic*, an [internal link](/programme/) and [one to TfL](https://tfl.gov.uk/).

<script>alert("script")</script>
<img src="x" onerror="alert('img')">
<a href="javascript:alert('raw')" onclick="alert('click')">raw link</a>
<iframe src="https://evil.example/"></iframe>
<p style="position:fixed">styled</p>

[a javascript link](javascript:alert('md'))
[a spaced one](  JaVaScRiPt:alert('md2'))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
![an image](https://tracker.example/pixel.gif)
<https://example.org/autolink>
"""


class Elements(HTMLParser):
    """Every element (tag, attributes) inside the first element whose class list has `css_class`, and its text."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class, self.depth = css_class, 0
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if self.depth:
            self.elements.append((tag, attributes))
            if tag not in ("br", "hr", "img", "input", "meta", "link"):
                self.depth += 1
        elif self.css_class in (attributes.get("class") or "").split() and not self.elements:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def inside(html: str, css_class: str) -> Elements:
    parser = Elements(css_class)
    parser.feed(html)
    assert parser.elements or parser.text, f"no element with class {css_class!r}"
    return parser


def info_page(event: Event, kind: str = "faq", **fields) -> InfoPage:
    values = {"title": f"The {kind} page", "summary": f"All about {kind}.", "body": "Some words.", **fields}
    return InfoPage.objects.create(event=event, kind=kind, position=KINDS.index(kind), **values)


@pytest.fixture
def event():
    return EventFactory(name="Netroots Info Day", venue="Conway Hall Test", address="25 Red Lion Square, London")


def test_markdown_is_rendered_and_nothing_that_runs_gets_through(client, event):
    info_page(event, "faq", body=HOSTILE)
    html = client.get("/info/faq/").content.decode()
    prose = inside(html, "prose")
    tags = [tag for tag, _ in prose.elements]
    assert {"h2", "strong", "em", "a", "p"} <= set(tags)
    assert not {"script", "img", "iframe", "style", "object", "embed"} & set(tags)
    for tag, attributes in prose.elements:
        assert not [name for name in attributes if name.startswith("on") or name == "style"], (tag, attributes)
        href = (attributes.get("href") or "").strip().lower()
        assert not href.startswith(("javascript:", "data:", "vbscript:")), (tag, attributes)
    text = "".join(prose.text)
    assert "<script>alert(" in text  # shown as typed, never run
    assert "<img src=" in text
    assert "<script" not in html.split('class="prose"')[1].split("info-updated")[0]
    hrefs = {attributes.get("href"): attributes.get("rel") for tag, attributes in prose.elements if tag == "a"}
    assert hrefs["https://tfl.gov.uk/"] == "nofollow noopener"  # leaves the site
    assert hrefs["https://example.org/autolink"] == "nofollow noopener"
    assert hrefs["/programme/"] is None  # stays on it
    assert "https://tracker.example/pixel.gif" not in html


def test_a_heading_one_is_a_heading_two_and_headings_can_be_linked_to(client, event):
    info_page(event, "faq", title="Questions", body="# Can I come late?\n\nYes.\n\n[TOC]\n")
    html = client.get("/info/faq/").content.decode()
    assert html.count("<h1") == 1
    assert '<h2 id="info-can-i-come-late">Can I come late?</h2>' in html
    assert 'href="#info-can-i-come-late"' in html  # the [TOC] list


@pytest.mark.parametrize("kind", KINDS)
def test_each_page_is_at_its_own_address_and_linked_from_every_pages_footer(client, event, kind):
    page = info_page(event, kind, title=f"Title of {kind}", body=f"The **{kind}** text.")
    assert page.get_absolute_url() == f"/info/{kind}/"
    html = client.get(f"/info/{kind}/").content.decode()
    assert f"<h1>Title of {kind}</h1>" in html
    assert f"<strong>{kind}</strong>" in html
    for url in ["/", "/programme/", "/speakers/", "/organisations/", "/tickets/", f"/info/{kind}/", "/no-such-page/"]:
        footer = inside(client.get(url).content.decode(), "site-footer")
        assert ("a", {"href": f"/info/{kind}/"}) in footer.elements, url


def test_the_home_page_has_a_plan_your_day_section_with_every_page(client, event):
    for kind in KINDS:
        info_page(event, kind, summary=f"Summary of {kind}.")
    html = client.get("/").content.decode()
    section = inside(html, "info-cards")
    linked = [attributes["href"] for tag, attributes in section.elements if tag == "a"]
    assert linked == [f"/info/{kind}/" for kind in KINDS]  # in the organisers' order
    assert "Summary of privacy." in "".join(section.text)
    hero = inside(html, "facts")
    assert ("a", {"href": "/info/venue/"}) in hero.elements  # "Getting there", beside the address


def test_the_ticket_form_links_the_terms_and_the_privacy_notice_beside_its_button(client, event):
    info_page(event, "terms")
    info_page(event, "privacy")
    html = client.get("/tickets/").content.decode()
    after_button = html.split('name="reserve"')[1]
    terms = inside(after_button, "form-terms")
    assert [attributes["href"] for tag, attributes in terms.elements] == ["/info/terms/", "/info/privacy/"]


def test_the_ticket_form_links_only_the_pages_that_exist(client, event):
    html = client.get("/tickets/").content.decode()
    assert 'class="form-terms"' not in html
    info_page(event, "privacy")
    terms = inside(client.get("/tickets/").content.decode(), "form-terms")
    assert [attributes["href"] for tag, attributes in terms.elements] == ["/info/privacy/"]


def test_the_venue_page_shows_the_address_and_a_plain_link_to_openstreetmap(client, event):
    event.venue_latitude, event.venue_longitude = Decimal("51.520150"), Decimal("-0.119100")
    event.save()
    info_page(event, "venue", body="Take the Central line to Holborn.")
    html = client.get("/info/venue/").content.decode()
    card = inside(html, "venue-card")
    assert "25 Red Lion Square, London" in "".join(card.text)
    url = "https://www.openstreetmap.org/?mlat=51.520150&mlon=-0.119100#map=18/51.520150/-0.119100"
    assert ("a", {"class": "external", "href": url, "rel": "nofollow noopener"}) in card.elements
    assert "<script" not in html  # a link, no embedded map
    assert "<iframe" not in html


def test_a_venue_without_its_location_has_no_map_link(client, event):
    info_page(event, "venue")
    html = client.get("/info/venue/").content.decode()
    assert "openstreetmap.org" not in html
    assert "Conway Hall Test" in "".join(inside(html, "venue-card").text)


def test_unpublished_missing_or_unknown_pages_are_not_found_and_not_linked(client, event):
    info_page(event, "faq", is_published=False)
    assert client.get("/info/faq/").status_code == 404
    assert client.get("/info/terms/").status_code == 404  # none written
    assert client.get("/info/no-such-kind/").status_code == 404
    assert "/info/faq/" not in client.get("/programme/").content.decode()


def test_the_pages_shown_are_the_current_events(client, event):
    old = EventFactory(
        name="Last year", starts_at=event.starts_at.replace(year=2020), ends_at=event.ends_at.replace(year=2020)
    )
    info_page(old, "faq", title="Last year's questions")
    assert client.get("/info/faq/").status_code == 404
    info_page(event, "faq", title="This year's questions")
    assert "This year&#x27;s questions" in client.get("/info/faq/").content.decode()


def test_no_event_no_pages(client):
    assert client.get("/info/venue/").status_code == 404


def test_an_admin_edit_shows_at_once_on_cached_pages(client, event, organiser, django_capture_on_commit_callbacks):
    """The page cache's versions move when the edit commits (netroots.signals): the tests' transaction never
    commits, so the commit callbacks are run by hand."""
    visitor = Client()  # an attendee: no admin session, no messages cookie (which would skip the cache)
    page = info_page(event, "faq", title="Old title", body="Old words.")
    assert "Old words." in visitor.get("/info/faq/").content.decode()
    assert "Old title" in visitor.get("/programme/").content.decode()  # the footer
    InfoPage.objects.filter(pk=page.pk).update(body="Sneaked in.")  # no signal: the pages stay cached
    assert "Old words." in visitor.get("/info/faq/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/events/infopage/{page.pk}/change/",
            {
                "event": event.pk,
                "kind": "faq",
                "title": "New title",
                "summary": "",
                "body": "New words.",
                "position": 3,
                "is_published": "on",
            },
        )
    assert response.status_code == 302
    assert "New words." in visitor.get("/info/faq/").content.decode()
    assert "New title" in visitor.get("/programme/").content.decode()


def test_organisers_add_pages_in_admin_one_of_each_kind(client, event, organiser):
    add = client.get("/admin/events/infopage/add/")
    assert add.status_code == 200
    assert f'<option value="{event.pk}" selected>' in add.content.decode()  # the current event, ready
    fields = {"event": event.pk, "kind": "contact", "title": "Contact us", "summary": "", "position": 7, "body": "Hi"}
    assert client.post("/admin/events/infopage/add/", {**fields, "is_published": "on"}).status_code == 302
    again = client.post("/admin/events/infopage/add/", {**fields, "title": "Again", "is_published": "on"})
    assert again.status_code == 200
    assert "already exists" in again.content.decode()
    page = InfoPage.objects.get()
    assert page.title == "Contact us"
    event_form = client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert f"/admin/events/infopage/{page.pk}/change/" in event_form  # listed with the event, a link to edit it


def test_programme_editors_may_write_the_pages(client, event):
    editor = User.objects.create_user("editor", "editor@example.com", "pw", is_staff=True)
    editor.groups.add(Group.objects.get(name="Programme editors"))
    client.force_login(editor)
    page = info_page(event, "faq")
    assert client.get("/admin/events/infopage/add/").status_code == 200
    assert client.get(f"/admin/events/infopage/{page.pk}/change/").status_code == 200


def test_the_venue_location_is_both_numbers_or_neither(client, event, organiser):
    form = client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert 'name="venue_latitude"' in form
    assert 'name="venue_longitude"' in form
    event.venue_latitude = Decimal("51.5")
    with pytest.raises(Exception, match="both the latitude and the longitude"):
        event.full_clean()


def test_the_demo_ships_every_page_with_what_attendees_look_for(demo, client):
    pages = {page.kind: page for page in demo.info_pages.all()}
    assert set(pages) == set(KINDS)
    assert all(page.is_published and page.summary and len(page.body) > 400 for page in pages.values())
    access = pages["accessibility"].body.lower()
    for need in ["step-free", "toilet", "hearing loop", "quiet room", "bsl", "captions", "access@"]:
        assert need in access, need
    assert "stripe" in pages["privacy"].body.lower()
    assert "how long" in pages["privacy"].body.lower()
    assert "refund" in pages["terms"].body.lower()
    venue = client.get("/info/venue/").content.decode()
    assert "openstreetmap.org/?mlat=51.5213" in venue
    for station in ["Holborn", "Chancery Lane", "bus"]:
        assert station in venue
    for kind in KINDS:
        assert client.get(f"/info/{kind}/").status_code == 200
