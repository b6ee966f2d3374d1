"""The programme's public pages: the timetable, sessions (and their calendar files), speakers and organisations.

Speakers show only as the programme's speakers (events.models.programme_speakers): someone whose
sessions are all unpublished appears on no public page. The organisations page lives here, not in the
speakers app, because that rule needs the sessions.

The event's information pages (venue, accessibility, terms...) are here too: what organisers wrote for the current
event, one page per kind.

The site (netroots.urls) maps them to URLs and caches the pages (netroots.pagecache).
"""

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from events import calendar, timetable
from events.current import current_event_or_404
from events.models import InfoPage, Session, programme_speakers
from speakers.models import Organisation


def session_list(request: HttpRequest) -> HttpResponse:
    event = current_event_or_404(request)
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


def speaker_list(request: HttpRequest) -> HttpResponse:
    speakers = programme_speakers().select_related("organisation")
    return render(request, "speakers/speaker_list.html", {"speakers": speakers})


def speaker_detail(request: HttpRequest, slug: str) -> HttpResponse:
    sessions = Session.objects.published().select_related("room").order_by("starts_at")
    speaker = get_object_or_404(
        programme_speakers().select_related("organisation").prefetch_related(Prefetch("sessions", queryset=sessions)),
        slug=slug,
    )
    return render(request, "speakers/speaker_detail.html", {"speaker": speaker})


def organisation_list(request: HttpRequest) -> HttpResponse:
    """The organisations taking part, grouped by kind (parties, unions, ...), each with its programme's speakers."""
    groups: dict[str, list[Organisation]] = {heading: [] for heading in Organisation.KIND_HEADINGS.values()}
    speaking = Prefetch("speakers", queryset=programme_speakers().order_by("name"), to_attr="speaking")
    for organisation in Organisation.objects.prefetch_related(speaking):
        groups[Organisation.KIND_HEADINGS[organisation.kind]].append(organisation)
    groups = {heading: members for heading, members in groups.items() if members}
    return render(request, "speakers/organisation_list.html", {"groups": groups})


def info_page(request: HttpRequest, kind: str) -> HttpResponse:
    """One of the current event's published information pages (`kind`: an InfoPage.Kind value); 404 if it has none."""
    event = current_event_or_404(request)
    page = get_object_or_404(InfoPage.objects.published(), event=event, kind=kind)
    return render(request, "events/info_page.html", {"event": event, "page": page})
