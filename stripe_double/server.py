"""The Stripe test double's server: a small HTTP server that speaks Stripe's API for exactly the calls Netroots makes.

A test double for the tests, the local demo and the benchmarks; never production code (see the package docstring).

Stripe's servers can't be reached from our machines, so tests and the local demo point the real `stripe` library
at this server over real HTTP instead of mocking functions::

    double = StripeDouble(webhook_url="http://127.0.0.1:8000/stripe/webhook/").start()
    client = stripe.StripeClient("sk_test_anything", base_addresses={"api": double.base_url})
    session = client.v1.checkout.sessions.create(params={...})
    double.complete(session.id)          # "the customer paid": checkout.session.completed is POSTed, signed
    double.stop()

Or standalone, for the demo: ``python -m stripe_double --webhook-url http://127.0.0.1:8000/stripe/webhook/``.

It binds 127.0.0.1 on an ephemeral port by default, serves each connection in a thread of its own (so slow answers
overlap, as Stripe's do), keeps its state in memory (thread-safe), needs
``Authorization: Bearer sk_test_...`` on ``/v1`` (a live key is always refused), honours ``Idempotency-Key``
on every ``/v1`` POST, answers errors in Stripe's shape (so the library raises ``InvalidRequestError``,
``AuthenticationError``, ``IdempotencyError``), stamps events with the library's pinned ``stripe.api_version``
and signs webhooks exactly as Stripe does (``Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>``),
so ``stripe.Webhook.construct_event`` verifies them.

Stripe endpoints, only those tickets/payments.py calls (any other parameter, ``expand[]`` too, is refused with 400,
naming it; any other path is a 404):
    POST /v1/checkout/sessions                 mode=payment, line_items[n][quantity|price_data[currency|unit_amount|
                                               product_data[name]]], customer_email, client_reference_id,
                                               metadata[..], expires_at (30 min..24 h ahead), success_url, cancel_url
    GET  /v1/checkout/sessions/{id}
    POST /v1/checkout/sessions/{id}/expire     only from status "open"
    GET  /v1/payment_intents/{id}
    POST /v1/refunds                           payment_intent, amount (default: what remains), reason, metadata[..]
    GET  /v1/refunds/{id}

The test payment page, where a session's ``url`` leads (no auth, no JavaScript):
    GET  /pay/{id}   a plainly labelled TEST payment page with "Pay £X.XX" and "Cancel" buttons;
    POST /pay/{id}   action=pay completes the session as paid and 303s to success_url ({CHECKOUT_SESSION_ID}
                     filled in); action=cancel 303s to cancel_url and leaves the session open.

For tests and benchmarks, in Python:
    complete(id, outcome="paid"|"async_pending")    the customer finished Checkout (by card, or a delayed payment)
    async_result(id, outcome="succeeded"|"failed")  that delayed payment settled
    session(id), events(type=None)                  copies of what the double holds
    lose_responses(path, times=1)                   the next `times` /v1 requests to `path` (e.g. "/v1/refunds") are
                                                    done, but their answers are lost: the connection closes unanswered,
                                                    as when a call to Stripe times out after Stripe acted on it
    signed_payload(event, timestamp=, secret=)      the body and headers Stripe would POST for an event
    deliveries, webhook_url, webhook_secret, clock_offset_seconds
    latency_seconds                                 every /v1 request is answered this much later (seconds, float;
                                                    default 0): StripeDouble(latency_seconds=0.4) is a realistic
                                                    Stripe, and setting it to 30 while running makes Stripe hang
                                                    for any client that gives up sooner. Read as each request
                                                    arrives; the wait holds no lock, so requests wait side by side,
                                                    and then the request is acted on even if the client has left.
    waiting_requests                                how many /v1 requests are waiting out the latency right now

Time: the double's clock is ``time.time() + clock_offset_seconds``. An open session whose ``expires_at`` has
passed expires (with its ``checkout.session.expired`` event) when next touched, and a sweeper thread checks
every second, so the webhook is sent even if nobody asks. Webhook signatures always use the real time, as the
receiving site checks them against its own clock.

Webhooks: each event is POSTed, signed, to ``webhook_url`` (if set) synchronously, outside the state lock, before
the call or HTTP response that caused it returns; no retries; ``deliveries`` records (event id, HTTP status or 0).

Events it creates: checkout.session.completed, checkout.session.async_payment_succeeded,
checkout.session.async_payment_failed, checkout.session.expired, refund.created.

The contract: these are EXACTLY the fields it returns for each object (``FIELDS`` below says the same, and
tests/stripe_double/test_contract.py checks each one against the stripe library's own annotations).
Our code may read only these:

- checkout.session: id, object, amount_subtotal, amount_total, cancel_url, client_reference_id, created, currency,
  customer_email, expires_at, livemode, metadata, mode, payment_intent, payment_status, status, success_url, url
- payment_intent: id, object, amount, amount_received, created, currency, latest_charge, livemode, metadata, status
- refund: id, object, amount, created, currency, metadata, payment_intent, reason, status
- event: id, object, api_version, created, data, livemode, pending_webhooks, request, type
- event.data: object
- event.request: id, idempotency_key
- error: type, message, code, param

Values: checkout.session status open|complete|expired, payment_status unpaid|paid, mode payment, url only while
open (else null), payment_intent null until completed, then the "pi_..." id; payment_intent status
succeeded|processing|requires_payment_method, amount_received = amount once succeeded, latest_charge "ch_...",
metadata {}; refund status succeeded, reason as given or null, metadata as given or {}; event pending_webhooks
is 1 when a webhook_url was set at creation, else 0; request.id/idempotency_key are set for events caused by a /v1
request, null otherwise.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import html
import json
import re
import secrets
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import stripe

__all__ = ["FIELDS", "StripeDouble", "StripeDoubleError"]

FIELDS: dict[str, tuple[str, ...]] = {
    "checkout.session": (
        "id",
        "object",
        "amount_subtotal",
        "amount_total",
        "cancel_url",
        "client_reference_id",
        "created",
        "currency",
        "customer_email",
        "expires_at",
        "livemode",
        "metadata",
        "mode",
        "payment_intent",
        "payment_status",
        "status",
        "success_url",
        "url",
    ),
    "payment_intent": (
        "id",
        "object",
        "amount",
        "amount_received",
        "created",
        "currency",
        "latest_charge",
        "livemode",
        "metadata",
        "status",
    ),
    "refund": ("id", "object", "amount", "created", "currency", "metadata", "payment_intent", "reason", "status"),
    "event": ("id", "object", "api_version", "created", "data", "livemode", "pending_webhooks", "request", "type"),
    "event.data": ("object",),
    "event.request": ("id", "idempotency_key"),
    "error": ("type", "message", "code", "param"),
}

MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60
WEBHOOK_TIMEOUT_SECONDS = 10
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
BANNER = "Test payment page — Stripe test double, no real money moves"


class StripeDoubleError(Exception):
    """A refusal, in Stripe's terms; over HTTP it becomes ``{"error": {...}}`` with ``status``."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(18).replace("-", "").replace("_", "")[:24]


def _missing(kind: str, object_id: str) -> StripeDoubleError:
    return StripeDoubleError(f"No such {kind}: '{object_id}'", status=404, code="resource_missing", param="id")


def _money(amount: int, currency: str) -> str:
    """Integer minor units to text: 500, "gbp" -> "£5.00"."""
    units = f"{amount // 100:,}.{amount % 100:02d}"
    return f"£{units}" if currency.lower() == "gbp" else f"{units} {currency.upper()}"


# --- Stripe's form encoding: line_items[0][price_data][unit_amount]=500 -> nested dicts and lists ---

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Decode Stripe's bracketed form keys into nested dicts and lists (all leaf values stay strings)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise StripeDoubleError(f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part or str(len(node)), {})
            if not isinstance(child, dict):
                raise StripeDoubleError(f"Invalid parameter name: {key}", param=key)
            node = child
        last = parts[-1] or str(len(node))  # a[]=x&a[]=y is a list too
        node[last] = value
    return _listify(root, in_metadata=False)


def _listify(node: Any, *, in_metadata: bool) -> Any:
    if not isinstance(node, dict):
        return node
    out = {k: _listify(v, in_metadata=(k == "metadata")) for k, v in node.items()}
    if out and not in_metadata and all(k.isdigit() for k in out) and sorted(map(int, out)) == list(range(len(out))):
        return [out[str(i)] for i in range(len(out))]
    return out


def _param_name(path: list[str | int]) -> str:
    return str(path[0]) + "".join(f"[{p}]" for p in path[1:])


def _require(params: dict, name: str, path: list[str | int] | None = None) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise StripeDoubleError(f"Missing required param: {_param_name([*(path or []), name])}.", param=name)
    return value


def _int(value: Any, param: str, *, minimum: int | None = None) -> int:
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        number = int(value)
    else:
        raise StripeDoubleError(f"Invalid integer: {value}", param=param)
    if minimum is not None and number < minimum:
        raise StripeDoubleError(f"This value must be greater than or equal to {minimum}.", param=param)
    return number


def _string(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise StripeDoubleError(f"Invalid string: {value!r}", param=param)
    return value


def _metadata(value: Any) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise StripeDoubleError("Invalid metadata: must be a hash of string keys to string values.", param="metadata")
    return dict(value)


def _no_unknown(params: dict, allowed: set[str], path: list[str | int] | None = None) -> None:
    for name in params:
        if name not in allowed:
            param = _param_name([*(path or []), name])  # as Stripe: line_items[0][price_data][tax_behavior]
            raise StripeDoubleError(
                f"Received unknown parameter: {param} (the Stripe test double supports only: "
                f"{', '.join(sorted(allowed)) or 'none'})",
                code="parameter_unknown",
                param=param,
            )


def _url(value: Any, param: str) -> str:
    text = _string(value, param)
    if urllib.parse.urlsplit(text).scheme not in ("http", "https"):
        raise StripeDoubleError("Not a valid URL", param=param)
    return text


@dataclass
class _Ctx:
    """One transaction on the double's state: the events it created, and the /v1 request that caused it."""

    request_id: str | None = None
    idempotency_key: str | None = None
    events: list[dict] = field(default_factory=list)


@dataclass
class _Session:
    obj: dict  # the public object, payment_intent as an id or None
    line_items: list[dict]  # for the payment page: description, quantity, amount_total, currency


class StripeDouble:
    """See the module docstring. Start it, point ``stripe.StripeClient`` at ``base_url``, stop it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_test_double",  # noqa: S107 - a test double's well-known secret
        verbose: bool = False,
        latency_seconds: float = 0.0,
    ):
        self.host = host
        self.port = port
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.verbose = verbose
        self.latency_seconds = latency_seconds  # before each /v1 answer; change it at any time
        self.clock_offset_seconds = 0
        self.deliveries: list[tuple[str, int]] = []
        self.base_url = ""
        self._lock = threading.RLock()
        self._sessions: dict[str, _Session] = {}
        self._payment_intents: dict[str, dict] = {}
        self._refunded: dict[str, int] = {}  # payment intent id -> amount refunded so far
        self._refunds: dict[str, dict] = {}
        self._events: list[dict] = []
        self._idempotency: dict[str, tuple[tuple, int, bytes]] = {}
        self._lost_responses: dict[str, int] = {}  # path -> how many more answers to lose (lose_responses)
        self._waiting = 0  # /v1 requests waiting out latency_seconds now
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy

    # --- life cycle ---

    def start(self) -> StripeDouble:
        server = _Server((self.host, self.port), _Handler)
        server.double = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True),
            threading.Thread(target=self._sweep_forever, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> StripeDouble:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- for tests and benchmarks ---

    def now(self) -> int:
        """The double's idea of the time: the real time plus ``clock_offset_seconds``."""
        return int(time.time()) + int(self.clock_offset_seconds)

    def complete(self, session_id: str, *, outcome: str = "paid") -> None:
        """The customer finished Checkout: outcome "paid" (card) or "async_pending" (e.g. a bank debit)."""
        self._run(lambda ctx: self._complete(ctx, session_id, outcome))

    def async_result(self, session_id: str, *, outcome: str) -> None:
        """The delayed payment of a completed-but-unpaid session settled: outcome "succeeded" or "failed"."""
        self._run(lambda ctx: self._async_result(ctx, session_id, outcome))

    def lose_responses(self, path: str, *, times: int = 1) -> None:
        """The next `times` /v1 requests to `path` are acted on, then closed unanswered (a timeout, to the client)."""
        with self._lock:
            self._lost_responses[path] = times

    @property
    def waiting_requests(self) -> int:
        """How many /v1 requests are waiting out ``latency_seconds`` right now (not yet acted on)."""
        with self._lock:
            return self._waiting

    def _wait_latency(self) -> bool:
        """Wait ``latency_seconds`` (as set now) before answering a /v1 request; False if the double stopped
        meanwhile (the request is then dropped unanswered)."""
        latency = self.latency_seconds
        if latency <= 0:
            return True
        with self._lock:
            self._waiting += 1
        try:
            return not self._stopping.wait(latency)
        finally:
            with self._lock:
                self._waiting -= 1

    def _lose_response(self, path: str) -> bool:
        with self._lock:
            left = self._lost_responses.get(path, 0)
            if left:
                self._lost_responses[path] = left - 1
            return bool(left)

    def events(self, type: str | None = None) -> list[dict]:
        """Copies of the events created so far, oldest first, optionally only one type."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._events if type is None or e["type"] == type]

    def session(self, session_id: str) -> dict:
        """A copy of the session as stored now (an overdue open session expires first, as on any touch)."""
        return self._run(lambda ctx: copy.deepcopy(self._session_record(ctx, session_id).obj))

    def signed_payload(
        self, event: dict, *, timestamp: int | None = None, secret: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers Stripe would POST for this event, signed with ``secret`` (default: ours)."""
        body = json.dumps(event, indent=2).encode()
        stamp = int(time.time()) if timestamp is None else int(timestamp)
        key = (self.webhook_secret if secret is None else secret).encode()
        signature = hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={signature}"}

    # --- internals: every _method below runs under self._lock and records events in ctx ---

    def _run(self, action):
        ctx = _Ctx()
        with self._lock:
            result = action(ctx)
        self._deliver(ctx.events)
        return result

    def _sweep_forever(self) -> None:
        while not self._stopping.wait(1.0):
            try:
                ctx = _Ctx()
                with self._lock:
                    self._sweep(ctx)
                self._deliver(ctx.events)
            except Exception:
                traceback.print_exc()

    def _sweep(self, ctx: _Ctx) -> None:
        for record in list(self._sessions.values()):
            self._touch(ctx, record)

    def _touch(self, ctx: _Ctx, record: _Session) -> None:
        if record.obj["status"] == "open" and self.now() >= record.obj["expires_at"]:
            self._expire(ctx, record, by_request=False)

    def _session_record(self, ctx: _Ctx, session_id: str) -> _Session:
        record = self._sessions.get(session_id)
        if record is None:
            raise _missing("checkout.session", session_id)
        self._touch(ctx, record)
        return record

    def _event(self, ctx: _Ctx, type_: str, obj: dict, *, by_request: bool = True) -> None:
        request_id, key = (ctx.request_id, ctx.idempotency_key) if by_request else (None, None)
        event = {
            "id": _new_id("evt_"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": self.now(),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1 if self.webhook_url else 0,
            "request": {"id": request_id, "idempotency_key": key},
            "type": type_,
        }
        self._events.append(event)
        ctx.events.append(copy.deepcopy(event))

    def _deliver(self, events: list[dict]) -> None:
        """POST each event, signed, to webhook_url. Never called with self._lock held: the site calls back."""
        for event in events:
            url = self.webhook_url
            if not url:
                continue
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"webhook_url must be http(s): {url!r}")
            body, headers = self.signed_payload(event)
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
            try:
                with self._opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
                exc.close()
            except (urllib.error.URLError, OSError):
                status = 0
            with self._lock:
                self.deliveries.append((event["id"], status))
            if self.verbose:
                print(f"[stripe double] webhook {event['type']} {event['id']} -> {url}: {status}", file=sys.stderr)

    def _create_session(self, ctx: _Ctx, params: dict) -> dict:
        _no_unknown(
            params,
            {
                "mode",
                "customer_email",
                "client_reference_id",
                "metadata",
                "expires_at",
                "line_items",
                "success_url",
                "cancel_url",
            },
        )
        mode = _require(params, "mode")
        if mode != "payment":
            raise StripeDoubleError(f"The Stripe test double supports only mode=payment, not {mode!r}.", param="mode")
        success_url = _url(_require(params, "success_url"), "success_url")
        cancel_url = _url(params["cancel_url"], "cancel_url") if params.get("cancel_url") else None
        email = params.get("customer_email") or None
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", _string(email, "customer_email")):
            raise StripeDoubleError(f"Invalid email address: {email}", param="customer_email")
        reference = params.get("client_reference_id") or None
        if reference is not None and len(_string(reference, "client_reference_id")) > 200:
            raise StripeDoubleError("client_reference_id must be at most 200 characters.", param="client_reference_id")
        metadata = _metadata(params.get("metadata"))

        raw_items = _require(params, "line_items")
        if not isinstance(raw_items, list):
            raise StripeDoubleError("Invalid array", param="line_items")
        currency = None
        line_items = []
        for index, raw in enumerate(raw_items):
            path: list[str | int] = ["line_items", index]
            if not isinstance(raw, dict):
                raise StripeDoubleError("Invalid object", param=_param_name(path))
            _no_unknown(raw, {"quantity", "price_data"}, path)
            quantity = _int(_require(raw, "quantity", path), _param_name([*path, "quantity"]), minimum=1)
            price_data = raw.get("price_data")
            if not isinstance(price_data, dict):
                raise StripeDoubleError(
                    f"Missing required param: {_param_name([*path, 'price_data'])} (the Stripe test double "
                    "supports only price_data line items).",
                    param=_param_name([*path, "price_data"]),
                )
            path = [*path, "price_data"]
            _no_unknown(price_data, {"currency", "unit_amount", "product_data"}, path)
            item_currency = _string(_require(price_data, "currency", path), _param_name([*path, "currency"])).lower()
            if not re.fullmatch(r"[a-z]{3}", item_currency):
                raise StripeDoubleError(f"Invalid currency: {item_currency}", param=_param_name([*path, "currency"]))
            unit_amount = _int(
                _require(price_data, "unit_amount", path), _param_name([*path, "unit_amount"]), minimum=0
            )
            product_data = price_data.get("product_data")
            if not isinstance(product_data, dict):
                raise StripeDoubleError(
                    f"Missing required param: {_param_name([*path, 'product_data'])}.",
                    param=_param_name([*path, "product_data"]),
                )
            _no_unknown(product_data, {"name"}, [*path, "product_data"])
            name = _string(_require(product_data, "name", [*path, "product_data"]), "name")
            currency = currency or item_currency
            if item_currency != currency:
                raise StripeDoubleError(
                    "All line items must use the same currency.", param=_param_name([*path, "currency"])
                )
            amount = unit_amount * quantity
            line_items.append({"description": name, "quantity": quantity, "amount_total": amount, "currency": currency})
        if not line_items:
            raise StripeDoubleError("Missing required param: line_items.", param="line_items")
        total = sum(item["amount_total"] for item in line_items)
        if total <= 0:
            raise StripeDoubleError(
                "The Stripe test double supports only sessions with a positive total.", param="line_items"
            )

        created = self.now()
        if params.get("expires_at") not in (None, ""):
            expires_at = _int(params["expires_at"], "expires_at")
            if not MIN_EXPIRY_SECONDS <= expires_at - created <= MAX_EXPIRY_SECONDS:
                raise StripeDoubleError(
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session "
                    "creation.",
                    param="expires_at",
                )
        else:
            expires_at = created + MAX_EXPIRY_SECONDS

        session_id = _new_id("cs_test_")
        record = _Session(
            obj={
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": cancel_url,
                "client_reference_id": reference,
                "created": created,
                "currency": currency,
                "customer_email": email,
                "expires_at": expires_at,
                "livemode": False,
                "metadata": metadata,
                "mode": "payment",
                "payment_intent": None,
                "payment_status": "unpaid",
                "status": "open",
                "success_url": success_url,
                "url": f"{self.base_url}/pay/{session_id}",
            },
            line_items=line_items,
        )
        self._sessions[session_id] = record
        return copy.deepcopy(record.obj)

    def _expire(self, ctx: _Ctx, record: _Session, *, by_request: bool) -> None:
        status = record.obj["status"]
        if status != "open":
            raise StripeDoubleError(
                f"Only Checkout Sessions with a status in [open] can be expired. This session has a status of {status}."
            )
        record.obj.update(status="expired", url=None)
        self._event(ctx, "checkout.session.expired", record.obj, by_request=by_request)

    def _complete(self, ctx: _Ctx, session_id: str, outcome: str) -> None:
        if outcome not in ("paid", "async_pending"):
            raise StripeDoubleError("outcome must be paid or async_pending.", param="outcome")
        record = self._session_record(ctx, session_id)
        obj = record.obj
        if obj["status"] != "open":
            raise StripeDoubleError(
                f"Only open Checkout Sessions can be completed; this session has a status of {obj['status']}.",
                param="session",
            )
        paid = outcome == "paid"
        payment_intent = {
            "id": _new_id("pi_"),
            "object": "payment_intent",
            "amount": obj["amount_total"],
            "amount_received": obj["amount_total"] if paid else 0,
            "created": self.now(),
            "currency": obj["currency"],
            "latest_charge": _new_id("ch_"),
            "livemode": False,
            "metadata": {},
            "status": "succeeded" if paid else "processing",
        }
        self._payment_intents[payment_intent["id"]] = payment_intent
        self._refunded[payment_intent["id"]] = 0
        obj.update(
            status="complete",
            payment_status="paid" if paid else "unpaid",
            payment_intent=payment_intent["id"],
            url=None,
        )
        self._event(ctx, "checkout.session.completed", obj, by_request=False)

    def _async_result(self, ctx: _Ctx, session_id: str, outcome: str) -> None:
        if outcome not in ("succeeded", "failed"):
            raise StripeDoubleError("outcome must be succeeded or failed.", param="outcome")
        record = self._session_record(ctx, session_id)
        obj = record.obj
        payment_intent = self._payment_intents.get(obj["payment_intent"] or "")
        if obj["status"] != "complete" or obj["payment_status"] != "unpaid" or payment_intent is None:
            raise StripeDoubleError(
                "Only a completed, unpaid (async pending) Checkout Session can get an async payment result; "
                f"this session has status {obj['status']} and payment_status {obj['payment_status']}.",
                param="session",
            )
        if payment_intent["status"] != "processing":
            raise StripeDoubleError(
                f"The async payment of this session has already settled ({payment_intent['status']}).",
                param="session",
            )
        if outcome == "succeeded":
            payment_intent.update(status="succeeded", amount_received=payment_intent["amount"])
            obj["payment_status"] = "paid"
            self._event(ctx, "checkout.session.async_payment_succeeded", obj, by_request=False)
        else:
            payment_intent["status"] = "requires_payment_method"
            self._event(ctx, "checkout.session.async_payment_failed", obj, by_request=False)

    def _create_refund(self, ctx: _Ctx, params: dict) -> dict:
        _no_unknown(params, {"payment_intent", "amount", "reason", "metadata"})
        pi_id = _string(_require(params, "payment_intent"), "payment_intent")
        payment_intent = self._payment_intents.get(pi_id)
        if payment_intent is None:
            raise StripeDoubleError(
                f"No such payment_intent: '{pi_id}'", status=404, code="resource_missing", param="payment_intent"
            )
        reason = params.get("reason") or None
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeDoubleError(
                f"Invalid reason: must be one of {', '.join(REFUND_REASONS[:-1])}, or {REFUND_REASONS[-1]}",
                param="reason",
            )
        if payment_intent["status"] != "succeeded":
            raise StripeDoubleError(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.", param="payment_intent"
            )
        remaining = payment_intent["amount"] - self._refunded[pi_id]
        if remaining <= 0:
            raise StripeDoubleError(
                f"Charge {payment_intent['latest_charge']} has already been refunded.", code="charge_already_refunded"
            )
        amount = remaining if params.get("amount") in (None, "") else _int(params["amount"], "amount", minimum=1)
        if amount > remaining:
            currency = payment_intent["currency"]
            raise StripeDoubleError(
                f"Refund amount ({_money(amount, currency)}) is greater than unrefunded amount on charge "
                f"({_money(remaining, currency)})",
                param="amount",
            )
        self._refunded[pi_id] += amount
        refund = {
            "id": _new_id("re_"),
            "object": "refund",
            "amount": amount,
            "created": self.now(),
            "currency": payment_intent["currency"],
            "metadata": _metadata(params.get("metadata")),
            "payment_intent": pi_id,
            "reason": reason,
            "status": "succeeded",
        }
        self._refunds[refund["id"]] = refund
        self._event(ctx, "refund.created", refund)
        return copy.deepcopy(refund)

    # --- the HTTP API, called by _Handler ---

    def _api(self, method: str, path: str, params: dict, ctx: _Ctx) -> dict:
        """Route one /v1 request (under the lock); return the JSON body or raise StripeDoubleError."""
        self._sweep(ctx)
        parts = path.strip("/").split("/")[1:]  # without "v1"
        match (method, parts):
            case ("POST", ["checkout", "sessions"]):
                return self._create_session(ctx, params)
            case ("GET", ["checkout", "sessions", session_id]):
                _no_unknown(params, set())
                return copy.deepcopy(self._session_record(ctx, session_id).obj)
            case ("POST", ["checkout", "sessions", session_id, "expire"]):
                _no_unknown(params, set())
                record = self._session_record(ctx, session_id)
                self._expire(ctx, record, by_request=True)
                return copy.deepcopy(record.obj)
            case ("GET", ["payment_intents", pi_id]):
                _no_unknown(params, set())
                if pi_id not in self._payment_intents:
                    raise _missing("payment_intent", pi_id)
                return copy.deepcopy(self._payment_intents[pi_id])
            case ("POST", ["refunds"]):
                return self._create_refund(ctx, params)
            case ("GET", ["refunds", refund_id]):
                _no_unknown(params, set())
                if refund_id not in self._refunds:
                    raise _missing("refund", refund_id)
                return copy.deepcopy(self._refunds[refund_id])
        raise StripeDoubleError(
            f"Unrecognized request URL ({method}: {path}). The Stripe test double serves only the endpoints listed "
            "in stripe_double/server.py.",
            status=404,
        )

    def _handle_v1(self, method: str, path: str, params: dict, idempotency_key: str | None) -> tuple[int, bytes, dict]:
        ctx = _Ctx(request_id=_new_id("req_"), idempotency_key=idempotency_key if method == "POST" else None)
        headers = {"Request-Id": ctx.request_id, "Stripe-Version": stripe.api_version}
        with self._lock:
            fingerprint = (method, path, json.dumps(params, sort_keys=True))
            if ctx.idempotency_key:
                stored = self._idempotency.get(ctx.idempotency_key)
                if stored is not None:
                    if stored[0] != fingerprint:
                        error = StripeDoubleError(
                            "Keys for idempotent requests can only be used with the same parameters they were first "
                            f"used with. Try using a key other than '{ctx.idempotency_key}' if you meant to execute "
                            "a different request.",
                            type="idempotency_error",
                        )
                        return 400, json.dumps(error.body()).encode(), headers
                    return stored[1], stored[2], {**headers, "Idempotent-Replayed": "true"}
            try:
                status, body = 200, json.dumps(self._api(method, path, params, ctx)).encode()
            except StripeDoubleError as error:
                status, body = error.status, json.dumps(error.body()).encode()
            if ctx.idempotency_key and status == 200:  # like Stripe: a request refused by validation isn't saved
                self._idempotency[ctx.idempotency_key] = (fingerprint, status, body)
        self._deliver(ctx.events)
        return status, body, headers


def _mask_key(key: str) -> str:
    if len(key) <= 12:
        return key[:3] + "*" * max(len(key) - 3, 0)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


# --- the test payment page ---

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:1.125rem/1.5 system-ui,sans-serif;color:#111;background:#fff}
.banner{margin:0;padding:1rem 1.5rem;background:#ffd400;color:#111;font-size:1.5rem;font-weight:700;
border-bottom:4px solid #111}
main{max-width:36rem;margin:0 auto;padding:1.5rem}
table{width:100%;border-collapse:collapse;margin:1rem 0}
caption{text-align:left;font-weight:700}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #666}
td.amount,th.amount{text-align:right}
.total{font-size:1.375rem;font-weight:700}
form{display:inline-block;margin:1rem 1rem 0 0}
button{font:inherit;font-weight:700;padding:.75rem 1.5rem;border-radius:.375rem;cursor:pointer}
.pay{background:#0b3d91;color:#fff;border:2px solid #0b3d91}
.cancel{background:#fff;color:#111;border:2px solid #111}
button:focus-visible,a:focus-visible{outline:3px solid #b30059;outline-offset:3px}
a{color:#0b3d91}
""".strip()
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
_CSP = f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; base-uri 'none'; frame-ancestors 'none'"


def _html_page(title: str, body: str) -> bytes:
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)} — Stripe test double</title>
<style>{_CSS}</style>
</head>
<body>
<p class="banner" role="note">{html.escape(BANNER)}</p>
<main>
{body}
</main>
</body>
</html>
""".encode()


def _success_url(obj: dict) -> str:
    return obj["success_url"].replace("{CHECKOUT_SESSION_ID}", obj["id"])


def _pay_page(double: StripeDouble, record: _Session) -> tuple[int, bytes]:
    obj = record.obj
    esc = html.escape
    total = _money(obj["amount_total"], obj["currency"])
    if obj["status"] == "expired":
        back = f'<p><a href="{esc(obj["cancel_url"])}">Back to the shop</a></p>' if obj["cancel_url"] else ""
        body = f"<h1>This payment has expired</h1>\n<p>This checkout session expired. No payment was taken.</p>{back}"
        return 200, _html_page("Payment expired", body)
    if obj["status"] == "complete":
        if obj["payment_status"] == "paid":
            heading, text = "Already paid", f"This checkout session has already been paid ({esc(total)})."
        else:
            heading, text = "Payment processing", "This checkout session is complete; its payment is processing."
        body = f'<h1>{heading}</h1>\n<p>{text}</p>\n<p><a href="{esc(_success_url(obj))}">Back to the shop</a></p>'
        return 200, _html_page(heading, body)
    rows = "\n".join(
        f"<tr><td>{esc(item['description'])}</td><td>{item['quantity']}</td>"
        f'<td class="amount">{esc(_money(item["amount_total"], item["currency"]))}</td></tr>'
        for item in record.line_items
    )
    action = esc(f"{double.base_url}/pay/{obj['id']}")
    email = f"<p>Receipt email: {esc(obj['customer_email'])}</p>" if obj["customer_email"] else ""
    body = f"""<h1>Pay {esc(total)}</h1>
<table>
<caption>What you are paying for</caption>
<thead><tr><th scope="col">Item</th><th scope="col">Quantity</th><th scope="col" class="amount">Amount</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<p class="total">Total: {esc(total)}</p>
{email}
<form method="post" action="{action}"><input type="hidden" name="action" value="pay">
<button type="submit" class="pay">Pay {esc(total)}</button></form>
<form method="post" action="{action}"><input type="hidden" name="action" value="cancel">
<button type="submit" class="cancel">Cancel</button></form>"""
    return 200, _html_page(f"Test payment: {total}", body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a request still waiting out its latency never holds up stop()
    request_queue_size = 1024  # the listen backlog (socketserver's default is 5): a rush of buyers connects at once


class _Handler(BaseHTTPRequestHandler):
    server_version = "StripeDouble/1"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, 40 ms per request

    @property
    def double(self) -> StripeDouble:
        return self.server.double  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        if self.double.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _dispatch(self, method: str) -> None:
        split = urllib.parse.urlsplit(self.path)
        path = split.path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if path.startswith("/v1/"):
                self._v1(method, path, split.query, body)
            elif path.startswith("/pay/"):
                self._pay(method, path.removeprefix("/pay/"), body)
            else:
                self._json(404, StripeDoubleError(f"Unrecognized request URL ({method}: {path}).", status=404).body())
        except StripeDoubleError as error:
            self._json(error.status, error.body())
        except ConnectionError:
            self.close_connection = True  # the client gave up waiting (a timeout, on its side): nobody to answer
        except Exception as exc:
            traceback.print_exc()
            self._json(500, {"error": {"type": "api_error", "message": f"Stripe test double bug: {exc!r}"}})

    def _v1(self, method: str, path: str, query: str, body: bytes) -> None:
        if not self.double._wait_latency():
            self.close_connection = True
            return
        auth = self.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not key.startswith("sk_test_"):
            message = (
                f"Invalid API Key provided: {_mask_key(key)}"
                if key
                else "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
            )
            self._json(401, StripeDoubleError(message, status=401).body())
            return
        raw = query if method == "GET" else body.decode()
        params = parse_params(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        status, payload, headers = self.double._handle_v1(method, path, params, self.headers.get("Idempotency-Key"))
        if self.double._lose_response(path):
            self.close_connection = True  # done, but the client never hears: it sees a dropped connection
            return
        self._send(status, payload, "application/json", headers)

    def _pay(self, method: str, session_id: str, body: bytes) -> None:
        double = self.double
        headers = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"}
        try:
            record = double._run(lambda ctx: double._session_record(ctx, session_id))
        except StripeDoubleError:
            page = _html_page("Unknown payment", "<h1>Unknown payment</h1>\n<p>There is no such checkout session.</p>")
            self._send(404, page, "text/html; charset=utf-8", headers)
            return
        if method == "POST":
            action = urllib.parse.parse_qs(body.decode()).get("action", [""])[0]
            if action == "pay" and record.obj["status"] == "open":
                try:
                    double.complete(session_id, outcome="paid")
                except StripeDoubleError:
                    pass  # it stopped being open meanwhile: show the page, which says why
                else:
                    self._send(303, b"", "text/plain", {**headers, "Location": _success_url(record.obj)})
                    return
            elif action == "cancel" and record.obj["status"] == "open" and record.obj["cancel_url"]:
                self._send(303, b"", "text/plain", {**headers, "Location": record.obj["cancel_url"]})
                return
            elif action not in ("pay", "cancel"):
                page = _html_page("Bad request", "<h1>Bad request</h1>\n<p>Choose Pay or Cancel.</p>")
                self._send(400, page, "text/html; charset=utf-8", headers)
                return
        with double._lock:
            status, page = _pay_page(double, record)
        self._send(status, page, "text/html; charset=utf-8", headers)
