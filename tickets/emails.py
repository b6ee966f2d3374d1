"""Emails to buyers, rendered from templates (subject, plain text and HTML).

Order emails are recorded as tickets.models.Email rows when they are owed and sent after commit.
A failed send is stored on the row (visible in the admin) and retried by `send_pending_emails`;
it never touches the order, so a payment is never undone by a mail server.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template import Context, engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from events.calendar import event_ics
from tickets.models import Email, Order

logger = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=5)  # a claim older than this belongs to a sender that died: take it over
MAX_AUTOMATIC_ATTEMPTS = 24 * 60  # a day of tries a minute apart; after that an organiser resends it from the admin

TEMPLATES = {
    Email.Kind.CONFIRMATION: "tickets/email/order_confirmed",
    Email.Kind.REFUND: "tickets/email/order_refunded",
}


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def event_page_url() -> str:
    """The event's public page, for calendar entries: never the private booking link, which a shared
    calendar entry would hand to anyone it is shared with."""
    return absolute(reverse("home"))


def render_text(template_name: str, context: dict) -> str:
    """Render a plain-text template (a subject, a text part) without HTML autoescaping.

    Plain text is not HTML: escaped, "O'Brien & Co" would arrive as "O&#x27;Brien &amp; Co". Doing it
    here, not with {% autoescape off %} in each template, means no text template can forget it.
    """
    return engines["django"].engine.get_template(template_name).render(Context(context, autoescape=False))


def _message(template: str, context: dict, to: str) -> EmailMultiAlternatives:
    subject = " ".join(render_text(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(subject, render_text(f"{template}.txt", context), to=[to])
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def _claimable(now) -> Q:
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_FOR)


def _claim(email_id: int, *, again: bool) -> bool:
    """Take the email for this process with one conditional UPDATE; False if it is sent or being sent."""
    now = timezone.now()
    owed = Q() if again else Q(sent_at__isnull=True)
    claimed = Email.objects.filter(_claimable(now), owed, pk=email_id)
    return claimed.update(claimed_at=now, attempts=F("attempts") + 1) == 1


def send(email_id: int, *, again: bool = False) -> bool:
    """Send an owed order email once (or `again`, for "resend"); record success or the error. Never raises.

    Returns whether it has been sent. Concurrent callers (the after-commit send, `send_pending_emails`,
    an organiser's resend) each try to claim the row first, and only the one that gets it sends.
    A confirmation for an order that is no longer paid (refunded meanwhile) is not sent, and says so in
    `last_error`; `send_pending` then leaves it alone.
    """
    if not _claim(email_id, again=again):
        return Email.objects.filter(pk=email_id, sent_at__isnull=False).exists()
    email = Email.objects.select_related("order__event").get(pk=email_id)
    order = email.order
    if not email.is_owed:
        Email.objects.filter(pk=email.pk).update(last_error=not_sent_note(order), claimed_at=None)
        return False
    try:
        context = {"order": order, "event": order.event, "tickets": list(order.tickets.all())}
        context["manage_url"] = absolute(order.get_absolute_url())
        message = _message(TEMPLATES[email.kind], context, order.buyer_email)
        if email.kind == Email.Kind.CONFIRMATION:
            calendar = event_ics(order.event, url=event_page_url())
            message.attach(f"{order.event.slug}.ics", calendar, "text/calendar")
        message.send()
    except Exception as exc:  # any transport failure: keep the order, record and retry later
        logger.exception("Sending %s failed", email)
        error = f"{timezone.now():%Y-%m-%d %H:%M} {exc!r}"[:2000]
        Email.objects.filter(pk=email.pk).update(last_error=error, claimed_at=None)
        return False
    Email.objects.filter(pk=email.pk).update(sent_at=timezone.now(), last_error="", claimed_at=None)
    return True


def not_sent_note(order: Order) -> str:
    return f"order {order.get_status_display().lower()}: not sent"  # "order refunded: not sent"


def send_pending(*, older_than_seconds: int = 60) -> tuple[int, int]:
    """Retry owed emails that have not gone out; returns (sent, still failing).

    Skips emails another process is sending right now. An email no longer owed (EmailQuerySet.owed: the
    confirmation of an order refunded meanwhile) is marked with `not_sent_note` and left alone.
    """
    now = timezone.now()
    unsent = Email.objects.filter(sent_at__isnull=True)
    for email in unsent.not_owed().select_related("order"):  # a handful at most: refunds are rare
        if email.last_error != (note := not_sent_note(email.order)):
            Email.objects.filter(pk=email.pk, sent_at__isnull=True).update(last_error=note)
    due = now - timedelta(seconds=older_than_seconds)
    owed = unsent.owed().filter(_claimable(now), created_at__lte=due, attempts__lt=MAX_AUTOMATIC_ATTEMPTS)
    sent = failed = 0
    for email_id in owed.values_list("pk", flat=True):
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
