"""Pages of the site as a whole: the home page (the programme with tickets left), the health check, and what
crawlers and browsers ask every site for (robots.txt, favicon.ico)."""

import logging
from datetime import datetime
from functools import cache as memoize

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from events.current import current_event
from events.models import Session, programme_speakers
from netroots import sitemaps
from speakers.models import Organisation
from tickets.models import Order
from tickets.services import sales_state

logger = logging.getLogger(__name__)


def sales_state_changes_at(request: HttpRequest) -> datetime | None:
    """When the home page's live part (tickets left, on sale or not) next changes with no write: sales
    open or close, the event ends (another may become current) or a hold runs out. For the page cache.

    Writes change it too: those bump the page cache's versions (netroots.signals), so they aren't here.
    """
    event = current_event(request)
    if event is None:
        return None
    now = timezone.now()
    holds_end = Order.objects.filter(event=event).awaiting_checkout(now=now).aggregate(at=Min("hold_expires_at"))
    moments = (event.sales_open_at, event.sales_close_at, event.ends_at, holds_end["at"])
    return min((moment for moment in moments if moment and moment > now), default=None)


def home(request: HttpRequest) -> HttpResponse:
    """The event: what, when, where, its sales state (tickets.services.sales_state), highlights, featured speakers,
    organisations."""
    event = current_event(request)
    if event is None:
        return render(request, "events/no_event.html")
    context = {
        "event": event,
        "sales": sales_state(event),
        "featured_speakers": programme_speakers().filter(is_featured=True).select_related("organisation"),
        "organisations": Organisation.objects.filter(speakers__in=programme_speakers()).distinct(),
        "highlights": Session.objects.published()
        .filter(event=event, kind__in=[Session.Kind.KEYNOTE, Session.Kind.WORKSHOP])
        .select_related("room")
        .order_by("starts_at")[:6],
    }
    return render(request, "events/event_detail.html", context)


def healthz(request: HttpRequest) -> HttpResponse:
    """200 {"status": "ok"} when the database and the shared cache answer; else 503 with "problems" naming which
    failed, e.g. {"status": "unavailable", "problems": ["cache"]}.

    The body is public, so it names parts only: the error itself (hosts, ports, messages) goes to the log. It
    always asks the cache itself (not the page cache's outage flag), so it costs at most the cache's timeouts.
    """
    problems = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("Health check: the database failed")
        problems.append("database")
    try:
        cache.set("healthz", "ok", 10)
        if cache.get("healthz") != "ok":
            logger.error("Health check: the cache did not return what was stored")
            problems.append("cache")
    except Exception:
        logger.exception("Health check: the cache failed")
        problems.append("cache")
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ok"})


@require_safe
@cache_control(public=True, max_age=24 * 60 * 60)
def robots_txt(request: HttpRequest) -> HttpResponse:
    """robots.txt: every public page may be crawled, none of sitemaps.private_paths(); the sitemap's address."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in sitemaps.private_paths()), "Allow: /", ""]
    lines.append(f"Sitemap: {settings.SITE_URL}{reverse('sitemap')}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@memoize
def _favicon_bytes() -> bytes | None:
    """static/img/favicon.ico (made by `manage.py make_site_images`), read once per process; None if missing."""
    path = finders.find("img/favicon.ico")
    if path is None:
        return None
    with open(path, "rb") as icon:
        return icon.read()


@require_safe
@cache_control(public=True, max_age=7 * 24 * 60 * 60)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, where browsers and feed readers look for it without reading the page: the site's icon."""
    icon = _favicon_bytes()
    if icon is None:
        raise Http404("No favicon.ico among the static files.")
    return HttpResponse(icon, content_type="image/x-icon")
