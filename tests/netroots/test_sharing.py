"""Found and shared: link-preview tags (OpenGraph, Twitter cards) with absolute URLs on every public page, the
image they point at, robots.txt, /favicon.ico, sitemap.xml (public pages only), and the 404 and 500 pages that
keep the site's header and footer."""

import io
import re
from html.parser import HTMLParser
from urllib.robotparser import RobotFileParser
from xml.etree import ElementTree

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import path
from PIL import Image

from events.models import InfoPage, Session, programme_speakers
from netroots import urls as site_urls
from tests.factories import EventFactory, OrderFactory, SessionFactory, SpeakerFactory

pytestmark = pytest.mark.django_db

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def boom(request: HttpRequest):
    raise RuntimeError("a bug")


# The site's URLs and one that fails, for the 500 page (@pytest.mark.urls(__name__)).
urlpatterns = [path("boom/", boom), *site_urls.urlpatterns]


class Head(HTMLParser):
    """The <title>, and every <meta> and <link rel> in <head>, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, list[str]] = {}
        self.title, self._in_title = "", False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "meta" and (key := attributes.get("property") or attributes.get("name")):
            self.meta[key] = attributes.get("content", "")
        elif tag == "link":
            self.links.setdefault(attributes.get("rel", ""), []).append(attributes.get("href", ""))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def head_of(client, url: str) -> Head:
    response = client.get(url)
    assert response.status_code == 200, url
    head = Head()
    head.feed(response.content.decode().split("</head>")[0])
    return head


def public_urls() -> list[str]:
    session = Session.objects.published().filter(kind=Session.Kind.WORKSHOP).first()
    return [
        "/",
        "/programme/",
        "/programme/?kind=workshop",
        session.get_absolute_url(),
        "/speakers/",
        programme_speakers().first().get_absolute_url(),
        "/organisations/",
        *(page.get_absolute_url() for page in InfoPage.objects.all()),
        "/tickets/",
        "/tickets/find/",
    ]


def test_every_public_page_has_link_preview_tags_with_absolute_urls(demo, client, settings):
    settings.SITE_URL = "https://netroots.example"  # the public address, whatever host the request names
    urls = public_urls()
    assert len(urls) == 16  # 7 information pages among them
    for url in urls:
        head = head_of(client, url)
        meta = head.meta
        for key in ["og:title", "og:description", "og:url", "og:image", "og:image:alt", "og:site_name",
                    "twitter:card", "twitter:title", "twitter:description", "twitter:image"]:  # fmt: skip
            assert meta.get(key, "").strip(), f"{url}: no {key}"
        assert meta["og:url"] == "https://netroots.example" + url.split("?")[0], url
        assert head.links["canonical"] == [meta["og:url"]], url
        assert meta["og:image"] == "https://netroots.example/static/img/og-netroots.png", url
        assert meta["twitter:image"] == meta["og:image"]
        assert meta["twitter:card"] == "summary_large_image"
        assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
        assert meta["og:title"] == meta["twitter:title"] == head.title.strip(), url
        assert meta["og:description"] == meta["twitter:description"] == meta["description"], url
        assert meta["og:site_name"] == "Netroots UK"


def test_a_shared_session_or_info_page_previews_as_itself(demo, client):
    session = Session.objects.published().get(slug="online-to-offline-action")
    meta = head_of(client, session.get_absolute_url()).meta
    assert meta["og:title"].startswith(session.title)
    assert meta["og:description"].split()[:5] == session.abstract.split()[:5]
    privacy = demo.info_pages.get(kind="privacy")
    meta = head_of(client, "/info/privacy/").meta
    assert meta["og:title"] == f"{privacy.title} · Netroots UK"
    assert meta["og:description"] == privacy.summary


def test_a_booking_page_names_no_address_of_its_own_and_asks_not_to_be_indexed(demo, client):
    order = OrderFactory(event=demo, paid=True)
    for url in [order.get_absolute_url(), f"/tickets/order/{order.reference}/wrong-secret/"]:
        response = client.get(url)
        head = Head()
        head.feed(response.content.decode().split("</head>")[0])
        assert "og:url" not in head.meta, url
        assert "canonical" not in head.links, url
        assert head.meta["robots"] == "noindex, nofollow", url
        assert head.meta["og:title"], url  # a preview still names the event
    assert order.secret not in client.get(f"/tickets/order/{order.reference}/wrong-secret/").content.decode()
    assert "robots" not in head_of(client, "/").meta


def test_the_preview_image_is_served_by_the_site_at_1200_by_630(demo, client):
    image_url = head_of(client, "/").meta["og:image"].removeprefix("http://testserver")
    response = client.get(image_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert (image.format, image.size) == ("PNG", (1200, 630))


def test_robots_txt_lets_crawlers_in_everywhere_public_and_nowhere_private(demo, client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text.splitlines()
    robots = RobotFileParser()
    robots.parse(text.splitlines())
    for url in public_urls():
        assert robots.can_fetch("Googlebot", "http://testserver" + url), url
    order = OrderFactory(event=demo, paid=True)
    private = [
        "/admin/",
        "/admin/tickets/order/",
        order.get_absolute_url(),
        order.get_absolute_url() + "calendar.ics",
        order.get_absolute_url() + "cancel/",
        "/tickets/checkout/success/?session_id=cs_test_1",
        "/stripe/webhook/",
        "/healthz",
    ]
    for url in private:
        assert not robots.can_fetch("Googlebot", "http://testserver" + url), url


def test_favicon_ico_is_served_by_the_site(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert "max-age" in response["Cache-Control"]
    icon = Image.open(io.BytesIO(response.content))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32), (48, 48)} <= set(icon.info["sizes"])
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/no-such-page/").content.decode()


def sitemap_locations(client) -> list[str]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 (the site's own sitemap)
    return [loc.text for loc in root.iter(SITEMAP_NS + "loc")]


def test_the_sitemap_lists_every_public_page_and_each_answers(demo, client):
    hidden = SessionFactory(event=demo, title="Secret session", slug="secret-session", is_published=False)
    unlisted_speaker = SpeakerFactory(name="Only In Secret", slug="only-in-secret")
    hidden.speaker_roles.create(speaker=unlisted_speaker, position=1)
    demo.info_pages.filter(kind="contact").update(is_published=False)
    locations = sitemap_locations(client)
    assert all(loc.startswith("http://testserver/") for loc in locations)
    paths = [loc.removeprefix("http://testserver") for loc in locations]
    assert len(paths) == len(set(paths))
    for expected in ["/", "/programme/", "/speakers/", "/organisations/", "/tickets/"]:
        assert expected in paths
    assert {s.get_absolute_url() for s in Session.objects.published()} <= set(paths)
    assert {s.get_absolute_url() for s in programme_speakers()} <= set(paths)
    assert {p.get_absolute_url() for p in demo.info_pages.filter(is_published=True)} <= set(paths)
    assert "/programme/secret-session/" not in paths
    assert unlisted_speaker.get_absolute_url() not in paths
    assert "/info/contact/" not in paths
    assert not [p for p in paths if p.startswith(("/admin", "/tickets/order", "/tickets/checkout", "/stripe"))]
    for url in paths:
        assert client.get(url).status_code == 200, url


def test_sitemap_addresses_are_on_the_public_site_url(demo, client, settings):
    settings.SITE_URL = "https://netroots.example"
    locations = sitemap_locations(client)
    assert locations[0] == "https://netroots.example/"
    assert all(loc.startswith("https://netroots.example/") for loc in locations)


def assert_site_header_and_footer(html: str) -> None:
    assert re.search(r'<header class="site-header">.*<nav aria-label="Main">', html, re.S)
    for link in ['href="/programme/"', 'href="/speakers/"', 'href="/organisations/"', 'href="/tickets/"']:
        assert link in html.split("</header>")[0], link
    assert '<footer class="site-footer">' in html
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html


def test_the_404_page_keeps_the_header_and_footer(demo, client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert_site_header_and_footer(html)
    assert "We can’t find that page" in html
    assert 'href="/info/venue/"' in html.split('<footer class="site-footer">')[1]  # the footer's event links


@pytest.mark.urls(__name__)
def test_the_500_page_keeps_the_header_and_footer_and_needs_no_database(demo, django_db_blocker):
    client = Client(raise_request_exception=False)
    with django_db_blocker.block():  # the database may be what failed: any query would fail the page
        response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert_site_header_and_footer(html)
    assert "Something went wrong on our side" in html
    assert "/static/css/site.css" in html


def test_pages_with_no_event_still_have_tags(client, django_capture_on_commit_callbacks):
    head = head_of(client, "/speakers/")
    assert head.meta["og:site_name"] == "Netroots"
    assert head.meta["og:url"] == "http://testserver/speakers/"
    with django_capture_on_commit_callbacks(execute=True):  # the new event moves the page cache's version
        EventFactory(name="Netroots Test")
    assert head_of(client, "/speakers/").meta["og:site_name"] == "Netroots Test"
