"""Capacity, the sales window, unpaid bookings per client and per email, and the form's one-time token: the rules
of reserve_tickets and seats_left, tested directly."""

import hashlib
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import EventFactory, OrderFactory
from tickets import services
from tickets.exceptions import PaymentError, SalesClosed, SoldOut, TooManyUnpaidBookings
from tickets.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


def reserve(event, quantity=1, *, buyer_email="ada@example.com", **kwargs):
    return services.reserve_tickets(
        event=event, buyer_name="Ada Activist", buyer_email=buyer_email, quantity=quantity, **kwargs
    )


def test_a_reservation_holds_seats_at_the_price_in_force():
    event = EventFactory(capacity=10, ticket_price_pence=500, hold_minutes=30)
    order = reserve(event, 3)
    assert order.status == OrderStatus.PENDING
    assert (order.unit_price_pence, order.total_pence) == (500, 1500)
    assert services.seats_left(event) == 7


def test_a_new_hold_is_provisional_until_its_checkout_session_is_recorded(stripe_double, settings):
    """A buyer whose request fails between the reservation and Stripe holds nothing for long."""
    settings.PROVISIONAL_HOLD_SECONDS = 120
    event = EventFactory(capacity=10, ticket_price_pence=500, hold_minutes=30)
    order = reserve(event, 3)
    assert timedelta(seconds=100) < order.hold_expires_at - timezone.now() <= timedelta(seconds=120)
    services.start_checkout(order=order)
    order.refresh_from_db()
    assert order.hold_expires_at - timezone.now() > timedelta(minutes=29)  # the event's hold, and the session's
    expires_at = stripe_double.session(order.stripe_checkout_session_id)["expires_at"]
    assert expires_at == int(order.hold_expires_at.timestamp())


def test_a_provisional_hold_that_ran_out_frees_its_seats_and_checkout_then_refuses(stripe_double):
    event = EventFactory(capacity=3, ticket_price_pence=500)
    order = reserve(event, 3)
    Order.objects.filter(pk=order.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.seats_left(event) == 3
    services.release_expired_holds()
    with pytest.raises(PaymentError, match="ran out"):
        services.start_checkout(order=order)
    assert services.seats_left(event) == 3


def test_reserve_refuses_when_sold_out():
    event = EventFactory(capacity=2)
    reserve(event, 2)
    with pytest.raises(SoldOut, match="sold out"):
        reserve(event, 1)


def test_reserve_refuses_more_than_are_left_and_says_how_many():
    event = EventFactory(capacity=3)
    reserve(event, 2)
    with pytest.raises(SoldOut, match="only 1 ticket left"):
        reserve(event, 2)


def test_expired_holds_do_not_count():
    event = EventFactory(capacity=2)
    OrderFactory(event=event, quantity=2, hold_expired=True)
    assert services.seats_left(event) == 2
    reserve(event, 2)


def test_paid_orders_count_and_released_ones_do_not():
    event = EventFactory(capacity=5)
    OrderFactory(event=event, quantity=2, paid=True)
    OrderFactory(event=event, quantity=2, cancelled=True)
    assert services.seats_left(event) == 3


@pytest.mark.parametrize("quantity", [0, -1, 11, 10**9])
def test_reserve_refuses_quantities_outside_the_per_order_limit(quantity):
    event = EventFactory(per_order_limit=10)
    with pytest.raises(SoldOut, match="between 1 and 10"):
        reserve(event, quantity)
    assert not Order.objects.exists()


def test_sales_not_yet_open():
    event = EventFactory(sales_open_at=timezone.now() + timedelta(days=2))
    with pytest.raises(SalesClosed, match="go on sale on"):
        reserve(event)


def test_sales_closed():
    event = EventFactory(
        sales_close_at=timezone.now() - timedelta(minutes=1), sales_open_at=timezone.now() - timedelta(days=9)
    )
    with pytest.raises(SalesClosed, match="closed"):
        reserve(event)


TOKEN = "t" * 43
HOME, OFFICE = "203.0.113.7", "198.51.100.9"


def test_a_client_may_hold_only_so_many_unpaid_bookings_and_is_told_how_to_go_on(settings):
    settings.MAX_UNPAID_BOOKINGS_PER_CLIENT = 2
    event = EventFactory(capacity=100)
    first = reserve(event, buyer_email="one@example.com", client_address=HOME)
    reserve(event, buyer_email="two@example.com", client_address=HOME)
    with pytest.raises(TooManyUnpaidBookings) as refused:
        reserve(event, 10, buyer_email="three@example.com", client_address=HOME)
    until = timezone.localtime(first.hold_expires_at).strftime("%H:%M")
    assert str(refused.value) == (
        "You already have 2 unpaid bookings for Netroots UK: please pay for or cancel one of them first, "
        f"or wait until {until}, when the first one’s hold ends."
    )
    assert (refused.value.count, refused.value.by_email) == (2, False)
    assert Order.objects.count() == 2
    reserve(event, buyer_email="three@example.com", client_address=OFFICE)  # another client is not held back


def test_the_email_limit_counts_bookings_from_any_address_in_any_case(settings):
    settings.MAX_UNPAID_BOOKINGS_PER_EMAIL = 1
    event = EventFactory(capacity=100)
    reserve(event, buyer_email="Ada@Example.com", client_address=HOME)
    with pytest.raises(TooManyUnpaidBookings, match=r"^ada@example\.com already has an unpaid booking for Netroots UK"):
        reserve(event, buyer_email="ada@example.com", client_address=OFFICE)
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "earlier", [{"paid": True}, {"cancelled": True}, {"expired": True}, {"hold_expired": True}], ids=str
)
def test_only_unpaid_bookings_that_hold_seats_count(settings, earlier):
    settings.MAX_UNPAID_BOOKINGS_PER_CLIENT = settings.MAX_UNPAID_BOOKINGS_PER_EMAIL = 1
    event = EventFactory(capacity=100)
    OrderFactory(event=event, client_hash=services.client_hash(HOME), **earlier)
    reserve(event, client_address=HOME)


def test_a_delayed_payment_on_its_way_is_not_an_unpaid_booking_to_pay_or_cancel(settings):
    settings.MAX_UNPAID_BOOKINGS_PER_CLIENT = settings.MAX_UNPAID_BOOKINGS_PER_EMAIL = 1
    event = EventFactory(capacity=100)
    OrderFactory(event=event, client_hash=services.client_hash(HOME), is_awaiting_async_payment=True)
    reserve(event, client_address=HOME)


def test_bookings_of_another_event_do_not_count(settings):
    settings.MAX_UNPAID_BOOKINGS_PER_CLIENT = settings.MAX_UNPAID_BOOKINGS_PER_EMAIL = 1
    OrderFactory(client_hash=services.client_hash(HOME))
    reserve(EventFactory(), client_address=HOME)


def test_zero_turns_the_limits_off(settings):
    settings.MAX_UNPAID_BOOKINGS_PER_CLIENT = settings.MAX_UNPAID_BOOKINGS_PER_EMAIL = 0
    event = EventFactory(capacity=100)
    for _ in range(5):
        reserve(event, client_address=HOME)


def test_orders_keep_a_keyed_hash_of_the_address_never_the_address(settings):
    order = reserve(EventFactory(), client_address=HOME)
    assert order.client_hash == services.client_hash(HOME)
    assert len(order.client_hash) == 64
    assert HOME not in order.client_hash
    assert order.client_hash != hashlib.sha256(HOME.encode()).hexdigest()  # keyed: not found by hashing addresses
    settings.SECRET_KEY = "another-key-" + "y" * 40
    assert services.client_hash(HOME) != order.client_hash
    assert services.client_hash("") == ""


def test_the_same_form_token_returns_the_first_booking_and_makes_no_second(settings):
    settings.MAX_UNPAID_BOOKINGS_PER_CLIENT = 1
    event = EventFactory(capacity=2)
    first = reserve(event, 2, client_address=HOME, form_token=TOKEN)
    # sold out and at the client's limit now: the repeated submit still gets its booking back, and only that
    again = reserve(event, 2, client_address=HOME, form_token=TOKEN)
    assert again == first
    assert Order.objects.get().form_token == TOKEN
    with pytest.raises(SoldOut):
        reserve(event, 1, form_token="u" * 43)


def test_a_double_click_whose_first_submission_took_the_last_seats_meanwhile_gets_its_booking(monkeypatch):
    """The early sold-out look counts the seats after looking for the form's token: if the first submission took
    the last seats in between, the second gets that booking, not "sold out"."""
    event = EventFactory(capacity=2)
    real_seats_left = services.seats_left

    def first_submission_commits_then_count(counted_event):
        if not Order.objects.filter(form_token=TOKEN).exists():
            OrderFactory(event=event, quantity=2, form_token=TOKEN)  # the first POST, done just now
        return real_seats_left(counted_event)

    monkeypatch.setattr(services, "seats_left", first_submission_commits_then_count)
    again = reserve(event, 2, form_token=TOKEN)

    assert again == Order.objects.get(form_token=TOKEN)
    assert Order.objects.count() == 1


def test_the_database_refuses_a_form_token_twice_but_not_an_empty_one():
    event = EventFactory()
    OrderFactory(event=event, form_token=TOKEN)
    OrderFactory.create_batch(2, event=event, form_token="")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(event=event, form_token=TOKEN)
