from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from events.current import current_event
from tickets.services import SalesState, sales_state


def _current_sales(request: HttpRequest) -> SalesState | None:
    event = current_event(request)
    return sales_state(event) if event is not None else None


def site(request: HttpRequest) -> dict:
    """`event` on every page (title, navigation, footer), and `sales`, the current event's
    tickets.services.SalesState (None without an event), each read only if the template uses it.

    A view's own `event` (a booking's event, say) and `sales` take precedence over these. `sales` is always
    the current event's, whose form is the ticket link's: a page about another event compares `sales.event_id`.
    A cached page that shows `sales` must be cached under the SALES version too (netroots.urls).
    """
    return {
        "event": SimpleLazyObject(lambda: current_event(request)),
        "sales": SimpleLazyObject(lambda: _current_sales(request)),
    }
