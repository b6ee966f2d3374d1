from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from events.models import Event, Session
from events.pagecache import cached_page
from speakers.models import Speaker


@cached_page()
def speaker_list(request: HttpRequest) -> HttpResponse:
    speakers = Speaker.objects.with_sessions().select_related("organisation")
    return render(request, "speakers/speaker_list.html", {"speakers": speakers, "event": Event.objects.current()})


@cached_page()
def speaker_detail(request: HttpRequest, slug: str) -> HttpResponse:
    sessions = Session.objects.published().select_related("room").order_by("starts_at")
    speaker = get_object_or_404(
        Speaker.objects.select_related("organisation").prefetch_related(Prefetch("sessions", queryset=sessions)),
        slug=slug,
    )
    return render(request, "speakers/speaker_detail.html", {"speaker": speaker, "event": Event.objects.current()})
