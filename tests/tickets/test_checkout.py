"""The ticket flow against the Stripe test double: reserve, pay, webhooks, success and cancel pages."""

import io
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import EventFactory
from tests.tickets.helpers import deliver, last_event, reserve_over_http
from tickets.models import Email, Order, OrderStatus, StripeEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(db):
    return EventFactory(capacity=10, ticket_price_pence=500)


def test_reserving_creates_a_checkout_session_for_exactly_the_order(client, stripe_double, event):
    order = reserve_over_http(client, quantity=3, email="grace@example.com")
    session = stripe_double.session(order.stripe_checkout_session_id)
    assert session["amount_total"] == order.total_pence == 1500
    assert session["currency"] == "gbp"
    assert session["client_reference_id"] == str(order.pk)
    assert session["metadata"]["order_reference"] == order.reference
    assert session["customer_email"] == "grace@example.com"
    # With the hold, but never under Stripe's 30-minute floor (the default hold is exactly 30 minutes).
    assert session["expires_at"] >= int(order.hold_expires_at.timestamp())
    assert 30 * 60 < session["expires_at"] - time.time() <= 32 * 60
    assert session["success_url"].endswith("/tickets/checkout/success/?session_id={CHECKOUT_SESSION_ID}")
    assert order.checkout_url == session["url"]  # kept, to send the buyer back to Checkout while the hold lasts
    assert order.status == OrderStatus.PENDING


def test_paid_exactly_once_despite_duplicate_late_and_out_of_order_events(
    client, stripe_double, event, django_capture_on_commit_callbacks
):
    order = reserve_over_http(client, quantity=2)
    stripe_double.complete(order.stripe_checkout_session_id, outcome="paid")
    completed = last_event(stripe_double, "checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        success = client.get("/tickets/checkout/success/", {"session_id": order.stripe_checkout_session_id})
        assert deliver(client, stripe_double, completed).status_code == 200
        assert deliver(client, stripe_double, completed).status_code == 200  # a retry of the same event
        late = {**completed, "id": "evt_late_expired", "type": "checkout.session.expired"}
        assert deliver(client, stripe_double, late).status_code == 200
    order.refresh_from_db()
    assert success.status_code == 302
    assert success["Location"] == order.get_absolute_url()
    assert order.status == OrderStatus.PAID
    assert order.tickets.count() == 2
    assert len(mail.outbox) == 1
    assert list(order.log.values_list("to_status", flat=True)) == [OrderStatus.PAID]
    assert StripeEvent.objects.get(stripe_event_id=completed["id"]).outcome == "order paid"


def test_webhook_first_then_success_page(client, stripe_double, event, django_capture_on_commit_callbacks):
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
        page = client.get("/tickets/checkout/success/", {"session_id": order.stripe_checkout_session_id}, follow=True)
    assert "You’re going to Netroots UK" in page.content.decode()
    assert len(mail.outbox) == 1


def test_confirmation_email_has_reference_tickets_date_venue_link_and_ics(
    client, stripe_double, event, django_capture_on_commit_callbacks
):
    order = reserve_over_http(client, quantity=2, names="Grace Hopper\nAlan Turing")
    stripe_double.complete(order.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
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


def test_the_success_page_never_pays_an_unpaid_session(client, stripe_double, event):
    order = reserve_over_http(client)
    response = client.get("/tickets/checkout/success/", {"session_id": order.stripe_checkout_session_id}, follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert response.redirect_chain[-1][0] == order.get_absolute_url() + "?from=checkout"
    body = response.content.decode()
    assert "Confirming your payment" in body
    assert "What next" not in body
    assert response["Refresh"] == "3"  # reloads itself without JavaScript until the webhook lands
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    later = client.get(order.get_absolute_url() + "?from=checkout")
    assert not later.has_header("Refresh")
    assert f'href="{order.get_absolute_url()}?from=checkout">Check again' in later.content.decode()


@pytest.mark.parametrize("session_id", ["", "cs_test_unknown", "x" * 5000])
def test_success_page_with_an_unknown_session_id_is_a_clear_404(client, stripe_double, event, session_id):
    response = client.get("/tickets/checkout/success/", {"session_id": session_id})
    assert response.status_code == 404
    assert "can’t match this payment" in response.content.decode()


def test_success_page_with_someone_elses_session_id_shows_nothing_of_theirs(
    client, django_user_model, stripe_double, event
):
    from django.test import Client

    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)
    stranger = Client()
    response = stranger.get("/tickets/checkout/success/", {"session_id": order.stripe_checkout_session_id})
    assert response.status_code == 404
    assert order.reference not in response.content.decode()


def test_async_payment_pending_then_succeeded(client, stripe_double, event, django_capture_on_commit_callbacks):
    order = reserve_over_http(client)
    session_id = order.stripe_checkout_session_id
    stripe_double.complete(session_id, outcome="async_pending")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
        order.refresh_from_db()
        assert (order.status, order.is_awaiting_async_payment) == (OrderStatus.PENDING, True)
        stripe_double.async_result(session_id, outcome="succeeded")
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.async_payment_succeeded"))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(mail.outbox) == 1


def test_async_events_in_reverse_order_still_pay_once(client, stripe_double, event, django_capture_on_commit_callbacks):
    order = reserve_over_http(client)
    session_id = order.stripe_checkout_session_id
    stripe_double.complete(session_id, outcome="async_pending")
    stripe_double.async_result(session_id, outcome="succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.async_payment_succeeded"))
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(mail.outbox) == 1


def test_async_payment_failed_releases_the_seats(client, stripe_double, event):
    order = reserve_over_http(client, quantity=4)
    stripe_double.complete(order.stripe_checkout_session_id, outcome="async_pending")
    stripe_double.async_result(order.stripe_checkout_session_id, outcome="failed")
    deliver(client, stripe_double, last_event(stripe_double, "checkout.session.async_payment_failed"))
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert Order.objects.seats_taken(event) == 0


def test_expired_event_never_unpays_a_paid_order(client, stripe_double, event, django_capture_on_commit_callbacks):
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)
    completed = last_event(stripe_double, "checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, completed)
    deliver(client, stripe_double, {**completed, "id": "evt_x", "type": "checkout.session.expired"})
    deliver(client, stripe_double, {**completed, "id": "evt_y", "type": "checkout.session.async_payment_failed"})
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_cancel_expires_the_session_then_frees_the_seats(client, stripe_double, event):
    order = reserve_over_http(client, quantity=3)
    response = client.get(f"/tickets/order/{order.reference}/{order.secret}/cancel/")
    order.refresh_from_db()
    assert response.status_code == 200
    body = response.content.decode()
    assert "Your booking is cancelled" in body
    assert f'the 3 seats we held for booking <span class="ref">{order.reference}</span> are free again' in body
    assert order.status == OrderStatus.CANCELLED
    assert stripe_double.session(order.stripe_checkout_session_id)["status"] == "expired"
    assert Order.objects.seats_taken(event) == 0


def test_cancel_after_paying_keeps_the_order(client, stripe_double, event, django_capture_on_commit_callbacks):
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)  # paid, webhook not yet arrived
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(f"/tickets/order/{order.reference}/{order.secret}/cancel/")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert response["Location"] == order.get_absolute_url()
    assert len(mail.outbox) == 1


def test_an_amount_mismatch_is_refused_refunded_and_logged(
    client, stripe_double, event, caplog, django_capture_on_commit_callbacks
):
    from tickets import payments

    order = reserve_over_http(client, quantity=2)
    cheaper = Order(pk=order.pk, reference="NR-OTHER1", event=event, buyer_email=order.buyer_email, quantity=1,
                    unit_price_pence=100, total_pence=100, hold_expires_at=order.hold_expires_at)  # fmt: skip
    session = payments.create_checkout_session(cheaper, success_url="http://testserver/s/", cancel_url="http://x/")
    Order.objects.filter(pk=order.pk).update(stripe_checkout_session_id=session.id)
    stripe_double.complete(session.id)
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
    order.refresh_from_db()
    assert response.status_code == 200
    assert "does not match" in StripeEvent.objects.get().outcome
    assert "Refusing" in caplog.text
    # The money is never kept: the order is released and the whole payment (£1, not the order's £10) refunded.
    assert order.status == OrderStatus.REFUNDED
    assert order.tickets.count() == 0
    (refund,) = stripe_double.events("refund.created")
    assert refund["data"]["object"]["amount"] == 100
    assert refund["data"]["object"]["payment_intent"] == order.stripe_payment_intent_id
    [apology] = [message for message in mail.outbox if message.to == ["ada@example.com"]]
    assert "couldn’t honour your payment" in apology.body


def test_other_event_types_get_200_and_change_nothing(client, stripe_double, event):
    order = reserve_over_http(client)
    fake = (
        {**stripe_double.events()[0], "id": "evt_other", "type": "customer.created"} if stripe_double.events() else None
    )
    fake = fake or {"id": "evt_other", "object": "event", "type": "customer.created", "data": {"object": {}}}
    response = deliver(client, stripe_double, fake)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert StripeEvent.objects.get().outcome == "ignored"


def test_a_failed_email_never_undoes_the_payment_and_is_retried(
    client, stripe_double, event, settings, django_capture_on_commit_callbacks
):
    from django.core.management import call_command
    from django.utils import timezone

    settings.EMAIL_BACKEND = "tests.tickets.failing_email.Backend"
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed")).status_code == 200
        )
    order.refresh_from_db()
    email = Email.objects.get(order=order)
    assert order.status == OrderStatus.PAID
    assert (email.sent_at, email.attempts) == (None, 1)
    assert "mail server down" in email.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Email.objects.filter(pk=email.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=5))
    call_command("send_pending_emails", stdout=io.StringIO())
    email.refresh_from_db()
    assert email.sent_at is not None
    assert len(mail.outbox) == 1


def pay(client, stripe_double, django_capture_on_commit_callbacks, *, quantity: int = 2) -> Order:
    order = reserve_over_http(client, quantity=quantity)
    stripe_double.complete(order.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def refund_in_stripes_dashboard(stripe_double, order: Order, **params) -> dict:
    from tickets import payments

    payments.client().v1.refunds.create(params={"payment_intent": order.stripe_payment_intent_id, **params})
    return last_event(stripe_double, "refund.created")


def test_a_refund_made_in_stripes_dashboard_refunds_the_booking(
    client, stripe_double, event, django_capture_on_commit_callbacks
):
    order = pay(client, stripe_double, django_capture_on_commit_callbacks)
    refunded = refund_in_stripes_dashboard(stripe_double, order)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_double, refunded).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.stripe_refund_id == refunded["data"]["object"]["id"]
    assert [message.subject for message in mail.outbox if "refund" in message.subject.lower()]


def test_a_partial_refund_in_stripe_keeps_the_booking_paid(
    client, stripe_double, event, django_capture_on_commit_callbacks
):
    order = pay(client, stripe_double, django_capture_on_commit_callbacks)
    deliver(client, stripe_double, refund_in_stripes_dashboard(stripe_double, order, amount=100))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_our_own_refund_and_its_event_refund_once_and_email_once(
    client, stripe_double, event, django_capture_on_commit_callbacks
):
    from tickets import services

    order = pay(client, stripe_double, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk)
        deliver(client, stripe_double, last_event(stripe_double, "refund.created"))
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1


def test_a_refund_stripe_reports_failed_leaves_the_booking_paid_and_says_why(
    client, stripe_double, event, django_capture_on_commit_callbacks, monkeypatch
):
    from tickets import payments, services
    from tickets.exceptions import PaymentError

    order = pay(client, stripe_double, django_capture_on_commit_callbacks)
    failed = type("Refund", (), {"id": "re_failed", "status": "failed"})()
    monkeypatch.setattr(payments.client().v1.refunds, "create", lambda **kwargs: failed)
    with pytest.raises(PaymentError, match="re_failed failed"):
        services.refund_order(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
