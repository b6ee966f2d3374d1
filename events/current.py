"""The event the site is about, read once per request: the one way views and templates get it.

Views call `current_event(request)` or `current_event_or_404(request)`; templates see the same
object as `event` through the site's context processor (netroots.context_processors).
"""

from django.http import Http404, HttpRequest

from events.models import Event

_ATTRIBUTE = "_netroots_current_event"


def current_event(request: HttpRequest) -> Event | None:
    """The current event (EventQuerySet.current), or None if none is set up.

    One query on the first call in a request, none after: the result is kept on the request.
    """
    if not hasattr(request, _ATTRIBUTE):
        setattr(request, _ATTRIBUTE, Event.objects.current())
    return getattr(request, _ATTRIBUTE)


def current_event_or_404(request: HttpRequest) -> Event:
    """The current event; raises Http404 when no event has been set up yet."""
    event = current_event(request)
    if event is None:
        raise Http404("No event has been set up yet.")
    return event
