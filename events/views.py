from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from events import calendar, timetable
from events.models import Event, Session
from events.pagecache import cached_page
from speakers.models import Organisation, Speaker
from tickets.services import sales_problem, seats_left


def current_event_or_404() -> Event:
    event = Event.objects.current()
    if event is None:
        raise Http404("No event has been set up yet.")
    return event


def _sales_state(request: HttpRequest) -> str:
    event = Event.objects.current()
    return f"{seats_left(event)}|{sales_problem(event)}" if event else ""


@cached_page(vary_on=_sales_state)
def event_detail(request: HttpRequest) -> HttpResponse:
    event = Event.objects.current()
    if event is None:
        return render(request, "events/no_event.html")
    context = {
        "event": event,
        "seats_left": seats_left(event),
        "sales_problem": sales_problem(event),
        "featured_speakers": Speaker.objects.filter(is_featured=True).select_related("organisation"),
        "organisations": Organisation.objects.filter(speakers__isnull=False).distinct(),
        "highlights": Session.objects.published()
        .filter(event=event, kind__in=[Session.Kind.KEYNOTE, Session.Kind.WORKSHOP])
        .select_related("room")
        .order_by("starts_at")[:6],
    }
    return render(request, "events/event_detail.html", context)


@cached_page(vary_on_params=("kind", "track"))
def session_list(request: HttpRequest) -> HttpResponse:
    event = current_event_or_404()
    tracks = list(event.tracks.all())
    kind = request.GET.get("kind", "")
    track = next((t for t in tracks if t.slug == request.GET.get("track")), None)
    sessions = Session.objects.filter(event=event).for_programme()
    if kind in Session.Kind.values:
        sessions = sessions.filter(kind=kind)
    else:
        kind = ""  # an unknown kind is ignored, not an error
    if track:
        sessions = sessions.filter(track=track)
    context = {
        "event": event,
        "days": timetable.build_days(list(sessions)),
        "kinds": [k for k in Session.Kind if k != Session.Kind.BREAK],
        "tracks": tracks,
        "kind": kind,
        "track": track,
        "is_filtered": bool(kind or track),
    }
    return render(request, "events/session_list.html", context)


def _published_session(slug: str) -> Session:
    return get_object_or_404(
        Session.objects.published()
        .select_related("event", "room", "track")
        .prefetch_related("speaker_roles__speaker__organisation"),
        slug=slug,
    )


@cached_page()
def session_detail(request: HttpRequest, slug: str) -> HttpResponse:
    session = _published_session(slug)
    return render(request, "events/session_detail.html", {"session": session, "event": session.event})


def session_ics(request: HttpRequest, slug: str) -> HttpResponse:
    session = _published_session(slug)
    response = HttpResponse(
        calendar.session_ics(session, url=request.build_absolute_uri(session.get_absolute_url())),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{session.slug}.ics"'
    return response


@cached_page()
def organisation_list(request: HttpRequest) -> HttpResponse:
    groups: dict[str, list[Organisation]] = {heading: [] for heading in Organisation.KIND_HEADINGS.values()}
    for organisation in Organisation.objects.prefetch_related("speakers"):
        groups[Organisation.KIND_HEADINGS[organisation.kind]].append(organisation)
    groups = {heading: members for heading, members in groups.items() if members}
    return render(request, "events/organisation_list.html", {"event": Event.objects.current(), "groups": groups})


def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database and the cache answer; 503 naming what failed."""
    problems = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        problems["database"] = str(exc) or exc.__class__.__name__
    try:
        cache.set("healthz", "ok", 10)
        if cache.get("healthz") != "ok":
            problems["cache"] = "the cache did not return what was stored"
    except Exception as exc:
        problems["cache"] = str(exc) or exc.__class__.__name__
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ok"})
