"""Pages of the site as a whole: the home page (the programme with tickets left) and the health check."""

import logging
from datetime import datetime

from django.core.cache import cache
from django.db import connection
from django.db.models import Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from events.current import current_event
from events.models import Session, programme_speakers
from speakers.models import Organisation
from tickets.models import Order
from tickets.services import sales_problem, seats_left

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
    """The event: what, when, where, tickets left, highlights, featured speakers, organisations."""
    event = current_event(request)
    if event is None:
        return render(request, "events/no_event.html")
    context = {
        "event": event,
        "seats_left": seats_left(event),
        "sales_problem": sales_problem(event),
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
