"""Free tickets (an event priced 0): booked without Stripe, confirmed at once, with the same tickets and email as a
paid booking."""

import pytest
from django.core import mail

from tests.factories import EventFactory, OrderFactory
from tickets import services
from tickets.exceptions import NotRefundable, SoldOut
from tickets.models import Email, Order, OrderLog, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def free_event(db):
    return EventFactory(capacity=5, ticket_price_pence=0)


def book(client, **overrides):
    data = {"quantity": "2", "buyer_name": "Ada Activist", "buyer_email": "ada@example.com"}
    return client.post("/tickets/", {**data, **overrides})


def test_the_form_says_tickets_are_free_and_asks_for_no_payment(client, free_event):
    body = client.get("/tickets/").content.decode()
    assert "Free tickets</h2>" in body
    assert "nothing to pay" in body
    assert 'value="Book free tickets"' in body
    assert "Continue to payment" not in body
    assert "Stripe" not in body


def test_a_free_booking_is_confirmed_at_once_with_tickets_and_the_confirmation_email(
    client, free_event, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = book(client, attendee_names="Grace Hopper")
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    assert (order.status, order.total_pence, order.stripe_checkout_session_id) == (OrderStatus.PAID, 0, "")
    assert order.paid_at is not None
    assert [ticket.attendee_name for ticket in order.tickets.all()] == ["Grace Hopper", "Ada Activist"]
    assert list(OrderLog.objects.filter(order=order).values_list("from_status", "to_status", "note")) == [
        (OrderStatus.PENDING, OrderStatus.PAID, "free tickets: confirmed without payment")
    ]
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert Email.objects.get(order=order).sent_at is not None
    page = client.get(response["Location"]).content.decode()
    assert "You’re going to Netroots UK" in page
    assert services.seats_left(free_event) == 3


def test_free_bookings_are_never_sent_to_stripe(client, settings, free_event):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there: any call to Stripe would fail
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    assert book(client).status_code == 302
    assert Order.objects.get().status == OrderStatus.PAID


def test_free_tickets_still_sell_out(client, free_event):
    assert book(client, quantity="5").status_code == 302
    response = book(client, quantity="1")
    assert response.status_code == 409
    assert "sold out" in response.content.decode()
    assert Order.objects.count() == 1


def test_confirming_twice_changes_nothing_and_emails_once(free_event, django_capture_on_commit_callbacks):
    order = services.reserve_tickets(event=free_event, buyer_name="Ada", buyer_email="ada@example.com", quantity=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_free_order(order=order)
        again = services.confirm_free_order(order=order)
    assert again.status == OrderStatus.PAID
    assert again.tickets.count() == 1
    assert OrderLog.objects.filter(order=order).count() == 1
    assert len(mail.outbox) == 1


def test_an_order_with_a_price_is_never_confirmed_for_free():
    order = OrderFactory(event=EventFactory(ticket_price_pence=500))
    with pytest.raises(ValueError, match="paid through Stripe Checkout"):
        services.confirm_free_order(order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_free_order_whose_seats_went_to_others_is_not_confirmed(free_event):
    order = OrderFactory(event=free_event, quantity=2, hold_expired=True)
    OrderFactory(event=free_event, quantity=5, paid=True)
    with pytest.raises(SoldOut, match="sold out"):
        services.confirm_free_order(order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not order.tickets.exists()


def test_a_free_order_is_not_sent_to_stripe_for_a_refund(free_event, stripe_double):
    order = services.reserve_tickets(event=free_event, buyer_name="Ada", buyer_email="ada@example.com", quantity=1)
    services.confirm_free_order(order=order)
    with pytest.raises(NotRefundable, match="is free: there is no payment to refund"):
        services.refund_order(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.tickets.filter(refunded_at__isnull=True).count() == 1


def test_a_free_booking_says_free_not_paid_nothing(client, free_event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        book(client, quantity="1")
    order = Order.objects.get()
    [message] = mail.outbox
    assert "Free: 1 ticket" in message.body
    assert "£0.00" not in message.body
    assert "£0.00" not in message.alternatives[0][0]
    page = client.get(order.get_absolute_url()).content.decode()
    assert "1 ticket · free" in page
