"""Emails to buyers, rendered from templates (subject, plain text and HTML).

Order emails are recorded as tickets.models.Email rows when they are owed and sent after commit.
A failed send is stored on the row (visible in the admin) and retried by `send_pending_emails`;
it never touches the order, so a payment is never undone by a mail server.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from events.calendar import event_ics
from tickets.models import Email, Order

logger = logging.getLogger(__name__)

TEMPLATES = {
    Email.Kind.CONFIRMATION: "tickets/email/order_confirmed",
    Email.Kind.REFUND: "tickets/email/order_refunded",
}


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def _message(template: str, context: dict, to: str) -> EmailMultiAlternatives:
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(subject, render_to_string(f"{template}.txt", context), to=[to])
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def send(email_id: int, *, again: bool = False) -> bool:
    """Send an owed order email once (or `again`, for "resend"); record success or the error. Never raises."""
    email = Email.objects.select_related("order__event").get(pk=email_id)
    if email.sent_at and not again:
        return True
    order = email.order
    context = {"order": order, "event": order.event, "tickets": list(order.tickets.all())}
    context["manage_url"] = absolute(order.get_absolute_url())
    message = _message(TEMPLATES[email.kind], context, order.buyer_email)
    if email.kind == Email.Kind.CONFIRMATION:
        message.attach(f"{order.event.slug}.ics", event_ics(order.event), "text/calendar")
    Email.objects.filter(pk=email.pk).update(attempts=F("attempts") + 1)
    try:
        message.send()
    except Exception as exc:  # any transport failure: keep the order, record and retry later
        logger.exception("Sending %s failed", email)
        Email.objects.filter(pk=email.pk).update(last_error=f"{timezone.now():%Y-%m-%d %H:%M} {exc!r}"[:2000])
        return False
    Email.objects.filter(pk=email.pk).update(sent_at=timezone.now(), last_error="")
    return True


def send_pending(*, older_than_seconds: int = 60) -> tuple[int, int]:
    """Retry owed emails that have not gone out; returns (sent, still failing)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    sent = failed = 0
    for email_id in Email.objects.filter(sent_at__isnull=True, created_at__lte=cutoff).values_list("pk", flat=True):
        if send(email_id):
            sent += 1
        else:
            failed += 1
    return sent, failed


def send_booking_links(email_address: str) -> None:
    """Email the private links of every order made with this address (nothing if there are none)."""
    orders = list(Order.objects.filter(buyer_email__iexact=email_address).select_related("event"))
    if not orders:
        return
    links = [(order, absolute(order.get_absolute_url())) for order in orders]
    try:
        _message("tickets/email/booking_links", {"links": links}, email_address).send()
    except Exception:
        logger.exception("Sending booking links failed")
