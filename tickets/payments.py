"""Every call to Stripe goes through here: the only module that imports `stripe`.

With STRIPE_API_BASE set (tests, and the demo's Stripe test double) the same calls go to that server
instead of api.stripe.com. We read only the fields the Stripe test double also returns (its FIELDS contract).
"""

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.db import connection

from tickets import concurrency_limit
from tickets.exceptions import PaymentError, RefundUnconfirmed

logger = logging.getLogger(__name__)

MIN_SESSION_LIFETIME = timedelta(minutes=32)  # Stripe's floor for a Checkout Session is 30; two more for clock skew
REFUND_FAILED = ("failed", "canceled")  # pending and requires_action are on their way
# How long a call to Stripe may wait. Most calls are made inside buyers' requests (a reservation holds a gunicorn
# thread while it waits), so a slow or hanging Stripe costs a buyer at most connect + read, 7 s, and then the
# "try again" message: no network retry there, each would add up to 7 s more. Refunds are never made in a
# buyer's request (tasks, the admin), and a lost answer must be asked again: the library retries once.
STRIPE_CONNECT_TIMEOUT_SECONDS = 2.0  # to open the connection
STRIPE_READ_TIMEOUT_SECONDS = 5.0  # between bytes of the answer; Stripe answers in well under a second
STRIPE_RETRIES = 0  # the stripe library's network retries of a failed call, for every call but refunds
STRIPE_REFUND_RETRIES = 1  # for refunds.create, with the same idempotency key
REFUND_RECHECK_PAUSE_SECONDS = 2.0  # before asking again about a refund whose answer was lost
REFUND_KEY_METADATA = "netroots_refund_key"  # our idempotency key, in the refund's metadata: how we know it again
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
STRIPE_API_VERSION = stripe.api_version  # the version the pinned library speaks; events use the same
STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")  # evt_..., cs_test_..., re_...: the ids a webhook event carries
EVENT_TYPE = re.compile(r"[a-z0-9_.]{1,100}")  # checkout.session.completed


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int | None
    currency: str | None
    client_reference_id: str | None
    payment_intent_id: str

    @property
    def is_paid(self) -> bool:
        """Stripe has the money: the session is complete and its payment paid (not a bank debit on its way)."""
        return self.status == "complete" and self.payment_status == "paid"


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    checkout_session_id: str = ""  # for checkout.session.* events
    refund_id: str = ""  # for refund.* events


@dataclass(frozen=True)
class Refund:
    id: str
    payment_intent_id: str
    amount: int  # pence
    status: str  # succeeded | pending | failed | canceled | requires_action
    idempotency_key: str = ""  # ours (metadata), if we asked for it; "" for refunds made in Stripe's dashboard


class InvalidWebhook(Exception):
    """The webhook's signature, timestamp or body did not verify."""


def release_database_connection() -> None:
    """Give this thread's database connection back to its pool (settings: PostgreSQL), if it has one and no
    transaction is open; the next query takes one again. No-op without a pool (SQLite) or inside a transaction.

    Called before every request to Stripe, which may take seconds: meanwhile another thread uses the connection.
    """
    if connection.settings_dict["OPTIONS"].get("pool") and not connection.in_atomic_block:
        connection.close()


class _HTTPClient(stripe.RequestsClient):
    """Stripe's requests-based HTTP client, releasing the database connection before each call to Stripe, and the
    thread's turn (tickets.concurrency_limit) while it waits for the answer: the tries and the pauses between them
    (the library's retries)."""

    def request_with_retries(self, *args, **kwargs):
        release_database_connection()
        with concurrency_limit.turn_given_back():
            return super().request_with_retries(*args, **kwargs)


@cache
def _client(secret_key: str, api_base: str) -> stripe.StripeClient:
    base = {"api": api_base} if api_base else {}
    # Stripe's own default waits 80 s per try; a buyer's request must end within seconds (see the timeouts above).
    # RequestsClient keeps one requests.Session per thread: safe under gunicorn's threads, connections reused.
    http_client = _HTTPClient(timeout=(STRIPE_CONNECT_TIMEOUT_SECONDS, STRIPE_READ_TIMEOUT_SECONDS))
    return stripe.StripeClient(
        secret_key, base_addresses=base, max_network_retries=STRIPE_RETRIES, http_client=http_client
    )


def client() -> stripe.StripeClient:
    """The one StripeClient for the current settings (STRIPE_SECRET_KEY, STRIPE_API_BASE), made once and reused."""
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def checkout_origin() -> str:
    """The origin ("https://checkout.stripe.com", or STRIPE_API_BASE's) that Checkout URLs point to."""
    if not settings.STRIPE_API_BASE:
        return STRIPE_CHECKOUT_ORIGIN
    parts = urlsplit(settings.STRIPE_API_BASE)
    return f"{parts.scheme}://{parts.netloc}"


def _session(session: stripe.checkout.Session) -> CheckoutSession:
    obj = session.to_dict()
    payment_intent = obj.get("payment_intent") or ""
    return CheckoutSession(
        id=obj["id"],
        url=obj.get("url"),
        status=obj["status"],
        payment_status=obj["payment_status"],
        amount_total=obj.get("amount_total"),
        currency=obj.get("currency"),
        client_reference_id=obj.get("client_reference_id"),
        payment_intent_id=payment_intent,
    )


def create_checkout_session(order, *, success_url: str, cancel_url: str) -> CheckoutSession:
    """One Checkout Session for exactly the order's amount (pence, GBP), expiring when its hold ends.

    `order` is a tickets.Order; the URLs are absolute (Stripe adds ?session_id=... to the success URL).
    Stripe refuses an expiry under 30 minutes ahead: services.hold_ends_at leaves two minutes more, for
    the moments between the reservation and this call, and for clock skew.
    Retrying for the same order gets the same session (idempotency key per order). Returns the session;
    raises PaymentError (a message safe to show the buyer) if Stripe can't be reached, refuses, or hasn't
    answered within STRIPE_CONNECT_TIMEOUT_SECONDS + STRIPE_READ_TIMEOUT_SECONDS (one try: see STRIPE_RETRIES).
    """
    params = {
        "mode": "payment",
        "customer_email": order.buyer_email,
        "client_reference_id": str(order.pk),
        "metadata": {"order_id": str(order.pk), "order_reference": order.reference},
        "expires_at": int(order.hold_expires_at.timestamp()),  # the hold's end (services.hold_ends_at)
        "line_items": [
            {
                "quantity": order.quantity,
                "price_data": {
                    "currency": "gbp",
                    "unit_amount": order.unit_price_pence,
                    "product_data": {"name": f"{order.event.name} ticket"},
                },
            }
        ],
        "success_url": success_url + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": cancel_url,
    }
    try:
        session = client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"checkout-{order.reference}"}
        )
    except stripe.StripeError as exc:
        logger.error("Stripe refused a Checkout Session for %s: %s", order.reference, exc)
        raise PaymentError("We couldn't start the payment just now. Nothing was charged; please try again.") from exc
    return _session(session)


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    """The Checkout Session as Stripe has it now. Raises PaymentError if Stripe can't be read."""
    try:
        return _session(client().v1.checkout.sessions.retrieve(session_id))
    except stripe.StripeError as exc:
        raise PaymentError(f"Could not read Checkout Session {session_id}: {exc}") from exc


def payment_intent_status(payment_intent_id: str) -> str:
    """The PaymentIntent's status as Stripe says: succeeded | processing | requires_payment_method (a
    delayed payment failed) | canceled | .... Raises PaymentError if Stripe can't be read."""
    try:
        return client().v1.payment_intents.retrieve(payment_intent_id).status
    except stripe.StripeError as exc:
        raise PaymentError(f"Could not read PaymentIntent {payment_intent_id}: {exc}") from exc


def expire_checkout_session(session_id: str) -> CheckoutSession:
    """Expire an open session so it can't be paid; returns it as it now is.

    If it isn't open (paid, or already expired), Stripe refuses and it is returned as it is. Safe to
    repeat. Raises PaymentError if Stripe can't be reached.
    """
    try:
        return _session(client().v1.checkout.sessions.expire(session_id))
    except stripe.InvalidRequestError:
        return retrieve_checkout_session(session_id)
    except stripe.StripeError as exc:
        raise PaymentError(f"Could not expire Checkout Session {session_id}: {exc}") from exc


def _refund(refund: stripe.Refund) -> Refund:
    obj = refund.to_dict()
    return Refund(
        id=obj["id"],
        payment_intent_id=obj.get("payment_intent") or "",
        amount=obj["amount"],
        status=obj["status"],
        idempotency_key=(obj.get("metadata") or {}).get(REFUND_KEY_METADATA, ""),
    )


def refund_payment(*, payment_intent_id: str, amount_pence: int | None, idempotency_key: str) -> Refund:
    """Refund `amount_pence` of the payment (None: whatever it took that is not refunded yet); returns the refund
    as Stripe made it (amount in pence; its status may be pending).

    The key goes with the request and into the refund's metadata (REFUND_KEY_METADATA), so a refund.* webhook
    can be matched to our request. Retrying with the same key gets the same refund, never a second one: so
    when Stripe's answer is lost (a timeout, a dropped connection; the library has already retried,
    STRIPE_REFUND_RETRIES), this waits REFUND_RECHECK_PAUSE_SECONDS and asks again, to learn what really happened.
    Raises RefundUnconfirmed if Stripe still doesn't answer, or answers 409 (the same key is in flight in another
    request): the refund may have been made, so ask again later with the same key. Raises PaymentError if Stripe
    refuses or reports the refund failed or cancelled.
    """
    params = {
        "payment_intent": payment_intent_id,
        "reason": "requested_by_customer",
        "metadata": {REFUND_KEY_METADATA: idempotency_key},
        **({"amount": amount_pence} if amount_pence is not None else {}),
    }
    for last_try in (False, True):
        try:
            refund = client().v1.refunds.create(
                params=params,
                options={"idempotency_key": idempotency_key, "max_network_retries": STRIPE_REFUND_RETRIES},
            )
            break
        except stripe.APIConnectionError as exc:
            logger.warning("No answer from Stripe about refund %s (%s)", idempotency_key, exc)
            if last_try:
                raise RefundUnconfirmed(
                    "Stripe did not answer in time, so we don't know yet whether the refund went through. "
                    "Nothing is recorded as refunded until Stripe confirms it; it is asked again automatically."
                ) from exc
            time.sleep(REFUND_RECHECK_PAUSE_SECONDS)
        except stripe.StripeError as exc:
            if exc.http_status == 409:  # the same key in flight elsewhere (a second run of the task): not a refusal
                raise RefundUnconfirmed(
                    "Stripe is still answering another request for this refund; it is asked again automatically."
                ) from exc
            raise PaymentError(f"Stripe refused the refund of {payment_intent_id}: {exc}") from exc
    if refund.status in REFUND_FAILED:
        raise PaymentError(f"Stripe could not refund {payment_intent_id}: the refund {refund.id} {refund.status}.")
    return _refund(refund)


def retrieve_refund(refund_id: str) -> Refund:
    """The refund as Stripe has it now (amount in pence). Raises PaymentError if Stripe can't be read."""
    try:
        return _refund(client().v1.refunds.retrieve(refund_id))
    except stripe.StripeError as exc:
        raise PaymentError(f"Could not read Refund {refund_id}: {exc}") from exc


def verify_webhook(payload: bytes, signature: str | None) -> WebhookEvent:
    """Check the Stripe-Signature header against the raw body (bytes, as received) and STRIPE_WEBHOOK_SECRET.

    Returns the event's id, type and the id of the Checkout Session or Refund it is about. Raises
    InvalidWebhook if the signature, its timestamp (Stripe's 300 s tolerance) or the body is off: a body
    that is signed but isn't an event (no data.object, ids that aren't Stripe ids) too, so it is a 400.
    """
    if not signature or not settings.STRIPE_WEBHOOK_SECRET:
        raise InvalidWebhook("missing signature or webhook secret")
    try:  # what stripe.Webhook.construct_event does, but keeping the plain JSON to check its shape
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
    except (ValueError, stripe.SignatureVerificationError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidWebhook(str(exc)) from exc
    data = event.get("data") if isinstance(event, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not _is_stripe_id(event.get("id")) or not _is_event_type(event.get("type")):
        raise InvalidWebhook("signed, but not a Stripe event with an id, a type and a data.object")
    kind = obj.get("object")
    if kind in ("checkout.session", "refund") and not _is_stripe_id(obj.get("id")):
        raise InvalidWebhook(f"signed, but its {kind} has no valid id")
    return WebhookEvent(
        id=event["id"],
        type=event["type"],
        checkout_session_id=obj["id"] if kind == "checkout.session" else "",
        refund_id=obj["id"] if kind == "refund" else "",
    )


def _is_stripe_id(value: object) -> bool:
    """Like evt_1Nq..., cs_test_a1..., re_3M...: what we store and look up, so nothing PostgreSQL would refuse."""
    return isinstance(value, str) and STRIPE_ID.fullmatch(value) is not None


def _is_event_type(value: object) -> bool:
    return isinstance(value, str) and EVENT_TYPE.fullmatch(value) is not None
