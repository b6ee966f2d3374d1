"""The buyer's pages: the reservation form, the way back from Stripe Checkout (success and cancel), the private
booking page and find-my-booking. Clear answers to bad input, nothing half-written."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.factories import EventFactory, OrderFactory
from tests.tickets.helpers import deliver, last_event, reserve_over_http
from tickets.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(db):
    return EventFactory(capacity=10, per_order_limit=10)


def post_form(client, **overrides):
    data = {"quantity": "2", "buyer_name": "Ada Activist", "buyer_email": "ada@example.com", "attendee_names": ""}
    return client.post("/tickets/", {**data, **overrides})


def test_the_form_shows_price_and_seats_left(client, event):
    body = client.get("/tickets/").content.decode()
    assert "£5 a ticket" in body
    assert "10 tickets left" in body
    assert 'name="buyer_email"' in body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"quantity": "0"}, "Choose between 1 and 10 tickets."),
        ({"quantity": "-1"}, "Choose between 1 and 10 tickets."),
        ({"quantity": "11"}, "Choose between 1 and 10 tickets."),
        ({"quantity": "two"}, "Choose between 1 and 10 tickets."),
        ({"quantity": "9" * 400}, "Choose between 1 and 10 tickets."),
        ({"quantity": ""}, "Choose how many tickets you want."),
        ({"buyer_email": ""}, "Please enter your email address."),
        ({"buyer_email": "not-an-email"}, "Enter a valid email address."),
        ({"buyer_name": "   "}, "Please enter your name."),
        ({"buyer_name": "\u202e\u200b"}, "Please enter your name."),
        ({"attendee_names": "Grace\n\u202e\u2066"}, "A name can’t be made only of invisible characters."),
        ({"buyer_name": "x" * 101}, "at most 100 characters"),
        ({"attendee_names": "y" * 101}, "Each name can be at most 100 characters."),
        ({"attendee_names": "A\nB\nC"}, "You gave 3 names for 2 tickets."),
        ({"quantity": "1", "attendee_names": "A\nB"}, "You gave 2 names for 1 ticket."),
    ],
)
def test_bad_input_gets_a_clear_message_and_no_order(client, stripe_double, event, overrides, message):
    response = post_form(client, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Order.objects.exists()


def test_the_form_explains_how_names_map_to_tickets(client, event):
    body = client.get("/tickets/").content.decode()
    assert "One name per ticket, in order, yours included if you’re coming. Tickets left blank carry your name." in body


def test_invisible_format_characters_are_taken_out_of_names(client, stripe_double, event):
    order = reserve_over_http(client, quantity=2, names="Gr\u200bace\n\u202eAlan\u202c")
    order.refresh_from_db()
    assert order.attendee_names == ["Grace", "Alan"]
    post_form(client, buyer_name="\u2067Ada\ufeff Activist\u2069")
    assert Order.objects.latest("pk").buyer_name == "Ada Activist"


def test_a_failed_submit_lists_the_problems_at_the_top_linked_to_their_fields(client, stripe_double, event):
    response = post_form(client, buyer_email="not-an-email", attendee_names="A\nB\nC")
    body = response.content.decode()
    assert re.search(r"<title>Error: Tickets · ", body)
    summary = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', body, re.S).group(1)
    assert "There is a problem" in summary
    assert '<a href="#id_buyer_email">Enter a valid email address.</a>' in summary
    assert '<a href="#id_attendee_names">You gave 3 names for 2 tickets.</a>' in summary
    assert 'id="id_buyer_email"' in body
    assert "error-summary" not in client.get("/tickets/").content.decode()
    assert "<title>Error:" not in client.get("/tickets/").content.decode()


def test_the_price_box_comes_before_the_form_and_moves_right_on_wide_screens(client, event):
    body = client.get("/tickets/").content.decode()
    assert '<aside class="col-lg-5 order-lg-last"' in body
    assert body.index('id="price-title"') < body.index('name="buyer_email"')


def test_a_missing_csrf_token_is_refused_with_a_page_that_says_why(stripe_double, event):
    strict = Client(enforce_csrf_checks=True)
    response = post_form(strict)
    assert response.status_code == 403
    body = response.content.decode()
    assert "expired" in body
    assert "cookies" in body
    assert 'href="/tickets/"' in body
    assert 'class="site-header"' in body  # the site's own page, not Django's bare one
    assert not Order.objects.exists()


def test_the_500_page_does_not_claim_anyone_was_told(event, monkeypatch):
    def broken(event):
        raise RuntimeError("boom")

    monkeypatch.setattr("tickets.views.services.seats_left", broken)
    response = Client(raise_request_exception=False).get("/tickets/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert "told" not in body


def test_sold_out_shows_a_message_instead_of_the_form(client, event):
    OrderFactory(event=event, quantity=10, paid=True)
    body = client.get("/tickets/").content.decode()
    assert "Sold out" in body
    assert 'name="buyer_email"' not in body


def test_posting_when_sold_out_says_so(client, stripe_double, event):
    post_form(client, quantity="8")
    response = post_form(client, quantity="3")
    assert response.status_code == 409
    assert "only 2 tickets left" in response.content.decode()
    assert Order.objects.count() == 1


def test_sales_not_open_and_closed_show_a_message(client):
    event = EventFactory(sales_open_at=timezone.now() + timezone.timedelta(days=1))
    assert "Tickets go on sale on" in client.get("/tickets/").content.decode()
    event.sales_open_at = timezone.now() - timezone.timedelta(days=9)
    event.sales_close_at = timezone.now() - timezone.timedelta(days=1)
    event.save()
    assert "Ticket sales have closed." in client.get("/tickets/").content.decode()


def test_reservations_are_rate_limited_per_address(client, stripe_double, event, settings):
    settings.RESERVATION_RATE_LIMIT = "2/m"
    assert post_form(client, quantity="1").status_code == 302
    assert post_form(client, quantity="1").status_code == 302
    response = post_form(client, quantity="1")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert Order.objects.count() == 2


def test_the_rate_limit_counts_only_valid_submissions(client, stripe_double, event, settings):
    settings.RESERVATION_RATE_LIMIT = "1/m"
    for _ in range(3):  # typos are not attempts
        assert post_form(client, buyer_email="ada@example").status_code == 400
    assert post_form(client, quantity="1").status_code == 302
    response = post_form(client, quantity="1")
    body = response.content.decode()
    assert response.status_code == 429
    assert "Too many attempts" in body
    assert "is-invalid" not in body
    assert "There is a problem" not in body
    assert Order.objects.count() == 1


def test_stripe_being_down_releases_the_hold_and_says_so(client, event, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    response = post_form(client)
    assert response.status_code == 409
    assert "start the payment just now. Nothing was charged" in response.content.decode()
    assert Order.objects.get().status == OrderStatus.CANCELLED


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


def test_webhook_first_then_success_page(client, stripe_double, event, django_capture_on_commit_callbacks):
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
        page = client.get("/tickets/checkout/success/", {"session_id": order.stripe_checkout_session_id}, follow=True)
    assert "You’re going to Netroots UK" in page.content.decode()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("session_id", ["", "cs_test_unknown", "x" * 5000])
def test_success_page_with_an_unknown_session_id_is_a_clear_404(client, stripe_double, event, session_id):
    response = client.get("/tickets/checkout/success/", {"session_id": session_id})
    assert response.status_code == 404
    assert "can’t match this payment" in response.content.decode()


def test_a_nul_byte_in_the_session_id_is_a_bad_request_and_nonsense_the_not_found_page(client, event):
    for session_id in ["%00x", "cs_test_%00x", "cs_test_abc%00"]:  # netroots.middleware: 400 for any NUL byte
        assert client.get(f"/tickets/checkout/success/?session_id={session_id}").status_code == 400, session_id
    response = client.get(f"/tickets/checkout/success/?session_id={'x' * 300}")
    assert response.status_code == 404
    assert "We can’t match this payment to your browser" in response.content.decode()


def test_success_page_with_someone_elses_session_id_shows_nothing_of_theirs(client, stripe_double, event):
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)
    stranger = Client()
    response = stranger.get("/tickets/checkout/success/", {"session_id": order.stripe_checkout_session_id})
    assert response.status_code == 404
    assert order.reference not in response.content.decode()


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


@pytest.mark.parametrize("debug", [False, True])
def test_booking_page_needs_the_right_secret_and_a_wrong_link_says_how_to_find_it(
    client, stripe_double, event, settings, debug
):
    settings.DEBUG = debug  # our own page either way, not Django's technical 404
    order = reserve_over_http(client)
    assert client.get(f"/tickets/order/{order.reference}/{order.secret}/").status_code == 200
    wrong = order.secret[:-1] + ("A" if order.secret[-1] != "A" else "B")
    for url in [
        f"/tickets/order/{order.reference}/{wrong}/",
        f"/tickets/order/{order.reference}/x/",
        f"/tickets/order/NR-NOPE00/{order.secret}/",
        f"/tickets/order/{order.reference}/{wrong}/cancel/",
        f"/tickets/order/{order.reference}/{wrong}/calendar.ics",
    ]:
        response = Client().get(url)
        body = response.content.decode()
        assert response.status_code == 404, url
        assert "We can’t find that booking" in body, url
        assert 'href="/tickets/find/">Find my booking</a>' in body, url
        assert "session may have moved" not in body
        assert order.reference not in body
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


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
        if "%00" in url:  # netroots.middleware answers any NUL byte with a 400
            assert response.status_code == 400, url
            continue
        assert response.status_code == 404, url
        assert "We can’t find that booking" in response.content.decode(), url
    assert client.get(f"/tickets/order/{ref}/{secret}/").status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_the_reserve_page_offers_to_resume_or_cancel_this_browsers_unpaid_booking(client, stripe_double, event):
    order = reserve_over_http(client, quantity=2)  # then the buyer presses Back on Stripe's page
    body = client.get("/tickets/").content.decode()
    held_until = timezone.localtime(order.hold_expires_at).strftime("%H:%M")
    assert f'You have an unpaid booking <span class="ref">{order.reference}</span> (2 tickets, held until' in body
    assert f">{held_until}</time>)" in body
    assert f'<a href="{order.checkout_url}">Continue to payment</a>' in body
    cancel = f'action="/tickets/order/{order.reference}/{order.secret}/cancel/"'
    assert cancel in body  # a form: POST, with a CSRF token, so no link-follower can cancel a booking
    assert "Cancel it</button>" in body
    assert body.index("unpaid booking") < body.index('name="buyer_email"')
    assert "unpaid booking" not in Client().get("/tickets/").content.decode()  # only in the browser that booked

    client.post(f"/tickets/order/{order.reference}/{order.secret}/cancel/")
    assert "unpaid booking" not in client.get("/tickets/").content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_the_reserve_page_forgets_unpaid_bookings_whose_hold_ran_out(client, stripe_double, event):
    order = reserve_over_http(client, quantity=1)
    Order.objects.filter(pk=order.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    assert "unpaid booking" not in client.get("/tickets/").content.decode()


def test_an_unpaid_booking_opened_from_its_link_says_not_paid_and_offers_payment(client, stripe_double, event):
    order = reserve_over_http(client, quantity=3)
    response = Client().get(order.get_absolute_url())  # e.g. from the find-my-booking email
    body = response.content.decode()
    assert response.status_code == 200
    assert not response.has_header("Refresh")
    assert "<h1>Not paid yet</h1>" in body
    assert "Confirming" not in body
    held_until = timezone.localtime(order.hold_expires_at).strftime("%H:%M")
    assert f'Your 3 seats are held until <time datetime="{order.hold_expires_at.isoformat()}' in body
    assert f">{held_until}</time>" in body
    assert f'href="{stripe_double.session(order.stripe_checkout_session_id)["url"]}">Continue to payment</a>' in body
    assert f'action="/tickets/order/{order.reference}/{order.secret}/cancel/"' in body
    assert "Cancel this booking</button>" in body
    assert "What next" not in body
    assert "calendar.ics" not in body
    assert client.get(f"/tickets/order/{order.reference}/{order.secret}/calendar.ics").status_code == 404


def test_an_unpaid_booking_whose_hold_ran_out_offers_to_reserve_again(client, stripe_double, event):
    order = reserve_over_http(client)
    Order.objects.filter(pk=order.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    body = client.get(order.get_absolute_url()).content.decode()
    assert "that time has passed" in body
    assert "Continue to payment" not in body
    assert 'href="/tickets/">Reserve again</a>' in body


def test_a_payment_stripe_is_still_processing_shows_confirming_without_the_marker(client, stripe_double, event):
    order = reserve_over_http(client)
    Order.objects.filter(pk=order.pk).update(is_awaiting_async_payment=True)
    response = client.get(order.get_absolute_url())
    assert "Confirming your payment…" in response.content.decode()
    assert response["Refresh"] == "3"
    assert "unpaid booking" not in client.get("/tickets/").content.decode()


@pytest.mark.parametrize(
    ("status", "heading", "text"),
    [
        ("cancelled", "Booking cancelled", "This booking wasn’t paid, so nothing was charged"),
        ("expired", "Booking expired", "This booking wasn’t paid, so nothing was charged"),
        ("refunded", "Booking refunded", "This booking was refunded on"),
    ],
)
def test_closed_bookings_name_the_reference_once_and_offer_to_reserve_again(client, event, status, heading, text):
    order = OrderFactory(event=event, buyer_name="Ada", buyer_email="a@example.com", **{status: True})
    response = client.get(order.get_absolute_url())
    body = response.content.decode()
    main = body[body.index("<main") : body.index("</main>")]
    assert f"<h1>{heading}</h1>" in main
    assert main.count(order.reference) == 1
    assert text in main
    assert 'href="/tickets/">Reserve again</a>' in main
    assert "What next" not in main
    assert "order" not in re.sub(r"<[^>]+>", "", main).lower()  # attendees read "booking", not "order"
    assert "reservation" not in main.lower()
    assert client.get(f"/tickets/order/{order.reference}/{order.secret}/calendar.ics").status_code == 404


def test_paid_booking_page_shows_each_ticket_with_a_qr_code(client, event):
    order = OrderFactory(event=event, buyer_name="Ada", quantity=2, attendee_names=["Grace", "Alan"], paid=True)
    response = client.get(order.get_absolute_url())
    body = response.content.decode()
    assert body.count("<svg") == 2
    assert "Grace" in body
    assert "Alan" in body
    assert "What next" in body
    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    calendar = client.get(f"/tickets/order/{order.reference}/{order.secret}/calendar.ics")
    assert b"BEGIN:VEVENT" in calendar.content


def without_csrf_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_find_booking_answers_the_same_either_way_and_emails_only_real_bookings(client, stripe_double, event):
    order = reserve_over_http(client, email="known@example.com")
    known = client.post("/tickets/find/", {"email": "known@example.com"}, follow=True)
    unknown = client.post("/tickets/find/", {"email": "stranger@example.com"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert without_csrf_token(known).replace("known", "X") == without_csrf_token(unknown).replace("stranger", "X")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["known@example.com"]
    assert order.get_absolute_url() in mail.outbox[0].body


def test_find_booking_is_rate_limited(client, event, settings):
    settings.FIND_BOOKING_RATE_LIMIT = "1/m"
    assert client.post("/tickets/find/", {"email": "not-an-email"}).status_code == 400  # not counted
    client.post("/tickets/find/", {"email": "a@example.com"})
    response = client.post("/tickets/find/", {"email": "a@example.com"})
    assert response.status_code == 429
    assert "is-invalid" not in response.content.decode()


def test_find_booking_page_is_a_page_of_this_event(client, event):
    body = client.get("/tickets/find/").content.decode()
    assert '<span class="brand__name">Netroots UK</span>' in body
    assert "Test Hall, 1 Test Street, London" in body  # the footer's date and venue
    assert '<div class="page-head">' in body
    assert re.search(r"<form[^>]*novalidate", body)
    response = client.post("/tickets/find/", {"email": ""})
    assert response.status_code == 400
    assert "<title>Error: Find your booking" in response.content.decode()
    assert '<a href="#id_email">Please enter the email address you booked with.</a>' in response.content.decode()


def form_token(client) -> str:
    """The one-time token of the reservation form as the browser got it."""
    return re.search(r'name="form_token" value="([A-Za-z0-9_-]{43})"', client.get("/tickets/").content.decode())[1]


def test_each_form_carries_its_own_one_time_token(client, event):
    assert form_token(client) != form_token(client)


def test_the_same_form_submitted_twice_makes_one_booking_and_sends_both_to_its_checkout(client, stripe_double, event):
    token = form_token(client)
    first, second = post_form(client, form_token=token), post_form(client, form_token=token)
    order = Order.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == order.checkout_url
    body = client.get("/tickets/").content.decode()
    assert body.count("You have an unpaid booking") == 1
    assert post_form(client, form_token=form_token(client)).status_code == 302  # a new form makes a new booking
    assert Order.objects.count() == 2


def test_a_form_submitted_again_after_its_booking_was_cancelled_shows_that_booking(client, stripe_double, event):
    token = form_token(client)
    post_form(client, form_token=token)
    order = Order.objects.get()
    client.post(order.get_cancel_url())
    response = post_form(client, form_token=token)
    assert (response.status_code, response["Location"]) == (302, order.get_absolute_url())
    assert Order.objects.count() == 1


def test_a_token_we_did_not_make_is_ignored(client, stripe_double, event):
    assert post_form(client, form_token="<script>").status_code == 302
    assert post_form(client, form_token="<script>").status_code == 302
    assert list(Order.objects.values_list("form_token", flat=True)) == ["", ""]


def test_one_client_can_hold_only_so_many_unpaid_bookings_and_is_told_what_to_do(
    client, stripe_double, event, settings
):
    settings.MAX_UNPAID_BOOKINGS_PER_CLIENT = 2
    assert post_form(client, quantity="1", buyer_email="one@example.com").status_code == 302
    assert post_form(client, quantity="1", buyer_email="two@example.com").status_code == 302
    response = post_form(client, quantity="5", buyer_email="three@example.com")
    body = response.content.decode()
    assert response.status_code == 409
    assert "You already have 2 unpaid bookings for Netroots UK: please pay for or cancel one of them first" in body
    assert '<a href="/tickets/find/">Email me my booking links</a>' in body
    assert body.count("Continue to payment</a>") == 2  # this browser's bookings, with their links
    assert Order.objects.count() == 2
    elsewhere = Client(REMOTE_ADDR="198.51.100.9")
    assert post_form(elsewhere, quantity="1", buyer_email="three@example.com").status_code == 302


def test_behind_a_proxy_the_limit_counts_each_buyer_not_the_proxy(client, stripe_double, event, settings):
    settings.MAX_UNPAID_BOOKINGS_PER_CLIENT = 1
    settings.TRUSTED_PROXY_COUNT = 1
    ada = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    bob = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert post_form(ada, quantity="1").status_code == 302
    assert post_form(bob, quantity="1", buyer_email="bob@example.com").status_code == 302
    assert post_form(ada, quantity="1", buyer_email="ada2@example.com").status_code == 409


def test_one_email_can_hold_only_so_many_unpaid_bookings(client, stripe_double, event, settings):
    settings.MAX_UNPAID_BOOKINGS_PER_EMAIL = 1
    assert post_form(client, quantity="1").status_code == 302
    response = post_form(Client(REMOTE_ADDR="198.51.100.9"), quantity="1", buyer_email="ADA@example.com")
    assert response.status_code == 409
    assert "ADA@example.com already has an unpaid booking for Netroots UK" in response.content.decode()
    assert Order.objects.count() == 1
