"""The purchase benchmark's parts that run inside this process with Django set up (django.setup() first).

The event on sale, its seats, and one whole purchase through the Django test client, so that its SQL
queries can be counted per request with CaptureQueriesContext: the same views, middleware and services
as under gunicorn, in this process, against the benchmark database and a Stripe test double of its own.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.db import connection
from django.db.models import Q, Sum
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import buyer
from events.models import Event
from stripe_double import StripeDouble
from tickets.models import Order, OrderStatus, StripeEvent
from tickets.services import sales_problem

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
CLIENT_HEADERS = {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https", "HTTP_ORIGIN": "https://127.0.0.1"}


@dataclass(frozen=True)
class Seats:
    held: int  # pending orders whose hold is live
    paid: int

    @property
    def taken(self) -> int:
        return self.held + self.paid


@dataclass(frozen=True)
class Step:
    request: str
    status: int
    queries: int  # everything Django sent, as CaptureQueriesContext counts it
    transaction_control: int  # of those, BEGIN, COMMIT, SAVEPOINT and RELEASE SAVEPOINT


def event_on_sale() -> Event:
    """The demo event, with its sales window open now (the demo opens sales on a fixed date)."""
    event = Event.objects.current()
    if event is None:
        raise LookupError("no event: load the demo programme first")
    Event.objects.filter(pk=event.pk).update(sales_open_at=min(event.sales_open_at, timezone.now() - timedelta(days=1)))
    event.refresh_from_db()
    if problem := sales_problem(event):
        raise RuntimeError(f"tickets for {event} are not on sale: {problem}")
    return event


def reset(event: Event, *, capacity: int) -> None:
    """No orders, no Stripe events, and this many seats (QuerySet.update: nothing public changes)."""
    StripeEvent.objects.all().delete()
    Order.objects.filter(event=event).delete()  # tickets, logs and emails go with them
    Event.objects.filter(pk=event.pk).update(capacity=capacity)


def seats(event: Event) -> Seats:
    counts = (
        Order.objects.filter(event=event)
        .holding_seats()
        .aggregate(
            held=Sum("quantity", filter=Q(status=OrderStatus.PENDING), default=0),
            paid=Sum("quantity", filter=Q(status=OrderStatus.PAID), default=0),
        )
    )
    return Seats(**counts)


def paid_orders(event: Event) -> int:
    return Order.objects.filter(event=event, status=OrderStatus.PAID).count()


def one_purchase_in_process() -> list[Step]:
    """One buyer's whole purchase, each request to the site through the test client, with its SQL queries.

    The payment itself is the same POST to the double's payment page that a browser sends; the double's
    webhook is then delivered through the test client too, signed as the double signs it, before the
    success URL is opened, which is the order the double keeps under gunicorn (it POSTs the webhook
    before it answers the payment).
    """
    with (
        StripeDouble(webhook_secret=f"whsec_bench_{secrets.token_hex(16)}") as double,
        override_settings(STRIPE_API_BASE=double.base_url, STRIPE_WEBHOOK_SECRET=double.webhook_secret),
    ):
        client = Client(enforce_csrf_checks=True, **CLIENT_HEADERS)
        steps: list[Step] = []

        def step(request: str, expected: int, call):
            with CaptureQueriesContext(connection) as queries:
                response = call()
            if response.status_code != expected:
                raise buyer.PurchaseError(f"{request}: HTTP {response.status_code}, expected {expected}")
            control = sum(query["sql"].startswith(TRANSACTION_CONTROL) for query in queries.captured_queries)
            steps.append(Step(request, response.status_code, len(queries), control))
            return response

        form = step("GET /tickets/ (the form)", 200, lambda: client.get("/tickets/"))
        token = buyer.CSRF_INPUT.search(form.content)
        if token is None:
            raise buyer.PurchaseError("GET /tickets/: no reservation form on the page")
        fields = {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "quantity": "1",
            "buyer_name": "Bench Buyer",
            "buyer_email": "buyer@example.com",
        }
        reserved = step("POST /tickets/ (reserve)", 302, lambda: client.post("/tickets/", fields))
        browser = buyer.Browser(site_port=0)  # only talks to the double here
        try:
            paid = browser.post(reserved["Location"], {"action": "pay"})
        finally:
            browser.close()
        if paid.status != 303:
            raise buyer.PurchaseError(f"POST pay on the double: HTTP {paid.status}")
        body, headers = double.signed_payload(double.events("checkout.session.completed")[-1])
        step(
            "POST /stripe/webhook/ (from Stripe)",
            200,
            lambda: client.post(
                "/stripe/webhook/",
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
            ),
        )
        success = urlsplit(paid.location)
        returned = step("GET /tickets/checkout/success/", 302, lambda: client.get(f"{success.path}?{success.query}"))
        booking = step("GET /tickets/order/…/ (booking)", 200, lambda: client.get(returned["Location"]))
        if "You’re going to" not in booking.content.decode():
            raise buyer.PurchaseError("the booking page does not show the order paid")
    return steps
