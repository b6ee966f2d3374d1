"""sitemap.xml (django.contrib.sitemaps): every public page worth finding, and nothing private.

Listed: the home page, the programme, the speakers, the organisations and the ticket form; every published
session; every programme speaker (events.models.programme_speakers, so no one whose sessions are all
unpublished); the current event's published information pages. Never a booking, checkout, admin or other
private page: those are named by no sitemap here (and robots.txt asks crawlers to keep out of them).

Addresses are absolute on settings.SITE_URL, the public address, whatever host the request came in on.

private_paths() names the private pages for robots.txt and for the pages' own <head> (netroots.templatetags.page_meta:
no address of their own in link previews, and "noindex").
"""

from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from events.models import Event, InfoPage, Session, programme_speakers


@cache
def private_paths() -> tuple[str, ...]:
    """Paths (prefixes) that no crawler should fetch: the admin, bookings (secret links), checkout, the Stripe
    webhook and the health check. Reversed, so that they follow the URLs if these move, and once per process: every
    page's <head> asks (netroots.templatetags.page_meta)."""
    booking = reverse("tickets:order-detail", args=["REF", "SECRET"])
    return (
        reverse("admin:index"),
        booking[: booking.index("REF")],  # /tickets/order/: every booking page, its cancel and calendar links
        reverse("tickets:checkout-success").rsplit("/", 2)[0] + "/",  # /tickets/checkout/
        reverse("stripe-webhook"),
        reverse("healthz"),
    )


def is_private(path: str) -> bool:
    """True if `path` (a URL's path) is under one of private_paths()."""
    return path.startswith(private_paths())


class SiteURLSitemap(Sitemap):
    """Sitemap whose addresses start with settings.SITE_URL (scheme and host), not the Sites framework's domain."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc


class PagesSitemap(SiteURLSitemap):
    """The site's fixed public pages, by URL name."""

    def items(self) -> list[str]:
        return ["home", "events:session-list", "speakers:speaker-list", "speakers:organisation-list", "tickets:reserve"]

    def location(self, item: str) -> str:
        return reverse(item)


class SessionsSitemap(SiteURLSitemap):
    def items(self):
        return Session.objects.published().order_by("starts_at", "pk").only("slug")


class SpeakersSitemap(SiteURLSitemap):
    def items(self):
        return programme_speakers().order_by("name", "pk").only("slug")


class InfoPagesSitemap(SiteURLSitemap):
    def items(self):
        event = Event.objects.current()
        return InfoPage.objects.published().filter(event=event).order_by("position", "kind") if event else []

    def lastmod(self, page: InfoPage):
        return page.updated_at


SITEMAPS = {
    "pages": PagesSitemap,
    "sessions": SessionsSitemap,
    "speakers": SpeakersSitemap,
    "information": InfoPagesSitemap,
}
