"""Stripe webhook events: recorded once each, then dispatched on a table of event types.

The event is only a trigger: handlers re-read the Checkout Session from Stripe (tickets.services).
"""

import logging
from collections.abc import Callable

from django.db import IntegrityError

from tickets import services
from tickets.exceptions import PaymentMismatch
from tickets.models import Order, StripeEvent
from tickets.payments import WebhookEvent

logger = logging.getLogger(__name__)


def _fulfil(event: WebhookEvent) -> Order | None:
    return services.fulfil_checkout(session_id=event.checkout_session_id)


def _release(event: WebhookEvent) -> Order | None:
    note = "Stripe: session expired or payment failed"
    return services.release_if_pending(session_id=event.checkout_session_id, note=note)


def _refunded(event: WebhookEvent) -> Order | None:
    return services.record_stripe_refund(refund_id=event.refund_id)


WEBHOOK_HANDLERS: dict[str, Callable[[WebhookEvent], Order | None]] = {
    "checkout.session.completed": _fulfil,
    "checkout.session.async_payment_succeeded": _fulfil,
    "checkout.session.async_payment_failed": _release,
    "checkout.session.expired": _release,
    "refund.created": _refunded,  # also refunds made in Stripe's dashboard
    "refund.updated": _refunded,
}


def handle(event: WebhookEvent) -> str:
    """Record and act on a verified event; returns what happened. PaymentError propagates (Stripe retries)."""
    try:
        record, created = StripeEvent.objects.get_or_create(
            stripe_event_id=event.id,
            defaults={"type": event.type, "stripe_checkout_session_id": event.checkout_session_id},
        )
    except IntegrityError:  # the same event delivered concurrently: the other delivery handles it
        return "duplicate"
    if not created and record.outcome and not record.outcome.startswith("error"):
        return "duplicate"
    handler = WEBHOOK_HANDLERS.get(event.type)
    order = None
    if handler is None or not (event.checkout_session_id or event.refund_id):
        outcome = "ignored"
    else:
        try:
            order = handler(event)
            outcome = f"order {order.status}" if order else "no matching order"
        except PaymentMismatch as exc:
            outcome = f"refused: {exc}"
        except Exception as exc:
            StripeEvent.objects.filter(pk=record.pk).update(outcome=f"error: {exc}"[:255])
            raise
    StripeEvent.objects.filter(pk=record.pk).update(outcome=outcome[:255], order=order)
    return outcome
