"""Emails to buyers, rendered from templates (subject, plain text and HTML), and sent by tasks.

Order emails are recorded as tickets.models.Email rows when they are owed, in the transaction that owes them,
and sent by the `send_order_email` task enqueued after it commits (tickets.tasks). A failed send is stored on
the row (attempts, last error: shown to organisers in the admin) and tried again later by the task engine,
with backoff; it never touches the order, so a payment is never undone by a mail server. No email is sent
inside a web request.

"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template import Context, engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from events.calendar import event_ics
from tickets.models import Email, Order
from tickets.tasks import enqueue_after_commit, retry_later, waiting_for

logger = logging.getLogger(__name__)

NEVER_TRIED_AFTER = timedelta(minutes=5)  # an owed email not even tried by then lost its task: send_owed_emails

TEMPLATES = {
    Email.Kind.CONFIRMATION: "tickets/email/order_confirmed",
    Email.Kind.REFUND: "tickets/email/order_refunded",
    Email.Kind.PARTIAL_REFUND: "tickets/email/partial_refund",
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
    """Not being sent: never claimed, or claimed by a sender that died. A claim lives as long as a task may run
    (TASK_STALLED_AFTER_SECONDS): when tickets.tasks.recover_stalled_tasks runs a dead worker's task again, the
    new run can take the email over."""
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - timedelta(seconds=settings.TASK_STALLED_AFTER_SECONDS))


def _claim(email_id: int, *, again: bool) -> bool:
    """Take the email for this process with one conditional UPDATE; False if it is sent or being sent."""
    now = timezone.now()
    owed = Q() if again else Q(sent_at__isnull=True)
    claimed = Email.objects.filter(_claimable(now), owed, pk=email_id)
    return claimed.update(claimed_at=now, attempts=F("attempts") + 1) == 1


SENT, ALREADY_SENT, NOT_OWED, BUSY = "sent", "already sent", "not owed", "being sent elsewhere"


def send(email_id: int, *, again: bool = False) -> str:
    """Send an owed order email once (or `again`, for "resend"), recording the outcome on its Email row.

    Returns SENT (now), ALREADY_SENT, NOT_OWED (the confirmation of an order refunded meanwhile, noted in
    `last_error`) or BUSY (another process is sending it right now). Concurrent callers each try to claim the
    row first (one conditional UPDATE), and only the one that gets it sends. Raises what the mail server
    raised, after storing it in `last_error` and releasing the claim (the caller, the `send_order_email`
    task, tries again later).
    """
    if not _claim(email_id, again=again):
        return ALREADY_SENT if Email.objects.filter(pk=email_id, sent_at__isnull=False).exists() else BUSY
    email = Email.objects.select_related("order__event", "refund").get(pk=email_id)
    order = email.order
    if not email.is_owed:
        Email.objects.filter(pk=email.pk).update(last_error=not_sent_note(order), claimed_at=None)
        return NOT_OWED
    try:
        context = {"order": order, "event": order.event, "tickets": list(order.tickets.all())}
        context["manage_url"] = absolute(order.get_absolute_url())
        if email.refund is not None:  # a partial refund: how much, and which tickets it cancelled
            context["refund"] = email.refund
            context["cancelled"] = [ticket for ticket in context["tickets"] if ticket.refund_id == email.refund_id]
            context["valid"] = [ticket for ticket in context["tickets"] if not ticket.is_void]
        message = _message(TEMPLATES[email.kind], context, order.buyer_email)
        if email.kind == Email.Kind.CONFIRMATION:
            calendar = event_ics(order.event, url=event_page_url())
            message.attach(f"{order.event.slug}.ics", calendar, "text/calendar")
        message.send()
    except Exception as exc:  # any transport failure: keep the order, record it; the task tries again later
        error = f"{timezone.now():%Y-%m-%d %H:%M} {exc!r}"[:2000]
        Email.objects.filter(pk=email.pk).update(last_error=error, claimed_at=None)
        raise
    Email.objects.filter(pk=email.pk).update(sent_at=timezone.now(), last_error="", claimed_at=None)
    return SENT


def queue(email: Email, *, again: bool = False) -> None:
    """Send `email` (an Email row) by the send_order_email task, enqueued once the current transaction commits."""
    enqueue_after_commit(send_order_email, email.pk, again=again)


class EmailBusy(Exception):
    """Another sender holds the email's claim: this task looks again later."""


@task()
def send_order_email(email_id: int, again: bool = False, attempt: int = 1) -> str:
    """Task: send the order email `email_id` (send). Idempotent: a sent email is not sent again, unless `again`
    (an organiser's resend). A mail server's failure, or another sender's claim (a dead worker's, until it goes
    stale), is tried again later with backoff (tickets.tasks.retry_later). Returns send's outcome."""
    try:
        outcome = send(email_id, again=again)
        if outcome == BUSY and not again:  # a resend that meets another sender has nothing left to do
            raise EmailBusy(f"email {email_id} is being sent by another worker")
        return outcome
    except Exception as exc:
        retry_later(send_order_email, email_id, again=again, attempt=attempt, error=exc)
        raise  # not reached: retry_later raises


def not_sent_note(order: Order) -> str:
    return f"order {order.get_status_display().lower()}: not sent"  # "order refunded: not sent"


def send_owed_emails(*, now: datetime | None = None) -> int:
    """Enqueue send_order_email for owed emails never tried NEVER_TRIED_AFTER after they were recorded: their
    task was lost (the process stopped between the commit and the enqueue), not merely waiting for a worker
    (tickets.tasks.waiting_for). Emails that failed are tried again
    by their own task, not here. Returns how many were enqueued. An email no longer owed is marked with
    not_sent_note and left alone.
    """
    now = now or timezone.now()
    unsent = Email.objects.filter(sent_at__isnull=True)
    for email in unsent.not_owed().select_related("order"):  # a handful at most: refunds are rare
        if email.last_error != (note := not_sent_note(email.order)):
            Email.objects.filter(pk=email.pk, sent_at__isnull=True).update(last_error=note)
    lost = unsent.owed().filter(_claimable(now), attempts=0, created_at__lte=now - NEVER_TRIED_AFTER)
    queued = waiting_for(send_order_email)  # only queued behind a busy or stopped worker: not lost
    email_ids = [pk for pk in lost.values_list("pk", flat=True) if pk not in queued]
    for email_id in email_ids:
        send_order_email.enqueue(email_id)
    return len(email_ids)


@task()
def send_owed_emails_task() -> int:
    """Periodic (manage.py run_scheduler): send_owed_emails."""
    return send_owed_emails()


def request_booking_links(email_address: str) -> None:
    """Email the private links of every order made with this address, by a task: the caller's time is the same
    whether or not the address has orders (finding them, and the mail server, happen in the task)."""
    send_booking_links.enqueue(email_address)


@task()
def send_booking_links(email_address: str, attempt: int = 1) -> str:
    """Task: email the private links of every order made with `email_address` (any case); nothing if it has none.
    A mail server's failure is tried again later with backoff. Returns "sent" or "no bookings". If its worker
    dies mid-send it runs again (tickets.tasks.recover_stalled_tasks): at worst the buyer gets the links twice.
    """
    orders = list(Order.objects.filter(buyer_email__iexact=email_address).select_related("event"))
    if not orders:
        return "no bookings"
    links = [(order, absolute(order.get_absolute_url())) for order in orders]
    try:
        _message("tickets/email/booking_links", {"links": links}, email_address).send()
    except Exception as exc:
        retry_later(send_booking_links, email_address, attempt=attempt, error=exc)
    return "sent"
