"""Emails to buyers: what the confirmation says, each owed email sent exactly once however many senders try,
a failed send kept and retried (for a day) without touching the order, and no confirmation for a refunded order."""

import io
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.factories import EventFactory, OrderFactory
from tests.tickets.helpers import deliver, pay_at_stripe
from tickets import emails, services
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
@pytest.mark.parametrize("first", ["send_pending", "after_commit_send"])
def test_two_senders_at_once_send_a_confirmation_exactly_once(settings, first):
    settings.EMAIL_BACKEND = SLOW_BACKEND
    email = owed_confirmation()
    start = threading.Barrier(2)
    senders = {"send_pending": emails.send_pending, "after_commit_send": lambda: emails.send(email.pk)}
    errors = []

    def run(sender):
        try:
            start.wait(timeout=10)
            sender()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(senders[name],)) for name in (first, "send_pending")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.sent_at is not None
    assert (email.attempts, email.claimed_at, email.last_error) == (1, None, "")


def test_an_email_being_sent_elsewhere_is_left_alone_until_its_claim_is_five_minutes_old():
    email = owed_confirmation()
    Email.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - timedelta(minutes=4))
    assert emails.send_pending() == (0, 0)
    assert emails.send(email.pk) is False
    assert emails.send(email.pk, again=True) is False  # a resend also waits for the other sender
    assert mail.outbox == []
    Email.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - timedelta(minutes=6))  # that sender died
    assert emails.send_pending() == (1, 0)
    assert len(mail.outbox) == 1
    assert emails.send(email.pk) is True  # already sent: nothing more goes out
    assert len(mail.outbox) == 1


# --- a failed send is kept and retried, and never undoes the order ---


def test_a_failed_send_releases_its_claim_so_the_next_run_retries(settings):
    settings.EMAIL_BACKEND = "tests.tickets.failing_email.Backend"
    email = owed_confirmation()
    assert emails.send_pending() == (0, 1)
    email.refresh_from_db()
    assert (email.claimed_at, email.attempts) == (None, 1)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert emails.send_pending() == (1, 0)
    assert len(mail.outbox) == 1


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
    Email.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    call_command("send_pending_emails", stdout=io.StringIO())
    email.refresh_from_db()
    assert email.sent_at is not None
    assert len(mail.outbox) == 1


def test_an_email_that_keeps_failing_stops_being_retried_after_a_day():
    email = owed_confirmation()
    Email.objects.filter(pk=email.pk).update(attempts=emails.MAX_AUTOMATIC_ATTEMPTS)
    assert emails.send_pending() == (0, 0)
    Email.objects.filter(pk=email.pk).update(attempts=emails.MAX_AUTOMATIC_ATTEMPTS - 1)
    assert emails.send_pending() == (1, 0)


# --- a confirmation is owed only while its order is paid ---


def test_no_confirmation_goes_out_for_an_order_refunded_before_it_was_sent():
    email = owed_confirmation(refunded=True)
    assert emails.send(email.pk) is False
    email.refresh_from_db()
    assert (email.sent_at, email.last_error, email.claimed_at) == (None, "order refunded: not sent", None)
    attempts = email.attempts
    for _ in range(2):  # the retry job leaves it alone from now on
        assert emails.send_pending() == (0, 0)
    assert Email.objects.get(pk=email.pk).attempts == attempts
    assert mail.outbox == []


def test_the_retry_job_marks_a_failed_confirmation_of_a_since_refunded_order_and_stops(settings):
    email = owed_confirmation(refunded=True)
    Email.objects.filter(pk=email.pk).update(last_error="2026-01-01 10:00 ConnectionRefusedError()", attempts=3)
    assert emails.send_pending() == (0, 0)
    email.refresh_from_db()
    assert (email.sent_at, email.last_error, email.attempts) == (None, "order refunded: not sent", 3)
    assert mail.outbox == []


# --- plain text is plain, HTML is escaped ---

AWKWARD = "Siân O'Brien & Co <b>"


def sent(kind: str, **order_fields):
    """The email of `kind` for a new order (paid, or refunded for a refund notice), as it went out."""
    order = OrderFactory(**order_fields)
    assert emails.send(Email.objects.create(order=order, kind=kind).pk)
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
        assert emails.send(Email.objects.get(order=order, kind=Email.Kind.REFUND).pk, again=True)
        message = mail.outbox[-1]
    assert "Netroots & Friends" in message.subject
    assert f"Hello {AWKWARD}," in message.body
    assert_reads_right(message, AWKWARD, "Netroots & Friends")


def test_booking_links_email_names_each_event_unescaped_in_text():
    event = EventFactory(name="Netroots & Friends <2028>")
    order = OrderFactory(paid=True, event=event, buyer_email="o'brien@example.com", buyer_name=AWKWARD)
    emails.send_booking_links("o'brien@example.com")
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
