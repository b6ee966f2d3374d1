"""The Stripe test double, driven over real HTTP: by the real `stripe` library on /v1, by urllib on /pay."""

import json
import queue
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import stripe

from stripe_double import StripeDoubleError

SUCCESS_URL = "https://shop.example/tickets/checkout/success/?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://shop.example/tickets/checkout/cancelled/"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is what we are testing: hand it back as an HTTPError


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)  # loopback: never via a proxy


def http(url: str, form: dict | None = None, headers: dict | None = None) -> tuple[int, dict[str, str], str]:
    """GET (or POST `form`, urlencoded) without following redirects; (status, headers, body text)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 - our own loopback server
    try:
        with _OPENER.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()


def session_params(double, **overrides) -> dict:
    """What tickets/payments.py sends for three £5 tickets, held for 45 minutes."""
    params = {
        "mode": "payment",
        "customer_email": "ada@example.com",
        "client_reference_id": "42",
        "metadata": {"order_reference": "NR-TEST1"},
        "expires_at": double.now() + 45 * 60,
        "line_items": [
            {
                "quantity": 3,
                "price_data": {"currency": "gbp", "unit_amount": 500, "product_data": {"name": "Netroots UK ticket"}},
            }
        ],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
    }
    return {**params, **overrides}


@pytest.fixture
def api(stripe_double) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_double.base_url})


@pytest.fixture
def webhooks(stripe_double):
    """A tiny webhook receiver; the double POSTs to it. Yields a queue of (body, Stripe-Signature header)."""
    received: queue.Queue[tuple[bytes, str]] = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.put((body, self.headers.get("Stripe-Signature", "")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stripe_double.webhook_url = f"http://127.0.0.1:{server.server_address[1]}/stripe/webhook/"
    yield received
    stripe_double.webhook_url = None
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def received_event(webhooks, double, *, timeout: float = 0) -> stripe.Event:
    """The next delivered webhook, verified as our site verifies it. timeout=0: it must already have arrived."""
    body, signature = webhooks.get(timeout=timeout) if timeout else webhooks.get_nowait()
    return stripe.Webhook.construct_event(body, signature, double.webhook_secret)


def paid_session(api, double, **overrides):
    session = api.v1.checkout.sessions.create(params=session_params(double, **overrides))
    double.complete(session.id)
    return api.v1.checkout.sessions.retrieve(session.id)


# --- Checkout Sessions ---


def test_a_created_session_is_open_and_can_be_retrieved(api, stripe_double):
    params = session_params(stripe_double)
    created = api.v1.checkout.sessions.create(params=params)

    assert created.id.startswith("cs_test_")
    assert (created.status, created.payment_status, created.mode) == ("open", "unpaid", "payment")
    assert created.amount_subtotal == created.amount_total == 1500
    assert created.currency == "gbp"
    assert created.customer_email == "ada@example.com"
    assert created.client_reference_id == "42"
    assert created.metadata.to_dict() == {"order_reference": "NR-TEST1"}
    assert created.expires_at == params["expires_at"]
    assert created.success_url == SUCCESS_URL
    assert created.cancel_url == CANCEL_URL
    assert created.url == f"{stripe_double.base_url}/pay/{created.id}"
    assert created.payment_intent is None
    assert "line_items" not in created

    retrieved = api.v1.checkout.sessions.retrieve(created.id)
    assert retrieved.to_dict() == created.to_dict()


def test_the_line_items_add_up_and_must_share_one_currency(api, stripe_double):
    line = {"quantity": 1, "price_data": {"currency": "gbp", "unit_amount": 500, "product_data": {"name": "Ticket"}}}
    session = api.v1.checkout.sessions.create(
        params=session_params(stripe_double, line_items=[line, {**line, "quantity": 2}])
    )
    assert (session.amount_subtotal, session.amount_total, session.currency) == (1500, 1500, "gbp")

    euros = {**line, "price_data": {**line["price_data"], "currency": "eur"}}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api.v1.checkout.sessions.create(params=session_params(stripe_double, line_items=[line, euros]))
    assert refused.value.param == "line_items[1][price_data][currency]"


def test_an_unknown_session_is_a_404_resource_missing(api):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api.v1.checkout.sessions.retrieve("cs_test_nope")
    assert refused.value.http_status == 404
    assert refused.value.code == "resource_missing"
    assert "cs_test_nope" in str(refused.value)


# --- authentication ---


def test_a_request_without_an_api_key_is_refused(api, stripe_double):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    status, _, body = http(f"{stripe_double.base_url}/v1/checkout/sessions/{session.id}")
    assert status == 401
    assert "did not provide an API key" in json.loads(body)["error"]["message"]


@pytest.mark.parametrize("key", ["sk_live_51secretlivekey0000", "pk_test_publishable", "rk_test_restricted"])
def test_anything_but_a_secret_test_key_is_refused(api, stripe_double, key):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    other = stripe.StripeClient(key, base_addresses={"api": stripe_double.base_url})
    with pytest.raises(stripe.AuthenticationError) as refused:
        other.v1.checkout.sessions.retrieve(session.id)
    assert refused.value.http_status == 401
    assert key not in str(refused.value)  # the key is masked, as Stripe does
    with pytest.raises(stripe.AuthenticationError):
        other.v1.checkout.sessions.create(params=session_params(stripe_double))


# --- parameter validation ---


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"payment_method_types": ["card"]}, "payment_method_types"),
        ({"expand": ["line_items"]}, "expand"),
        ({"currency": "gbp"}, "currency"),
        ({"ui_mode": "embedded"}, "ui_mode"),
        ({"line_items": [{"quantity": 1, "price": "price_123"}]}, "line_items[0][price]"),
        (
            {
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "gbp",
                            "unit_amount": 500,
                            "tax_behavior": "inclusive",
                            "product_data": {"name": "Ticket"},
                        },
                    }
                ]
            },
            "line_items[0][price_data][tax_behavior]",
        ),
        (
            {
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "gbp",
                            "unit_amount": 500,
                            "product_data": {"name": "Ticket", "images": ["https://shop.example/t.png"]},
                        },
                    }
                ]
            },
            "line_items[0][price_data][product_data][images]",
        ),
    ],
)
def test_an_unknown_create_parameter_is_refused_by_name(api, stripe_double, override, named):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api.v1.checkout.sessions.create(params=session_params(stripe_double, **override))
    assert refused.value.http_status == 400
    assert (refused.value.param, refused.value.code) == (named, "parameter_unknown")
    assert f"unknown parameter: {named}" in str(refused.value)


def test_unknown_parameters_are_refused_on_every_endpoint(api, stripe_double):
    session = paid_session(api, stripe_double)
    refund = api.v1.refunds.create(params={"payment_intent": session.payment_intent, "amount": 100})
    calls = {
        "colour": lambda: api.v1.checkout.sessions.retrieve(session.id, params={"colour": "red"}),
        "expand": lambda: api.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]}),
        "reason": lambda: api.v1.checkout.sessions.expire(session.id, params={"reason": "why"}),
        "limit": lambda: api.v1.payment_intents.retrieve(session.payment_intent, params={"limit": 1}),
        "charge": lambda: api.v1.refunds.create(params={"payment_intent": session.payment_intent, "charge": "ch_1"}),
        "refund_application_fee": lambda: api.v1.refunds.create(
            params={"payment_intent": session.payment_intent, "refund_application_fee": True}
        ),
        "currency": lambda: api.v1.refunds.retrieve(refund.id, params={"currency": "gbp"}),
    }
    for named, call in calls.items():
        with pytest.raises(stripe.InvalidRequestError) as refused:
            call()
        assert refused.value.param == named


@pytest.mark.parametrize("ahead_seconds", [-60, 0, 29 * 60, 24 * 3600 + 120, 25 * 3600])
def test_expires_at_outside_30_minutes_to_24_hours_ahead_is_refused(api, stripe_double, ahead_seconds):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api.v1.checkout.sessions.create(
            params=session_params(stripe_double, expires_at=stripe_double.now() + ahead_seconds)
        )
    assert refused.value.param == "expires_at"


@pytest.mark.parametrize("ahead_seconds", [31 * 60, 23 * 3600])
def test_expires_at_inside_30_minutes_to_24_hours_ahead_is_kept(api, stripe_double, ahead_seconds):
    expires_at = stripe_double.now() + ahead_seconds
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double, expires_at=expires_at))
    assert session.expires_at == expires_at


def test_without_expires_at_a_session_lasts_24_hours(api, stripe_double):
    params = session_params(stripe_double)
    del params["expires_at"]
    session = api.v1.checkout.sessions.create(params=params)
    assert session.expires_at - session.created == 24 * 3600


# --- idempotency ---


def test_the_same_idempotency_key_and_params_replay_the_first_session(api, stripe_double):
    params = session_params(stripe_double)
    first = api.v1.checkout.sessions.create(params=params, options={"idempotency_key": "checkout-NR-TEST1"})
    again = api.v1.checkout.sessions.create(params=params, options={"idempotency_key": "checkout-NR-TEST1"})
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    another = api.v1.checkout.sessions.create(params=params, options={"idempotency_key": "checkout-NR-TEST2"})
    assert another.id != first.id


def test_the_same_idempotency_key_with_other_params_is_an_idempotency_error(api, stripe_double):
    params = session_params(stripe_double)
    first = api.v1.checkout.sessions.create(params=params, options={"idempotency_key": "checkout-NR-TEST1"})
    changed = {**params, "customer_email": "grace@example.com"}
    with pytest.raises(stripe.IdempotencyError) as refused:
        api.v1.checkout.sessions.create(params=changed, options={"idempotency_key": "checkout-NR-TEST1"})
    assert "checkout-NR-TEST1" in str(refused.value)
    assert api.v1.checkout.sessions.retrieve(first.id).customer_email == "ada@example.com"


def test_a_request_refused_by_validation_does_not_use_up_its_idempotency_key(api, stripe_double):
    with pytest.raises(stripe.InvalidRequestError):
        api.v1.checkout.sessions.create(
            params=session_params(stripe_double, mode="subscription"), options={"idempotency_key": "checkout-NR-X"}
        )
    session = api.v1.checkout.sessions.create(
        params=session_params(stripe_double), options={"idempotency_key": "checkout-NR-X"}
    )
    assert session.status == "open"


# --- expire ---


def test_an_open_session_can_be_expired_once_through_the_api(api, stripe_double):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    expired = api.v1.checkout.sessions.expire(session.id, options={"idempotency_key": "expire-NR-TEST1"})
    assert (expired.status, expired.payment_status, expired.url) == ("expired", "unpaid", None)
    [event] = stripe_double.events("checkout.session.expired")
    assert event["data"]["object"]["id"] == session.id
    assert event["request"] == {"id": expired.last_response.request_id, "idempotency_key": "expire-NR-TEST1"}

    with pytest.raises(stripe.InvalidRequestError, match="status of expired"):
        api.v1.checkout.sessions.expire(session.id)
    assert len(stripe_double.events("checkout.session.expired")) == 1


def test_a_completed_session_cannot_be_expired(api, stripe_double):
    session = paid_session(api, stripe_double)
    with pytest.raises(stripe.InvalidRequestError, match="status of complete"):
        api.v1.checkout.sessions.expire(session.id)
    assert api.v1.checkout.sessions.retrieve(session.id).status == "complete"
    assert stripe_double.events("checkout.session.expired") == []


# --- completing, and the webhooks it sends ---


def test_completing_a_session_posts_a_signed_checkout_session_completed_webhook(api, stripe_double, webhooks):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    stripe_double.complete(session.id, outcome="paid")
    stored = stripe_double.session(session.id)
    assert (stored["status"], stored["payment_status"]) == ("complete", "paid")

    event = received_event(webhooks, stripe_double)  # delivered before complete() returned
    assert event.type == "checkout.session.completed"
    assert event.id.startswith("evt_")
    assert event.api_version == stripe.api_version
    assert (event.livemode, event.pending_webhooks) == (False, 1)
    assert event.request.id is None  # caused by the customer, not by an API request
    paid = event.data.object
    assert (paid.id, paid.status, paid.payment_status, paid.url) == (session.id, "complete", "paid", None)
    assert paid.payment_intent.startswith("pi_")
    assert paid.metadata.order_reference == "NR-TEST1"
    assert stripe_double.deliveries == [(event.id, 200)]

    retrieved = api.v1.checkout.sessions.retrieve(session.id)
    assert retrieved.payment_intent == paid.payment_intent
    payment_intent = api.v1.payment_intents.retrieve(retrieved.payment_intent)
    assert payment_intent.id == paid.payment_intent
    assert (payment_intent.status, payment_intent.amount, payment_intent.amount_received) == ("succeeded", 1500, 1500)
    assert payment_intent.latest_charge.startswith("ch_")


def test_webhooks_are_signed_with_the_double_secret_only(api, stripe_double, webhooks):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    stripe_double.complete(session.id)
    body, signature = webhooks.get_nowait()
    assert stripe.Webhook.construct_event(body, signature, stripe_double.webhook_secret).type == (
        "checkout.session.completed"
    )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, "whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b'"paid"', b'"unpaid"'), signature, stripe_double.webhook_secret)


def test_without_a_webhook_url_events_are_recorded_but_not_sent(api, stripe_double):
    session = paid_session(api, stripe_double)
    [event] = stripe_double.events()
    assert (event["type"], event["pending_webhooks"]) == ("checkout.session.completed", 0)
    assert event["data"]["object"]["id"] == session.id
    assert stripe_double.deliveries == []


def test_a_session_completes_only_once(api, stripe_double):
    session = paid_session(api, stripe_double)
    with pytest.raises(StripeDoubleError, match="status of complete"):
        stripe_double.complete(session.id)
    assert len(stripe_double.events("checkout.session.completed")) == 1


@pytest.mark.parametrize(
    ("outcome", "event_type", "payment_status", "intent_status", "received_pence"),
    [
        ("succeeded", "checkout.session.async_payment_succeeded", "paid", "succeeded", 1500),
        ("failed", "checkout.session.async_payment_failed", "unpaid", "requires_payment_method", 0),
    ],
)
def test_an_async_payment_completes_unpaid_then_settles_with_its_own_event(
    api, stripe_double, webhooks, outcome, event_type, payment_status, intent_status, received_pence
):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    stripe_double.complete(session.id, outcome="async_pending")
    completed = received_event(webhooks, stripe_double)
    assert completed.type == "checkout.session.completed"
    assert (completed.data.object.status, completed.data.object.payment_status) == ("complete", "unpaid")
    pi_id = completed.data.object.payment_intent
    pending = api.v1.payment_intents.retrieve(pi_id)
    assert (pending.status, pending.amount_received) == ("processing", 0)

    stripe_double.async_result(session.id, outcome=outcome)
    assert stripe_double.session(session.id)["payment_status"] == payment_status
    settled = received_event(webhooks, stripe_double)
    assert settled.type == event_type
    assert (settled.data.object.id, settled.data.object.payment_status) == (session.id, payment_status)
    settled_intent = api.v1.payment_intents.retrieve(pi_id)
    assert (settled_intent.status, settled_intent.amount_received) == (intent_status, received_pence)

    with pytest.raises(StripeDoubleError):  # it settled already
        stripe_double.async_result(session.id, outcome="succeeded")
    assert webhooks.empty()


def test_an_async_result_needs_an_async_pending_session(api, stripe_double):
    session = paid_session(api, stripe_double)
    with pytest.raises(StripeDoubleError, match="async pending"):
        stripe_double.async_result(session.id, outcome="failed")
    assert api.v1.payment_intents.retrieve(session.payment_intent).status == "succeeded"
    assert stripe_double.events("checkout.session.async_payment_failed") == []


# --- the clock ---


def test_an_overdue_session_expires_with_its_webhook_when_next_touched(api, stripe_double, webhooks):
    session = api.v1.checkout.sessions.create(
        params=session_params(stripe_double, expires_at=stripe_double.now() + 31 * 60)
    )
    stripe_double.clock_offset_seconds += 30 * 60
    assert api.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert webhooks.empty()

    stripe_double.clock_offset_seconds += 2 * 60
    expired = api.v1.checkout.sessions.retrieve(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    event = received_event(webhooks, stripe_double, timeout=3)  # by this request, or by the sweeper just before
    assert event.type == "checkout.session.expired"
    assert event.data.object.id == session.id
    assert event.created >= session.expires_at  # stamped with the double's clock
    assert event.request.id is None  # caused by the clock, not by the request that noticed it
    assert len(stripe_double.events("checkout.session.expired")) == 1


def test_an_overdue_session_expires_with_its_webhook_even_if_nobody_asks(api, stripe_double, webhooks):
    session = api.v1.checkout.sessions.create(
        params=session_params(stripe_double, expires_at=stripe_double.now() + 31 * 60)
    )
    stripe_double.clock_offset_seconds += 32 * 60  # no request, no control: only the sweeper can notice
    event = received_event(webhooks, stripe_double, timeout=3)
    assert (event.type, event.data.object.id) == ("checkout.session.expired", session.id)
    assert [e["id"] for e in stripe_double.events("checkout.session.expired")] == [event.id]


# --- refunds ---


def test_a_refund_defaults_to_what_remains_and_more_is_refused(api, stripe_double, webhooks):
    session = paid_session(api, stripe_double)
    received_event(webhooks, stripe_double)  # checkout.session.completed
    pi_id = session.payment_intent

    part = api.v1.refunds.create(params={"payment_intent": pi_id, "amount": 500, "reason": "requested_by_customer"})
    assert part.id.startswith("re_")
    assert (part.amount, part.currency, part.status, part.reason) == (500, "gbp", "succeeded", "requested_by_customer")
    assert (part.payment_intent, part.metadata.to_dict()) == (pi_id, {})
    created = received_event(webhooks, stripe_double)
    assert (created.type, created.data.object.id, created.data.object.amount) == ("refund.created", part.id, 500)
    assert created.request.id == part.last_response.request_id

    with pytest.raises(stripe.InvalidRequestError) as refused:
        api.v1.refunds.create(params={"payment_intent": pi_id, "amount": 1001})
    assert refused.value.param == "amount"

    rest = api.v1.refunds.create(params={"payment_intent": pi_id})
    assert (rest.amount, rest.reason, rest.metadata.to_dict()) == (1000, None, {})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api.v1.refunds.create(params={"payment_intent": pi_id, "amount": 1})
    assert refused.value.code == "charge_already_refunded"

    assert api.v1.refunds.retrieve(part.id).to_dict() == part.to_dict()
    assert [e["data"]["object"]["id"] for e in stripe_double.events("refund.created")] == [part.id, rest.id]


def test_an_over_refund_is_refused_and_takes_nothing(api, stripe_double):
    session = paid_session(api, stripe_double)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api.v1.refunds.create(params={"payment_intent": session.payment_intent, "amount": 1501})
    assert refused.value.param == "amount"
    assert "£15.01" in str(refused.value)
    assert stripe_double.events("refund.created") == []
    assert api.v1.refunds.create(params={"payment_intent": session.payment_intent}).amount == 1500


def test_only_a_succeeded_payment_can_be_refunded(api, stripe_double):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    stripe_double.complete(session.id, outcome="async_pending")
    pi_id = api.v1.checkout.sessions.retrieve(session.id).payment_intent
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api.v1.refunds.create(params={"payment_intent": pi_id})
    assert refused.value.param == "payment_intent"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        api.v1.refunds.create(params={"payment_intent": "pi_nope"})
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        api.v1.refunds.retrieve("re_nope")
    assert missing.value.http_status == 404


# --- the test payment page ---


def test_the_pay_page_is_a_plainly_labelled_test_page_showing_the_amount(api, stripe_double):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    status, headers, page = http(session.url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "Test payment page" in page
    assert "Pay £15.00" in page
    assert "Netroots UK ticket" in page
    assert 'value="cancel"' in page


def test_paying_on_the_pay_page_completes_the_session_and_redirects_to_success(api, stripe_double):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    status, headers, _ = http(session.url, {"action": "pay"})
    assert status == 303
    assert headers["Location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)
    paid = api.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert [e["data"]["object"]["id"] for e in stripe_double.events("checkout.session.completed")] == [session.id]

    status, _, page = http(f"{stripe_double.base_url}/pay/{session.id}", {"action": "pay"})
    assert (status, "Already paid" in page) == (200, True)  # paying twice takes nothing more
    assert len(stripe_double.events("checkout.session.completed")) == 1


def test_cancelling_on_the_pay_page_redirects_and_leaves_the_session_open(api, stripe_double):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    status, headers, _ = http(session.url, {"action": "cancel"})
    assert (status, headers["Location"]) == (303, CANCEL_URL)
    still = api.v1.checkout.sessions.retrieve(session.id)
    assert (still.status, still.payment_status, still.url) == ("open", "unpaid", session.url)
    assert stripe_double.events() == []


def test_the_pay_page_of_an_unknown_session_is_a_404(stripe_double):
    for form in (None, {"action": "pay"}):
        status, _, page = http(f"{stripe_double.base_url}/pay/cs_test_nope", form)
        assert (status, "Unknown payment" in page) == (404, True)


def test_paying_an_expired_session_does_not_complete_it(api, stripe_double):
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    api.v1.checkout.sessions.expire(session.id)
    status, _, page = http(f"{stripe_double.base_url}/pay/{session.id}", {"action": "pay"})
    assert status == 200
    assert "This payment has expired" in page
    with pytest.raises(StripeDoubleError, match="status of expired"):
        stripe_double.complete(session.id)  # nor can a test say the customer paid
    expired = api.v1.checkout.sessions.retrieve(session.id)
    assert (expired.status, expired.payment_status, expired.payment_intent) == ("expired", "unpaid", None)
    assert stripe_double.events("checkout.session.completed") == []


# --- a slow or hanging Stripe (latency_seconds) ---


def test_with_latency_every_api_call_is_answered_that_much_later(api, stripe_double):
    stripe_double.latency_seconds = 0.3
    began = time.monotonic()
    session = api.v1.checkout.sessions.create(params=session_params(stripe_double))
    assert time.monotonic() - began >= 0.3
    assert stripe_double.session(session.id)["status"] == "open"


def test_slow_answers_overlap_instead_of_queueing(api, stripe_double):
    stripe_double.latency_seconds = 0.4
    with ThreadPoolExecutor(10) as pool:
        began = time.monotonic()
        sessions = list(
            pool.map(lambda _: api.v1.checkout.sessions.create(params=session_params(stripe_double)), range(10))
        )
        elapsed = time.monotonic() - began
    assert len({session.id for session in sessions}) == 10
    assert 0.4 <= elapsed < 1.2  # one after another: 4 s


def test_a_hanging_double_makes_a_client_time_out_until_its_latency_is_lowered(stripe_double):
    patient = stripe.StripeClient(
        "sk_test_x",
        base_addresses={"api": stripe_double.base_url},
        http_client=stripe.RequestsClient(timeout=(1, 0.5)),
        max_network_retries=0,
    )
    stripe_double.latency_seconds = 30
    began = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        patient.v1.checkout.sessions.create(params=session_params(stripe_double))
    assert time.monotonic() - began < 2
    assert stripe_double.waiting_requests == 1  # still waiting: it would act on the request after 30 s
    stripe_double.latency_seconds = 0  # read as each request arrives
    assert patient.v1.checkout.sessions.create(params=session_params(stripe_double)).status == "open"
    began = time.monotonic()
    stripe_double.stop()  # never waits out a hanging request, which is dropped unanswered
    assert time.monotonic() - began < 2


# --- everything else ---


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/events"),
        ("GET", "/v1/events/evt_1"),
        ("GET", "/v1/checkout/sessions/cs_test_1/line_items"),
        ("GET", "/v1/customers"),
        ("POST", "/v1/checkout/sessions/cs_test_1/complete"),
        ("POST", "/_test/clock/advance"),
        ("GET", "/"),
    ],
)
def test_anything_netroots_does_not_call_is_a_404_in_stripes_shape(stripe_double, method, path):
    form = {} if method == "POST" else None
    status, _, body = http(f"{stripe_double.base_url}{path}", form, {"Authorization": "Bearer sk_test_x"})
    assert status == 404
    assert json.loads(body)["error"]["message"].startswith(f"Unrecognized request URL ({method}: {path})")
