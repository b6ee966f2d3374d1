import contextlib
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from events.calendar import event_ics
from events.current import current_event_or_404
from events.models import Event
from tickets import emails, payments, ratelimit, services, webhooks
from tickets.exceptions import PaymentError, PaymentMismatch, TicketError, TooManyUnpaidBookings
from tickets.forms import FindBookingForm, ReservationForm
from tickets.models import REFERENCE_ALPHABET, Email, Order, OrderStatus

logger = logging.getLogger(__name__)

SESSION_KEY = "netroots_orders"  # references of orders made in this browser
WEBHOOK_MAX_BYTES = 64 * 1024
CONFIRMING_REFRESH_SECONDS = 3
CONFIRMING_REFRESH_FOR = timedelta(minutes=10)
FROM_CHECKOUT = "checkout"  # ?from=checkout: the buyer is back from paying on Stripe
# What our links and Stripe's can contain, checked before any query: anything else (a NUL byte, say, which
# PostgreSQL refuses with an error) can't match an order, so it gets the same "not found" page.
ORDER_REFERENCE = re.compile(rf"NR-[{REFERENCE_ALPHABET}]{{6}}")
ORDER_SECRET = re.compile(r"[A-Za-z0-9_-]{1,64}")  # secrets.token_urlsafe
CHECKOUT_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def reserve(request: HttpRequest) -> HttpResponse:
    """The reservation form. A valid POST holds the seats and redirects to Stripe Checkout (or, for free tickets,
    confirms them and redirects to the booking page)."""
    event = current_event_or_404(request)
    form = ReservationForm(request.POST or None, event=event)
    status = 200
    if request.method == "POST":
        outcome = _reserve_and_pay(request, form, event)
        if isinstance(outcome, HttpResponse):
            return outcome
        status = outcome
    references = request.session.get(SESSION_KEY, [])
    context = {
        "form": form,
        "unpaid_orders": Order.objects.filter(reference__in=references).awaiting_checkout().order_by("-created_at"),
    }
    response = render(request, "tickets/reserve.html", context, status=status)
    # The form's POST is answered with a redirect to Stripe Checkout, and browsers hold redirects after a
    # form submission to CSP's form-action too: allow Checkout's origin on this page only (django-csp).
    response._csp_update = {"form-action": [payments.checkout_origin()]}
    return response


def _reserve_and_pay(request: HttpRequest, form: ReservationForm, event: Event) -> HttpResponse | int:
    """A redirect to Stripe Checkout or the booking page, or the status to show the form again with (errors said
    on the page)."""
    if not form.is_valid():
        return 400
    if not ratelimit.allow(request, scope="reserve", rate=settings.RESERVATION_RATE_LIMIT):
        # Counted only now: fixing a typo is not an attempt.
        messages.error(request, "Too many attempts from your connection. Please wait a minute and try again.")
        return 429
    order = None
    try:
        order = services.reserve_tickets(
            event=event, client_address=ratelimit.client_address(request), **form.cleaned_data
        )
        _remember(request, order)
        # Stripe Checkout, or the booking page of a free order (confirmed at once) or of a repeated submit's order.
        return redirect(services.checkout_or_booking_url(order=order))
    except DatabaseError:
        # The database went away mid-reservation (a restart): this buyer holds nothing, and is told to try again.
        logger.exception("Reservation failed on a database error")
        if order is not None:
            services.release_unstarted(order_id=order.pk, note="the reservation failed on our side")
        # Rendered without the request, so without a query (the database may still be away), like the 500 page.
        return _private(HttpResponse(render_to_string("tickets/reservation_failed.html"), status=503))
    except TooManyUnpaidBookings as exc:
        # Links to this browser's unpaid bookings are on the page; the email gets the links to all of them.
        find = reverse("tickets:find-booking")
        messages.error(request, format_html('{} <a href="{}">Email me my booking links</a>.', str(exc), find))
        return 409
    except TicketError as exc:
        messages.error(request, str(exc))
        return 409


def _remember(request: HttpRequest, order: Order) -> None:
    """Remember the order in this browser's session (the same form sent twice returns the first booking: once), and
    save the session now, before Stripe is called: a session that can't be saved (the database restarting) fails
    here, while the order's hold is provisional, and not after its seats were sent to Checkout. (SessionMiddleware
    sets the cookie, and doesn't write the same data again: netroots.sessions.)"""
    earlier = [reference for reference in request.session.get(SESSION_KEY, []) if reference != order.reference]
    request.session[SESSION_KEY] = [*earlier[-9:], order.reference]
    request.session.save()


def _find_order(reference: str, secret: str) -> Order | None:
    if not (ORDER_REFERENCE.fullmatch(reference) and ORDER_SECRET.fullmatch(secret)):
        return None
    order = Order.objects.select_related("event").filter(reference=reference).first()
    return order if order is not None and order.secret_matches(secret) else None


def _booking_not_found(request: HttpRequest) -> HttpResponse:
    """Our own 404 for booking links, rendered here so it shows the same with DEBUG on."""
    return _private(render(request, "tickets/booking_not_found.html", status=404))


@never_cache
def checkout_success(request: HttpRequest) -> HttpResponse:
    """Stripe sends the buyer here after paying. It shows nothing itself: it confirms, then redirects."""
    session_id = request.GET.get("session_id", "")
    order = (
        Order.objects.filter(stripe_checkout_session_id=session_id).first()
        if CHECKOUT_SESSION_ID.fullmatch(session_id)
        else None
    )
    if order is None or order.reference not in request.session.get(SESSION_KEY, []):
        current_event_or_404(request)
        return render(request, "tickets/checkout_unknown.html", status=404)
    # Usually the webhook has already confirmed it. If not, confirm it now; if Stripe can't be read now,
    # the booking page shows "confirming" and the webhook finishes the job.
    if not order.is_paid:
        with contextlib.suppress(PaymentError, PaymentMismatch):
            order = services.fulfil_checkout(session_id=session_id) or order
    if order.is_paid:
        return redirect(order.get_absolute_url())
    return redirect(f"{order.get_absolute_url()}?from={FROM_CHECKOUT}")


@never_cache
def checkout_cancel(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    """Stripe's cancel link: expire the Checkout Session, then free the seats at once.

    If Stripe can't be reached, nothing changes: the page says the hold runs out on its own.
    """
    order = _find_order(reference, secret)
    if order is None:
        return _booking_not_found(request)
    could_not_cancel = False
    if order.is_pending:
        try:
            order = services.release_order(order=order, status=OrderStatus.CANCELLED, note="buyer cancelled")
        except PaymentMismatch:  # paid, but not this order's amount: being refunded; the booking page says so
            return redirect(order.get_absolute_url())
        except PaymentError:
            could_not_cancel = True
    if order.has_payment_in_hand:
        return redirect(order.get_absolute_url())  # it was paid after all: the booking page says what happens
    context = {
        "order": order,
        "event": order.event,
        "could_not_cancel": could_not_cancel,
        "hold_is_live": order.hold_expires_at > timezone.now(),
    }
    return _private(render(request, "tickets/checkout_cancelled.html", context))


@never_cache
def order_detail(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    order = _find_order(reference, secret)
    if order is None:
        return _booking_not_found(request)
    now = timezone.now()
    # "Confirming your payment" only for a buyer back from Stripe, or a payment Stripe says is on its way;
    # anyone else with a pending order (say, from the find-my-booking email) hasn't paid yet.
    confirming = order.is_pending and (request.GET.get("from") == FROM_CHECKOUT or order.is_awaiting_async_payment)
    # While a payment is being confirmed the page reloads itself, without JavaScript, through the Refresh
    # header (a meta refresh fails WCAG 2.2.1), and only for the first minutes; after that, "Check again".
    refreshing = confirming and now - order.created_at < CONFIRMING_REFRESH_FOR
    context = {
        "order": order,
        "event": order.event,
        "tickets": order.tickets.all(),
        "confirming": confirming,
        "refreshing": refreshing,
        "hold_is_live": order.hold_expires_at > now,
        # "on its way" until the mail server has really taken it (a task sends it: tickets.emails)
        "confirmation_sent": order.emails.filter(kind=Email.Kind.CONFIRMATION, sent_at__isnull=False).exists(),
    }
    response = render(request, "tickets/order_detail.html", context)
    if refreshing:
        response["Refresh"] = str(CONFIRMING_REFRESH_SECONDS)
    return _private(response)


def order_calendar(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    order = _find_order(reference, secret)
    if order is None or not order.is_paid:
        return _booking_not_found(request)
    calendar = event_ics(order.event, url=emails.event_page_url())  # never the booking link: entries get shared
    response = HttpResponse(calendar, content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="{order.event.slug}.ics"'
    return _private(response)


@never_cache
@require_http_methods(["GET", "POST"])
def find_booking(request: HttpRequest) -> HttpResponse:
    """Emails the booking links for an address. Answers the same whether or not it has orders."""
    form = FindBookingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif not ratelimit.allow(request, scope="find", rate=settings.FIND_BOOKING_RATE_LIMIT):
            messages.error(request, "Too many requests from your connection. Please try again in a few minutes.")
            status = 429
        else:
            emails.request_booking_links(form.cleaned_data["email"])
            messages.success(
                request,
                "If we have bookings for that address, we’ve sent their links to it. "
                "Check your inbox (and spam folder) in a minute.",
            )
            return redirect("tickets:find-booking")
    return render(request, "tickets/find_booking.html", {"form": form}, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify, record, dispatch. Anything verified gets a 2xx (Stripe stops retrying), unless we failed."""
    try:
        content_length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponseBadRequest("Invalid Content-Length.")
    if content_length > WEBHOOK_MAX_BYTES:
        return HttpResponseBadRequest("Payload too large.")
    try:
        event = payments.verify_webhook(request.body, request.headers.get("Stripe-Signature"))
    except payments.InvalidWebhook:
        return HttpResponseBadRequest("Invalid signature.")
    try:
        outcome = webhooks.handle(event)
    except PaymentError:
        return HttpResponse("Stripe could not be reached; retry later.", status=503)
    return HttpResponse(outcome, content_type="text/plain")
