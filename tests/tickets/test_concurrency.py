"""Many buyers and many deliveries at once: over real HTTP against a live server with its own threads, and races
between the services made deterministic, each side on its own thread and database connection.

Runs on whichever database the suite uses (SQLite by default, PostgreSQL with DATABASE_URL, as CI does both).
On SQLite, IMMEDIATE transactions queue every writer, so a missing row lock shows only on PostgreSQL.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core import mail
from django.db import connection, transaction
from django.db.models import F
from django.test import Client

from events.models import Event
from tests.events.test_event_limits import event_form
from tests.factories import EventFactory, OrderFactory
from tests.tickets.helpers import WEBHOOK, expire_hold, last_event, pay_at_stripe
from tickets import services
from tickets.admin import events as admin_events
from tickets.exceptions import SoldOut
from tickets.models import Email, Order, OrderLog, OrderStatus, StripeEvent

pytestmark = pytest.mark.django_db(transaction=True)

BUYERS = 40
SEATS = 10


def _form_session(base_url: str) -> tuple[requests.Session, str]:
    """A browser that has loaded the form: its CSRF cookie and token."""
    browser = requests.Session()
    page = browser.get(f"{base_url}/tickets/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return browser, token


def test_forty_simultaneous_buyers_get_exactly_ten_seats_and_thirty_clear_sold_out_answers(live_server, stripe_double):
    event = EventFactory(capacity=SEATS, per_order_limit=4)
    browsers = [_form_session(live_server.url) for _ in range(BUYERS)]
    start = threading.Barrier(BUYERS)

    def buy(number: int) -> requests.Response:
        browser, token = browsers[number]
        form = {
            "csrfmiddlewaretoken": token,
            "quantity": 1,
            "buyer_name": f"Buyer {number}",
            "buyer_email": f"buyer{number}@example.com",
        }
        start.wait(timeout=30)
        return browser.post(f"{live_server.url}/tickets/", data=form, allow_redirects=False, timeout=60)

    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        responses = list(pool.map(buy, range(BUYERS)))

    statuses = sorted(response.status_code for response in responses)
    held = [response for response in responses if response.status_code == 302]
    refused = [response for response in responses if response.status_code == 409]
    assert (len(held), len(refused)) == (SEATS, BUYERS - SEATS), statuses
    assert all("/pay/cs_test_" in response.headers["Location"] for response in held)
    answers = {re.search(r'class="alert[^"]*">([^<]*)<', response.text).group(1) for response in refused}
    assert answers == {f"Sorry, {event.name} is sold out."}
    orders = Order.objects.filter(event=event)
    assert orders.count() == SEATS
    assert all(order.status == OrderStatus.PENDING and order.stripe_checkout_session_id for order in orders)
    assert services.seats_left(event) == 0


def test_the_same_payment_webhook_delivered_ten_times_at_once_confirms_once_and_emails_once(
    live_server, stripe_double, settings
):
    settings.SITE_URL = live_server.url
    EventFactory(capacity=SEATS)
    browser, token = _form_session(live_server.url)
    browser.post(
        f"{live_server.url}/tickets/",
        data={"csrfmiddlewaretoken": token, "quantity": 2, "buyer_name": "Ada", "buyer_email": "ada@example.com"},
        allow_redirects=False,
        timeout=30,
    )
    order = Order.objects.get()
    stripe_double.complete(order.stripe_checkout_session_id)
    completed = last_event(stripe_double, "checkout.session.completed")
    success_page = f"{live_server.url}/tickets/checkout/success/?session_id={order.stripe_checkout_session_id}"
    start = threading.Barrier(11)

    def deliver_webhook(_: int) -> int:
        body, headers = stripe_double.signed_payload(completed)
        start.wait(timeout=30)
        return requests.post(f"{live_server.url}{WEBHOOK}", data=body, headers=headers, timeout=60).status_code

    def open_success_page() -> int:
        start.wait(timeout=30)
        return browser.get(success_page, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=11) as pool:
        page = pool.submit(open_success_page)
        statuses = list(pool.map(deliver_webhook, range(10)))

    assert statuses == [200] * 10
    assert page.result() == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.tickets.count() == 2
    assert OrderLog.objects.filter(order=order, to_status=OrderStatus.PAID).count() == 1
    assert StripeEvent.objects.filter(stripe_event_id=completed["id"]).count() == 1
    assert Email.objects.filter(order=order).count() == 1
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]


def test_a_late_payment_and_a_new_reservation_never_both_get_the_last_seat(stripe_double, monkeypatch):
    """Guards against _has_seats without its event row lock (`Event.objects.select_for_update()`), on PostgreSQL.

    An order whose hold ran out (pending, holding no seats) is paid at Stripe and fulfilled for the last seat
    while another buyer reserves that seat. fulfil_checkout decides the seat is free under the event row lock;
    right then the rival's reserve_tickets starts on its own connection and, locking the same row, must wait
    for the payment to commit, then find the event sold out. Without the lock it counts the seat as free too.
    """
    event = EventFactory(capacity=1)
    late = OrderFactory(event=event, quantity=1)
    services.start_checkout(order=late)
    expire_hold(late)  # not released yet: its seat is for sale again
    pay_at_stripe(stripe_double, late)  # ... and its buyer pays at the last moment
    rival: dict[str, object] = {}

    def reserve_the_last_seat() -> None:
        try:
            rival["order"] = services.reserve_tickets(
                event=event, buyer_name="Rival", buyer_email="rival@example.com", quantity=1
            )
        except SoldOut as exc:
            rival["sold_out"] = exc
        except Exception as exc:  # pragma: no cover - reported below
            rival["error"] = exc
        finally:
            connection.close()  # this thread's own connection

    competitor = threading.Thread(target=reserve_the_last_seat)
    real_has_seats = services._has_seats

    def has_seats_then_a_rival_reserves(order):
        answer = real_has_seats(order)
        competitor.start()
        competitor.join(timeout=1.5)  # with the event row locked, the rival waits for this transaction instead
        return answer

    monkeypatch.setattr(services, "_has_seats", has_seats_then_a_rival_reserves)
    fulfilled = services.fulfil_checkout(session_id=late.stripe_checkout_session_id)
    competitor.join(timeout=30)

    assert not competitor.is_alive()
    assert "error" not in rival, rival
    assert Order.objects.seats_taken(event) <= event.capacity  # paid and held seats
    assert fulfilled.status == OrderStatus.PAID
    assert "sold_out" in rival, rival


def _on_a_thread(work) -> tuple[threading.Thread, dict]:
    """A thread (not started) that runs `work()` on its own database connection; its outcome goes in the dict."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except SoldOut as exc:
            outcome["sold_out"] = exc
        except Exception as exc:  # pragma: no cover - reported by the test
            outcome["error"] = exc
        finally:
            connection.close()

    return threading.Thread(target=run), outcome


def _lower_capacity(client, event, capacity: int):
    return client.post(f"/admin/events/event/{event.pk}/change/", event_form(event, capacity=capacity))


def test_an_admin_lowering_capacity_holds_the_event_lock_until_saved_so_a_buyer_cannot_oversell(
    client, organiser, monkeypatch
):
    """Guards against EventTicketsForm counting seats without the event row lock (`select_for_update()`).

    6 of 10 seats are sold; an organiser sets the capacity to 8. Right after the form has counted the seats, a buyer
    asks for 3 on another connection: reserve_tickets locks the same row, so it must wait for the save and then find
    only 2 left. Without the lock it takes 3 of the old 10, and the save leaves 9 seats taken of 8.
    """
    event = EventFactory(capacity=10)
    OrderFactory(event=event, quantity=6, paid=True)
    buyer, outcome = _on_a_thread(
        lambda: services.reserve_tickets(event=event, buyer_name="B", buyer_email="b@example.com", quantity=3)
    )
    real_count = admin_events.seats_sold_and_held

    def count_then_a_buyer_reserves(locked_event):
        answer = real_count(locked_event)
        buyer.start()
        buyer.join(timeout=1.5)  # with the row locked, the buyer waits for the admin's save instead
        return answer

    monkeypatch.setattr(admin_events, "seats_sold_and_held", count_then_a_buyer_reserves)
    assert _lower_capacity(client, event, 8).status_code == 302
    buyer.join(timeout=30)

    event.refresh_from_db()
    assert event.capacity == 8
    assert "error" not in outcome, outcome
    assert Order.objects.seats_taken(event) <= event.capacity
    assert str(outcome.get("sold_out")) == "Sorry, only 2 tickets left. Please choose fewer."


def test_an_admin_saving_while_a_buyer_reserves_counts_the_new_hold_and_refuses(client, organiser, monkeypatch):
    """The other way round: a buyer holds the event lock (reserve_tickets) while an organiser saves capacity 8.

    The admin's count must wait for the reservation and then refuse, naming the seats sold and the new hold.
    """
    event = EventFactory(capacity=10)
    OrderFactory(event=event, quantity=6, paid=True)
    admin_client = Client()
    admin_client.force_login(organiser)
    organiser_saves, outcome = _on_a_thread(lambda: _lower_capacity(admin_client, event, 8))
    real_seats_left = services.seats_left

    def seats_left_then_the_organiser_saves(locked_event):
        answer = real_seats_left(locked_event)
        if not connection.in_atomic_block:
            return answer  # the early look, before the lock (it only ever refuses)
        organiser_saves.start()
        organiser_saves.join(timeout=1.5)  # the admin's count waits for this reservation to commit
        return answer

    monkeypatch.setattr(services, "seats_left", seats_left_then_the_organiser_saves)
    services.reserve_tickets(event=event, buyer_name="B", buyer_email="b@example.com", quantity=3)
    organiser_saves.join(timeout=30)

    assert "error" not in outcome, outcome
    response = outcome["result"]
    assert response.status_code == 200
    assert (
        response.context["adminform"]
        .form.errors["capacity"][0]
        .startswith("At least 9: 6 seats are sold and 3 are held by unpaid bookings right now.")
    )
    event.refresh_from_db()
    assert event.capacity == 10


def test_a_buyer_of_a_sold_out_event_is_refused_without_waiting_for_the_event_lock():
    """The late buyers of a rush: while another buyer holds the event's lock, a reservation for seats no longer there
    is refused at once, not after that buyer commits (on SQLite, the database's write lock)."""
    event = EventFactory(capacity=2)
    OrderFactory(event=event, quantity=2, paid=True)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> bool:
        with transaction.atomic():
            Event.objects.select_for_update().get(pk=event.pk)
            Event.objects.filter(pk=event.pk).update(per_order_limit=F("per_order_limit"))  # SQLite: a write lock
            locked.set()
            return release.wait(timeout=10)  # False if the buyer below was kept waiting for it

    holder, outcome = _on_a_thread(hold_the_lock)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        with pytest.raises(SoldOut, match="sold out"):
            services.reserve_tickets(event=event, buyer_name="Late", buyer_email="late@example.com", quantity=1)
    finally:
        release.set()
        holder.join(timeout=15)
    assert outcome == {"result": True}


def test_a_double_click_on_continue_to_payment_makes_one_booking(live_server, stripe_double):
    """Two POSTs of the same form at once (its one-time token): one order, and both go to its Checkout Session."""
    EventFactory(capacity=SEATS)
    browser, token = _form_session(live_server.url)
    form_token = re.search(r'name="form_token" value="([^"]+)"', browser.get(f"{live_server.url}/tickets/").text)[1]
    form = {
        "csrfmiddlewaretoken": token,
        "form_token": form_token,
        "quantity": 2,
        "buyer_name": "Ada",
        "buyer_email": "ada@example.com",
    }
    start = threading.Barrier(2)

    def click(_: int) -> requests.Response:
        start.wait(timeout=30)
        return browser.post(f"{live_server.url}/tickets/", data=form, allow_redirects=False, timeout=60)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(click, range(2)))

    order = Order.objects.get()
    assert [response.status_code for response in responses] == [302, 302]
    assert {response.headers["Location"] for response in responses} == {order.checkout_url}
    assert order.form_token == form_token
