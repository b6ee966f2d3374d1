from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from events.current import current_event


def site(request: HttpRequest) -> dict:
    """`event` on every page (title, navigation, footer), read only if the template uses it.

    A view's own `event` (a booking's event, say) takes precedence over this one.
    """
    return {"event": SimpleLazyObject(lambda: current_event(request))}
