"""Defects found in review: double-sent emails, admin saves over payments, N+1, NUL bytes, bad headers, cancel page."""

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import EventFactory
from tests.tickets.helpers import WEBHOOK, reserve_over_http
from tickets import emails
from tickets.admin import OrderAdmin
from tickets.models import Email, Order, OrderStatus, StripeEvent

SLOW_BACKEND = f"{__name__}.SlowBackend"


class SlowBackend(EmailBackend):
    """The test outbox, behind a mail server that takes its time: long enough for a second sender to start."""

    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)


def make_order(event, *, status=OrderStatus.PAID, **fields) -> Order:
    now = timezone.now()
    return Order.objects.create(
        event=event,
        buyer_name="Ada Activist",
        buyer_email="ada@example.com",
        quantity=1,
        unit_price_pence=500,
        total_pence=500,
        status=status,
        hold_expires_at=now + timedelta(minutes=30),
        paid_at=now if status in (OrderStatus.PAID, OrderStatus.REFUNDED) else None,
        **fields,
    )


def owed_confirmation(event, **order_fields) -> Email:
    """A confirmation queued a while ago and not sent yet (say, the mail server was down)."""
    order = make_order(event, **order_fields)
    return Email.objects.create(
        order=order, kind=Email.Kind.CONFIRMATION, created_at=timezone.now() - timedelta(minutes=5)
    )


@pytest.fixture
def organiser(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))


# --- 1. each email is claimed before it is sent ---


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["send_pending", "after_commit_send"])
def test_two_senders_at_once_send_a_confirmation_exactly_once(settings, first):
    settings.EMAIL_BACKEND = SLOW_BACKEND
    email = owed_confirmation(EventFactory())
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


@pytest.mark.django_db
def test_an_email_being_sent_elsewhere_is_left_alone_until_its_claim_is_five_minutes_old():
    email = owed_confirmation(EventFactory())
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


@pytest.mark.django_db
def test_a_failed_send_releases_its_claim_so_the_next_run_retries(settings):
    settings.EMAIL_BACKEND = "tests.tickets.failing_email.Backend"
    email = owed_confirmation(EventFactory())
    assert emails.send_pending() == (0, 1)
    email.refresh_from_db()
    assert (email.claimed_at, email.attempts) == (None, 1)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert emails.send_pending() == (1, 0)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_no_confirmation_goes_out_for_an_order_refunded_before_it_was_sent():
    email = owed_confirmation(EventFactory(), status=OrderStatus.REFUNDED)
    assert emails.send(email.pk) is False
    email.refresh_from_db()
    assert (email.sent_at, email.last_error, email.claimed_at) == (None, "order refunded: not sent", None)
    attempts = email.attempts
    for _ in range(2):  # the retry job leaves it alone from now on
        assert emails.send_pending() == (0, 0)
    assert Email.objects.get(pk=email.pk).attempts == attempts
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_retry_job_marks_a_failed_confirmation_of_a_since_refunded_order_and_stops(settings):
    email = owed_confirmation(EventFactory(), status=OrderStatus.REFUNDED)
    Email.objects.filter(pk=email.pk).update(last_error="2026-01-01 10:00 ConnectionRefusedError()", attempts=3)
    assert emails.send_pending() == (0, 0)
    email.refresh_from_db()
    assert (email.sent_at, email.last_error, email.attempts) == (None, "order refunded: not sent", 3)
    assert mail.outbox == []


def test_smtp_has_a_timeout(settings):
    assert settings.EMAIL_TIMEOUT == 10


# --- 2. the admin's change form writes only the buyer's details ---


@pytest.mark.django_db
def test_saving_an_order_in_the_admin_keeps_a_payment_that_arrived_meanwhile(client, organiser, monkeypatch):
    order = make_order(EventFactory(), status=OrderStatus.PENDING)
    url = f"/admin/tickets/order/{order.pk}/change/"
    assert client.get(url).status_code == 200
    load = OrderAdmin.get_object

    def load_then_webhook_pays(self, request, object_id, from_field=None):
        obj = load(self, request, object_id, from_field)
        if request.method == "POST":  # the webhook lands between loading the order and saving it
            Order.objects.filter(pk=order.pk).update(
                status=OrderStatus.PAID, paid_at=timezone.now(), stripe_payment_intent_id="pi_meanwhile"
            )
        return obj

    monkeypatch.setattr(OrderAdmin, "get_object", load_then_webhook_pays)
    form = {"buyer_name": "Ada Lovelace", "buyer_email": "ada@example.org", "_save": "Save"}
    for prefix in ["tickets", "emails", "stripe_events", "log"]:
        form |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = client.post(url, form)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    order.refresh_from_db()
    assert (order.buyer_name, order.buyer_email) == ("Ada Lovelace", "ada@example.org")
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    assert order.stripe_payment_intent_id == "pi_meanwhile"


# --- 3. the Stripe events list runs the same queries however long it is ---


@pytest.mark.django_db
def test_stripe_event_list_queries_do_not_grow_with_its_rows(client, organiser):
    event = EventFactory()

    def queries_for(rows: int) -> int:
        for _ in range(rows - StripeEvent.objects.count()):
            n = StripeEvent.objects.count()
            StripeEvent.objects.create(
                stripe_event_id=f"evt_{n}", type="checkout.session.completed", order=make_order(event)
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/admin/tickets/stripeevent/")
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == rows
        return len(queries)

    assert queries_for(2) == queries_for(12)


# --- 4. a NUL byte (or anything else no link contains) in a link is "not found", before any query ---


@pytest.fixture
def event(db):
    return EventFactory(capacity=10)


def test_a_nul_byte_in_the_session_id_gets_the_not_found_page(client, event):
    for session_id in ["%00x", "cs_test_%00x", "cs_test_abc%00", "x" * 300]:
        response = client.get(f"/tickets/checkout/success/?session_id={session_id}")
        assert response.status_code == 404, session_id
        assert "We can’t match this payment to your browser" in response.content.decode()


def test_a_nul_byte_in_a_booking_link_gets_the_not_found_page(client, stripe_double, event):
    order = reserve_over_http(client)
    ref, secret = order.reference, order.secret
    for url in [
        f"/tickets/order/NR-%00ABCD/{secret}/",
        f"/tickets/order/{ref}%00/{secret}/",
        f"/tickets/order/{ref.lower()}/{secret}/",
        f"/tickets/order/{ref}/%00{secret}/",
        f"/tickets/order/{ref}/{secret}%00/",
        f"/tickets/order/NR-%00ABCD/{secret}/cancel/",
        f"/tickets/order/{ref}/{secret}%00/cancel/",
        f"/tickets/order/NR-%00ABCD/{secret}/calendar.ics",
        f"/tickets/order/{ref}/%00/calendar.ics",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "We can’t find that booking" in response.content.decode(), url
    assert client.get(f"/tickets/order/{ref}/{secret}/").status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


# --- 5. the webhook's Content-Length ---


def test_a_webhook_with_a_non_numeric_content_length_is_a_bad_request(client, db):
    response = client.post(WEBHOOK, data=b"{}", content_type="application/json", CONTENT_LENGTH="lots")
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


# --- 7. the cancel page when Stripe can't be reached ---


def test_cancelling_while_stripe_is_unreachable_says_the_hold_runs_out_and_nothing_is_charged(
    client, stripe_double, event, settings
):
    order = reserve_over_http(client, quantity=2)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    response = client.get(f"/tickets/order/{order.reference}/{order.secret}/cancel/")
    body = response.content.decode()
    assert response.status_code == 200
    hold_ends = f"{timezone.localtime(order.hold_expires_at):%H:%M}"
    assert "We couldn’t cancel your booking just now" in body
    assert "the 2 seats we’re holding free up on their own when the hold ends at" in body
    assert f">{hold_ends}</time>" in body
    assert "Nothing is charged unless you complete the payment." in body
    assert "on its way" not in body
    assert "still processing" not in body
    assert "Booking not cancelled yet" in body
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
