"""Every call to Stripe goes through here: the only module that imports `stripe`.

With STRIPE_API_BASE set (tests, and the demo's Stripe test double) the same calls go to that server
instead of api.stripe.com. We read only the fields the Stripe test double also returns (its FIELDS contract).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

import stripe
from django.conf import settings

from tickets.exceptions import PaymentError

logger = logging.getLogger(__name__)

MIN_SESSION_LIFETIME = timedelta(minutes=32)  # Stripe's floor for a Checkout Session is 30; two more for clock skew
REFUND_FAILED = ("failed", "canceled")  # pending and requires_action are on their way
STRIPE_TIMEOUT_SECONDS = (3.05, 10)  # connect, read
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
STRIPE_API_VERSION = stripe.api_version  # the version the pinned library speaks; events use the same


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
    amount: int
    status: str  # succeeded | pending | failed | canceled | requires_action


class InvalidWebhook(Exception):
    """The webhook's signature, timestamp or body did not verify."""


@cache
def _client(secret_key: str, api_base: str) -> stripe.StripeClient:
    base = {"api": api_base} if api_base else {}
    # Stripe's own default waits 80 s per try; a buyer's request must end well inside gunicorn's 30 s.
    http_client = stripe.RequestsClient(timeout=STRIPE_TIMEOUT_SECONDS)
    return stripe.StripeClient(secret_key, base_addresses=base, max_network_retries=1, http_client=http_client)


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
    raises PaymentError (a message safe to show the buyer) if Stripe can't be reached or refuses.
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


def refund_payment(*, payment_intent_id: str, idempotency_key: str) -> str:
    """Refund whatever the payment took, in full; returns the refund's id.

    Safe to retry with the same `idempotency_key` (Stripe answers with the same refund). Raises
    PaymentError if Stripe can't be reached, refuses, or reports the refund failed or cancelled.
    """
    try:
        refund = client().v1.refunds.create(
            params={"payment_intent": payment_intent_id, "reason": "requested_by_customer"},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise PaymentError(f"Stripe refused the refund of {payment_intent_id}: {exc}") from exc
    if refund.status in REFUND_FAILED:
        raise PaymentError(f"Stripe could not refund {payment_intent_id}: the refund {refund.id} {refund.status}.")
    return refund.id


def retrieve_refund(refund_id: str) -> Refund:
    """The refund as Stripe has it now (amount in pence). Raises PaymentError if Stripe can't be read."""
    try:
        refund = client().v1.refunds.retrieve(refund_id).to_dict()
    except stripe.StripeError as exc:
        raise PaymentError(f"Could not read Refund {refund_id}: {exc}") from exc
    payment_intent = refund.get("payment_intent") or ""
    return Refund(id=refund["id"], payment_intent_id=payment_intent, amount=refund["amount"], status=refund["status"])


def verify_webhook(payload: bytes, signature: str | None) -> WebhookEvent:
    """Check the Stripe-Signature header against the raw body (bytes, as received) and STRIPE_WEBHOOK_SECRET.

    Returns the event's id, type and the id of the Checkout Session or Refund it is about. Raises
    InvalidWebhook if the signature, its timestamp (Stripe's 300 s tolerance) or the body is off.
    """
    if not signature or not settings.STRIPE_WEBHOOK_SECRET:
        raise InvalidWebhook("missing signature or webhook secret")
    try:
        event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise InvalidWebhook(str(exc)) from exc
    obj = event.data.object.to_dict()
    kind = obj.get("object")
    return WebhookEvent(
        id=event.id,
        type=event.type,
        checkout_session_id=obj.get("id", "") if kind == "checkout.session" else "",
        refund_id=obj.get("id", "") if kind == "refund" else "",
    )
