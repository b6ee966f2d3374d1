"""Emails to buyers: what the confirmation says, each owed email sent exactly once however many tasks try, a failed
send kept and retried by the task engine with backoff without touching the order, and no confirmation for a
refunded order."""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import EventFactory, OrderFactory
from tests.task_backend import run_due_tasks
from tests.tickets.helpers import deliver, pay_at_stripe
from tickets import emails, services, tasks
from tickets.models import Email, OrderStatus

pytestmark = pytest.mark.django_db

SLOW_BACKEND = f"{__name__}.SlowBackend"


class SlowBackend(EmailBackend):
    """The test outbox, behind a mail server that takes its time: long enough for a second sender to start."""

    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)


def owed_confirmation(**order_fields) -> Email:
    """A confirmation queued a while ago and not sent yet (say, the mail server was down)."""
    order = OrderFactory(**({"paid": True} | order_fields))
    return Email.objects.create(
        order=order, kind=Email.Kind.CONFIRMATION, created_at=timezone.now() - timedelta(minutes=5)
    )


# --- what the confirmation says ---


def test_confirmation_email_has_reference_tickets_date_venue_link_and_ics(
    stripe_double, django_capture_on_commit_callbacks
):
    order = OrderFactory(event=EventFactory(capacity=10), quantity=2, attendee_names=["Grace Hopper", "Alan Turing"])
    pay_at_stripe(stripe_double, order)
    with django_capture_on_commit_callbacks(execute=True):
        services.fulfil_checkout(session_id=order.stripe_checkout_session_id)
    message = mail.outbox[0]
    order.refresh_from_db()
    assert order.reference in message.subject
    assert message.to == ["ada@example.com"]
    for text in [message.body, message.alternatives[0][0]]:
        assert order.reference in text
        assert "Grace Hopper" in text
        assert "Alan Turing" in text
        assert "Saturday 8 January 2028" in text
        assert "Test Hall" in text
        assert "http://testserver" + order.get_absolute_url() in text
    filename, content, mimetype = message.attachments[0]
    assert filename.endswith(".ics")
    assert mimetype == "text/calendar"
    assert "DTSTART" in content


def test_smtp_has_a_timeout(settings):
    assert settings.EMAIL_TIMEOUT == 10


# --- each email is claimed before it is sent ---


@pytest.mark.django_db(transaction=True)
def test_two_tasks_at_once_send_a_confirmation_exactly_once(settings):
    """The same send_order_email task run twice at once (a duplicate enqueue, a stalled task run again)."""
    settings.EMAIL_BACKEND = SLOW_BACKEND
    email = owed_confirmation()
    start = threading.Barrier(2)
    outcomes, errors = [], []

    def run():
        try:
            start.wait(timeout=10)
            outcomes.append(emails.send_order_email.call(email.pk))
        except Exception as exc:  # the loser's retry is enqueued and its attempt recorded as failed
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(mail.outbox) == 1
    assert outcomes[0] == emails.SENT
    assert [type(exc) for exc in errors] == [emails.EmailBusy]  # it looks again later, and finds it sent
    email.refresh_from_db()
    assert email.sent_at is not None
    assert (email.attempts, email.claimed_at, email.last_error) == (1, None, "")
    retry = DBTaskResult.objects.get(status="READY")
    retry.run_after = timezone.now()
    retry.save()
    assert run_due_tasks() == 1
    assert len(mail.outbox) == 1


def test_an_email_being_sent_elsewhere_is_left_alone_until_that_senders_claim_is_stale(settings):
    settings.TASK_STALLED_AFTER_SECONDS = 600
    email = owed_confirmation()
    Email.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - timedelta(minutes=9))
    assert emails.send(email.pk) == emails.BUSY
    assert emails.send(email.pk, again=True) == emails.BUSY  # a resend also waits for the other sender
    assert mail.outbox == []
    Email.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - timedelta(minutes=11))  # that sender died
    assert emails.send(email.pk) == emails.SENT
    assert len(mail.outbox) == 1
    assert emails.send(email.pk) == emails.ALREADY_SENT  # nothing more goes out
    assert len(mail.outbox) == 1


# --- a failed send is kept and retried by the task engine, and never undoes the order ---


def make_due(result: DBTaskResult) -> None:
    """Move a retry's backoff into the past, so run_due_tasks runs it now."""
    DBTaskResult.objects.filter(pk=result.pk).update(run_after=timezone.now() - timedelta(seconds=1))


def test_a_failed_send_is_recorded_and_retried_by_the_engine_with_backoff(settings):
    settings.EMAIL_BACKEND = "tests.tickets.failing_email.Backend"
    email = owed_confirmation()
    emails.send_order_email.enqueue(email.pk)
    failed = DBTaskResult.objects.get(status="FAILED")
    assert "mail server down" in failed.traceback  # what failed, for the admin's Background tasks
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    wait = (retry.run_after - timezone.now()).total_seconds()
    assert tasks.RETRY_DELAYS_SECONDS[0] - 5 < wait <= tasks.RETRY_DELAYS_SECONDS[0]
    email.refresh_from_db()
    assert (email.sent_at, email.claimed_at, email.attempts) == (None, None, 1)
    assert "mail server down" in email.last_error
    assert run_due_tasks() == 0  # not before its time
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_due(retry)
    assert run_due_tasks() == 1
    email.refresh_from_db()
    assert (email.attempts, email.last_error) == (2, "")
    assert email.sent_at is not None
    assert len(mail.outbox) == 1


def test_retries_back_off_and_stop_after_the_last_attempt(settings):
    settings.EMAIL_BACKEND = "tests.tickets.failing_email.Backend"
    email = owed_confirmation()
    emails.send_order_email.enqueue(email.pk, attempt=3)
    retry = DBTaskResult.objects.get(status="READY")
    assert (retry.args_kwargs["kwargs"]["attempt"], tasks.RETRY_DELAYS_SECONDS[2]) == (4, 600)
    assert (retry.run_after - timezone.now()).total_seconds() > 590
    retry.delete()
    emails.send_order_email.enqueue(email.pk, attempt=tasks.MAX_ATTEMPTS)
    assert not DBTaskResult.objects.filter(status="READY").exists()  # given up: the admin shows it
    last = DBTaskResult.objects.filter(status="FAILED").latest("enqueued_at")
    assert "GaveUp" in last.traceback
    assert f"failed {tasks.MAX_ATTEMPTS} times" in last.traceback


def test_a_failed_email_never_undoes_the_payment_and_is_retried(
    client, stripe_double, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.tickets.failing_email.Backend"
    order = OrderFactory(event=EventFactory(capacity=10), quantity=2)
    completed = pay_at_stripe(stripe_double, order)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_double, completed).status_code == 200
    order.refresh_from_db()
    email = Email.objects.get(order=order)
    assert order.status == OrderStatus.PAID
    assert (email.sent_at, email.attempts) == (None, 1)
    assert "mail server down" in email.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_due(DBTaskResult.objects.get(status="READY"))
    run_due_tasks()
    email.refresh_from_db()
    assert email.sent_at is not None
    assert len(mail.outbox) == 1


def test_an_email_whose_task_was_lost_is_sent_by_the_sweep():
    """The process stopped between the commit and the enqueue: send_owed_emails finds it after five minutes."""
    email = owed_confirmation()  # recorded five minutes ago, never tried
    fresh = Email.objects.create(order=OrderFactory(paid=True), kind=Email.Kind.CONFIRMATION)
    assert emails.send_owed_emails() == 1
    assert len(mail.outbox) == 1
    assert Email.objects.get(pk=email.pk).sent_at is not None
    assert Email.objects.get(pk=fresh.pk).sent_at is None  # its own task may still be coming
    assert emails.send_owed_emails() == 0


def test_the_sweep_leaves_an_email_whose_task_only_waits_for_a_worker(settings):
    """Workers busy or stopped: the email's task is queued, not lost, and one copy of it is enough."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # queued, as in production
    email = owed_confirmation()
    emails.send_order_email.enqueue(email.pk)
    for _ in range(3):
        assert emails.send_owed_emails() == 0
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert mail.outbox == []


# --- a confirmation is owed only while its order is paid ---


def test_no_confirmation_goes_out_for_an_order_refunded_before_it_was_sent():
    email = owed_confirmation(refunded=True)
    assert emails.send_order_email.call(email.pk) == emails.NOT_OWED
    email.refresh_from_db()
    assert (email.sent_at, email.last_error, email.claimed_at) == (None, "order refunded: not sent", None)
    attempts = email.attempts
    for _ in range(2):  # the sweep leaves it alone from now on
        assert emails.send_owed_emails() == 0
    assert Email.objects.get(pk=email.pk).attempts == attempts
    assert mail.outbox == []
    assert not DBTaskResult.objects.filter(status="READY").exists()  # and nothing is retried


def test_the_sweep_marks_a_failed_confirmation_of_a_since_refunded_order_and_stops(settings):
    email = owed_confirmation(refunded=True)
    Email.objects.filter(pk=email.pk).update(last_error="2026-01-01 10:00 ConnectionRefusedError()", attempts=3)
    assert emails.send_owed_emails() == 0
    email.refresh_from_db()
    assert (email.sent_at, email.last_error, email.attempts) == (None, "order refunded: not sent", 3)
    assert mail.outbox == []


# --- plain text is plain, HTML is escaped ---

AWKWARD = "Siân O'Brien & Co <b>"


def sent(kind: str, **order_fields):
    """The email of `kind` for a new order (paid, or refunded for a refund notice), as it went out."""
    order = OrderFactory(**order_fields)
    assert emails.send(Email.objects.create(order=order, kind=kind).pk) == emails.SENT
    return order, mail.outbox[-1]


def assert_reads_right(message, *names: str) -> None:
    """Subject and plain text carry the names as typed; the HTML part escapes them, and never lets a tag through."""
    text, html = message.body, message.alternatives[0][0]
    for name in names:
        assert name in text
        assert name.replace("&", "&amp;").replace("'", "&#x27;").replace("<", "&lt;").replace(">", "&gt;") in html
    for part in [message.subject, text]:
        for entity in ["&amp;", "&#x27;", "&lt;"]:
            assert entity not in part
    assert "<b>" not in html


def test_confirmation_subject_and_text_are_unescaped_and_html_is_escaped():
    event = EventFactory(name="Netroots & Friends <2028>")
    order, message = sent(
        Email.Kind.CONFIRMATION,
        paid=True,
        event=event,
        buyer_name=AWKWARD,
        quantity=2,
        attendee_names=["Dónal O'Neill <i>", ""],
    )
    assert message.subject == f"Your Netroots & Friends <2028> tickets: booking {order.reference}"
    assert f"Hello {AWKWARD}," in message.body
    assert_reads_right(message, AWKWARD, "Dónal O'Neill <i>", "Netroots & Friends <2028>")


@pytest.mark.parametrize("paid_at", [True, False], ids=["refunded", "payment-came-too-late"])
def test_refund_subject_and_text_are_unescaped_and_html_is_escaped(paid_at):
    event = EventFactory(name="Netroots & Friends")
    order, message = sent(Email.Kind.REFUND, refunded=True, event=event, buyer_name=AWKWARD)
    if not paid_at:  # a payment we couldn't honour: the other wording
        order.paid_at = None
        order.save(update_fields=["paid_at"])
        assert emails.send(Email.objects.get(order=order, kind=Email.Kind.REFUND).pk, again=True) == emails.SENT
        message = mail.outbox[-1]
    assert "Netroots & Friends" in message.subject
    assert f"Hello {AWKWARD}," in message.body
    assert_reads_right(message, AWKWARD, "Netroots & Friends")


def test_booking_links_email_names_each_event_unescaped_in_text():
    event = EventFactory(name="Netroots & Friends <2028>")
    order = OrderFactory(paid=True, event=event, buyer_email="o'brien@example.com", buyer_name=AWKWARD)
    emails.request_booking_links("o'brien@example.com")
    message = mail.outbox[-1]
    link = "http://testserver" + order.get_absolute_url()
    assert message.subject == "Your Netroots UK booking links"
    assert link in message.body
    assert f'href="{link}"' in message.alternatives[0][0]
    assert_reads_right(message, "Netroots & Friends <2028>")


# --- the calendar file attached carries no secret ---


def unfolded(ics: bytes | str) -> str:
    """The calendar's text with RFC 5545's folded lines joined, so a secret split across a fold is still found."""
    text = ics.decode() if isinstance(ics, bytes) else ics
    return text.replace("\r\n ", "").replace("\r\n\t", "")


def test_the_confirmations_calendar_file_links_the_event_page_not_the_booking():
    order, message = sent(Email.Kind.CONFIRMATION, paid=True)
    calendar = unfolded(message.attachments[0][1])
    assert order.secret not in calendar
    assert order.reference not in calendar
    assert "URL:http://testserver/\r\n" in calendar
    assert order.secret in message.body  # the email itself still has the private link
