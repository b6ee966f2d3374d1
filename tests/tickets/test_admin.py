"""The organisers' admin for orders and tickets, driven over HTTP as an organiser would."""

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.factories import EventFactory
from tests.tickets.helpers import deliver, last_event, reserve_over_http
from tickets import services
from tickets.models import Email, Order, OrderStatus, StripeEvent

pytestmark = pytest.mark.django_db

ORDERS = "/admin/tickets/order/"
TICKETS = "/admin/tickets/ticket/"


def change_url(order: Order) -> str:
    return f"{ORDERS}{order.pk}/change/"


def listed(response) -> set:
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def offered_actions(response) -> set[str]:
    action_form = response.context["action_form"]  # None when the list offers no actions at all
    return {name for name, _ in action_form.fields["action"].choices} if action_form else set()


def shown_levels(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def run_action(client, action: str, *orders: Order, follow: bool = True):
    return client.post(ORDERS, {"action": action, "_selected_action": [o.pk for o in orders]}, follow=follow)


class FormReader(HTMLParser):
    """The fields a browser would submit from a page's POST form: hidden inputs and the submit button."""

    def __init__(self, html: str):
        super().__init__()
        self.in_post_form = False
        self.data: dict[str, list[str]] = {}
        self.buttons: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_post_form = attrs.get("method", "").lower() == "post"
        elif tag == "input" and self.in_post_form:
            if attrs.get("type") == "submit":
                self.buttons.append(attrs.get("value", ""))
            elif attrs.get("name"):
                self.data.setdefault(attrs["name"], []).append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_post_form = False


def refund_confirmation(client, *orders: Order):
    """Choose "Refund" for these orders in the list: the answer is a page asking to confirm."""
    page = run_action(client, "refund", *orders, follow=False)
    assert page.status_code == 200
    assert "admin/tickets/order/refund_confirmation.html" in [t.name for t in page.templates]
    return page


def confirm_refund(client, *orders: Order):
    """Choose "Refund", then press the confirmation page's button, as an organiser would."""
    form = FormReader(refund_confirmation(client, *orders).content.decode())
    return client.post(ORDERS, form.data, follow=True)


@pytest.fixture
def event(db):
    return EventFactory(capacity=10, ticket_price_pence=500)


@pytest.fixture
def organiser(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))


@pytest.fixture
def editor(client):
    user = User.objects.create_user("editor", "editor@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Programme editors"))
    client.force_login(user)


@pytest.fixture
def paid_order(client, stripe_double, event, django_capture_on_commit_callbacks):
    """Two tickets reserved through the form and paid on the Stripe double; the confirmation sent."""
    order = reserve_over_http(client, quantity=2, names="Grace Hopper\nAlan Turing")
    stripe_double.complete(order.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed")).status_code == 200
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(mail.outbox) == 1
    mail.outbox.clear()
    return order


def reserve(event, *, name: str, email: str, quantity: int = 1) -> Order:
    return services.reserve_tickets(event=event, buyer_name=name, buyer_email=email, quantity=quantity)


def set_status(order: Order, status: str) -> Order:
    Order.objects.filter(pk=order.pk).update(status=status, paid_at=timezone.now())
    order.refresh_from_db()
    return order


# --- who may see orders ---


def test_programme_editors_cannot_see_or_touch_orders_and_tickets(client, editor, paid_order):
    for url in [ORDERS, change_url(paid_order), TICKETS, f"{TICKETS}{paid_order.tickets.first().pk}/change/"]:
        assert client.get(url).status_code == 403, url
    assert "/admin/tickets/" not in client.get("/admin/").content.decode()
    response = client.post(ORDERS, {"action": "refund", "_selected_action": [paid_order.pk]})
    assert response.status_code == 403
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID


def test_organisers_see_orders_with_their_totals(client, organiser, paid_order):
    body = client.get(ORDERS).content.decode()
    assert paid_order.reference in body
    assert "Ada Activist" in body
    assert "£10" in body
    assert "/admin/tickets/order/add/" not in body  # orders only come from the reservation form


# --- orders: search and filter ---


@pytest.fixture
def three_orders(event):
    return (
        reserve(event, name="Grace Hopper", email="grace@navy.example"),
        reserve(event, name="Alan Turing", email="alan@bletchley.example"),
        reserve(event, name="Ada Lovelace", email="ada@engine.example"),
    )


def test_order_search_by_reference(client, organiser, three_orders):
    grace, _, _ = three_orders
    assert listed(client.get(ORDERS, {"q": grace.reference})) == {grace}
    assert listed(client.get(ORDERS, {"q": grace.reference.lower()})) == {grace}  # as read out over the phone


def test_order_search_by_buyer_name(client, organiser, three_orders):
    _, alan, _ = three_orders
    assert listed(client.get(ORDERS, {"q": "Turing"})) == {alan}


def test_order_search_by_buyer_email(client, organiser, three_orders):
    _, _, ada = three_orders
    assert listed(client.get(ORDERS, {"q": "ada@engine.example"})) == {ada}
    assert listed(client.get(ORDERS, {"q": "nobody@example.com"})) == set()


def test_order_search_by_attendee_name(client, organiser, paid_order, three_orders):
    assert listed(client.get(ORDERS, {"q": "Alan Turing"})) == {paid_order, three_orders[1]}


def test_order_filter_by_status(client, organiser, three_orders):
    grace, alan, ada = three_orders
    set_status(grace, OrderStatus.PAID)
    set_status(alan, OrderStatus.REFUNDED)
    assert listed(client.get(ORDERS, {"status__exact": "paid"})) == {grace}
    assert listed(client.get(ORDERS, {"status__exact": "refunded"})) == {alan}
    assert listed(client.get(ORDERS, {"status__exact": "pending"})) == {ada}
    all_orders = client.get(ORDERS)
    assert listed(all_orders) == {grace, alan, ada}
    assert 'href="?status__exact=paid"' in all_orders.content.decode()  # the filter is offered, not just allowed


# --- orders: the change form ---


def change_form_data(client, order: Order, **changes) -> dict:
    """What the change form would POST: its editable fields, no inline rows (they are all read-only)."""
    response = client.get(change_url(order))
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return {**data, **changes}


def test_money_stripe_and_status_fields_are_read_only(client, organiser, paid_order):
    response = client.get(change_url(paid_order))
    form = response.context["adminform"].form
    assert set(form.fields) == {"buyer_name", "buyer_email"}
    before = Order.objects.values().get(pk=paid_order.pk)
    data = change_form_data(
        client,
        paid_order,
        buyer_name="Ada Lovelace",
        total_pence="1",
        unit_price_pence="1",
        quantity="9",
        status="refunded",
        stripe_checkout_session_id="cs_forged",
        stripe_payment_intent_id="pi_forged",
        stripe_refund_id="re_forged",
        paid_at_0="01/01/2020",
        paid_at_1="00:00:00",
    )
    response = client.post(change_url(paid_order), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    after = Order.objects.values().get(pk=paid_order.pk)
    assert after["buyer_name"] == "Ada Lovelace"  # the one thing an organiser may fix…
    untouched = set(before) - {"buyer_name", "updated_at"}
    assert {key: after[key] for key in untouched} == {key: before[key] for key in untouched}  # …and nothing else


def test_order_page_shows_its_tickets_stripe_events_log_and_emails(client, organiser, paid_order):
    body = client.get(change_url(paid_order)).content.decode()
    event = StripeEvent.objects.get(order=paid_order)
    assert event.type == "checkout.session.completed"
    assert event.stripe_event_id in body
    assert "checkout.session.completed" in body
    assert event.outcome in body
    assert "Stripe reports the Checkout Session paid" in body  # the OrderLog row's note
    assert "Order confirmation" in body
    assert "Grace Hopper" in body
    assert "Alan Turing" in body
    assert paid_order.stripe_payment_intent_id in body


def test_order_page_shows_a_failed_email_with_its_error(
    client, organiser, stripe_double, event, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.tickets.failing_email.Backend"
    order = reserve_over_http(client)
    stripe_double.complete(order.stripe_checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
    body = client.get(change_url(order)).content.decode()
    assert "mail server down" in body
    assert listed(client.get(ORDERS, {"email": "unsent"})) == {order}


# --- the order page reads as an organiser would say it ---

AFTERNOON = datetime(2025, 6, 7, 13, 5, tzinfo=UTC)  # 14:05 in London (BST)


def test_order_page_shows_money_in_pounds_with_plain_labels(client, organiser, paid_order):
    body = client.get(change_url(paid_order)).content.decode()
    assert re.search(r"Unit price:</label>\s*<div class=\"readonly\">£5</div>", body)
    assert re.search(r"Total:</label>\s*<div class=\"readonly\">£10</div>", body)
    for internal in ["Unit price pence", "Total pence", "Is awaiting async payment", "1000"]:
        assert internal not in body, internal


def test_order_page_mentions_a_bank_payment_only_while_one_is_on_its_way(client, organiser, event):
    order = reserve(event, name="Grace Hopper", email="grace@navy.example")
    assert "Awaiting a bank payment" not in client.get(change_url(order)).content.decode()
    Order.objects.filter(pk=order.pk).update(is_awaiting_async_payment=True)
    body = client.get(change_url(order)).content.decode()
    assert re.search(r"Awaiting a bank payment:</label>\s*<div class=\"readonly\"><img [^>]*alt=\"True\"", body)


def test_admin_times_are_24_hour_london_time(client, organiser, paid_order):
    Order.objects.filter(pk=paid_order.pk).update(created_at=AFTERNOON, paid_at=AFTERNOON)
    paid_order.tickets.filter(attendee_name="Grace Hopper").update(checked_in_at=AFTERNOON)
    for url in [change_url(paid_order), ORDERS, TICKETS]:
        body = client.get(url).content.decode()
        assert "7 Jun 2025, 14:05" in body, url
        assert "p.m." not in body, url
        assert "a.m." not in body, url


def test_order_page_shows_each_tickets_short_reference(client, organiser, paid_order):
    body = client.get(change_url(paid_order)).content.decode()
    for ticket in paid_order.tickets.all():
        assert re.search(rf"<p>{ticket.short_reference}</p>", body), ticket.short_reference


# --- orders: actions ---


def test_refund_action_refunds_through_stripe_frees_the_seats_and_emails_the_buyer(
    client, organiser, stripe_double, event, paid_order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_refund(client, paid_order)
    assert shown_levels(response) == [("success", "1 order refunded.")]
    paid_order.refresh_from_db()
    [refund] = [e["data"]["object"] for e in stripe_double.events("refund.created")]
    assert refund["payment_intent"] == paid_order.stripe_payment_intent_id
    assert refund["amount"] == paid_order.total_pence == 1000
    assert refund["status"] == "succeeded"
    assert paid_order.status == OrderStatus.REFUNDED
    assert paid_order.stripe_refund_id == refund["id"]
    assert paid_order.refunded_at is not None
    assert Order.objects.seats_taken(event) == 0
    assert list(paid_order.log.values_list("from_status", "to_status")) == [
        ("pending", "paid"),
        ("paid", "refunded"),
    ]
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert paid_order.reference in message.subject
    assert "refunded" in message.subject
    assert Email.objects.get(order=paid_order, kind=Email.Kind.REFUND).sent_at is not None


def test_refunding_twice_refunds_once(client, organiser, stripe_double, paid_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        confirm_refund(client, paid_order)
        response = run_action(client, "refund", paid_order)  # nothing paid left: no confirmation needed
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1
    assert "not refunded" in " ".join(shown_messages(response))


def test_refund_action_refuses_a_pending_order_and_changes_nothing(
    client, organiser, stripe_double, event, django_capture_on_commit_callbacks
):
    order = reserve_over_http(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(client, "refund", order)
    assert response.status_code == 200
    assert f"{order.reference} is not refunded: it is “Awaiting payment”, and only paid orders can be refunded." in (
        shown_messages(response)
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.stripe_refund_id == ""
    assert stripe_double.events("refund.created") == []
    assert not order.log.exists()
    assert mail.outbox == []
    assert Order.objects.seats_taken(event) == order.quantity == 2  # still held
    assert stripe_double.session(order.stripe_checkout_session_id)["status"] == "open"  # the buyer may still pay


def test_refund_action_on_a_mixed_selection_refunds_only_the_paid_one(
    client, organiser, stripe_double, event, paid_order, django_capture_on_commit_callbacks
):
    pending = reserve_over_http(client, quantity=1, email="later@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_refund(client, paid_order, pending)
    texts = shown_messages(response)
    assert "1 order refunded." in texts
    assert any(pending.reference in text for text in texts)
    assert not any(paid_order.reference in text for text in texts)
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.REFUNDED
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.PENDING
    assert len(stripe_double.events("refund.created")) == 1


def test_refund_action_reports_stripe_refusing(
    client, organiser, stripe_double, paid_order, django_capture_on_commit_callbacks
):
    Order.objects.filter(pk=paid_order.pk).update(stripe_payment_intent_id="pi_unknown")
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_refund(client, paid_order)
    texts = shown_messages(response)
    assert any(text.startswith(f"{paid_order.reference}: Stripe refused the refund") for text in texts)
    assert ("warning", "0 orders refunded.") in shown_levels(response)  # not a green "success"
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID
    assert mail.outbox == []


# --- refunds are confirmed first ---


def test_choosing_refund_asks_first_and_refunds_nothing(client, organiser, stripe_double, paid_order):
    page = refund_confirmation(client, paid_order)
    body = page.content.decode()
    for shown in [paid_order.reference, "Ada Activist", "ada@example.com", "Grace Hopper", "Alan Turing", "£10"]:
        assert shown in body, shown
    assert "Will not be refunded" not in body
    form = FormReader(body)
    assert form.data == {
        "csrfmiddlewaretoken": form.data["csrfmiddlewaretoken"],
        "_selected_action": [str(paid_order.pk)],
        "action": ["refund"],
        "confirm": ["yes"],
    }
    assert form.buttons == ["Refund £10"]
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID
    assert stripe_double.events("refund.created") == []
    assert mail.outbox == []


def test_refund_confirmation_totals_the_paid_orders_and_lists_the_others_apart(
    client, organiser, stripe_double, event, paid_order
):
    other = reserve_over_http(client, quantity=1, email="bea@example.com")
    stripe_double.complete(other.stripe_checkout_session_id)
    deliver(client, stripe_double, last_event(stripe_double, "checkout.session.completed"))
    pending = reserve_over_http(client, quantity=3, email="later@example.com")
    body = refund_confirmation(client, paid_order, other, pending).content.decode()
    to_refund, skipped = body.split("Will not be refunded")
    assert paid_order.reference in to_refund
    assert other.reference in to_refund
    assert pending.reference not in to_refund
    assert pending.reference in skipped
    assert "Awaiting payment" in skipped
    assert re.search(r"Total to refund</th>\s*<td[^>]*>£15</td>", to_refund)  # £10 + £5, not the pending £15
    form = FormReader(body)
    assert form.buttons == ["Refund £15"]
    assert sorted(form.data["_selected_action"]) == sorted(str(o.pk) for o in (paid_order, other, pending))
    assert stripe_double.events("refund.created") == []


def test_refund_action_with_nothing_paid_warns_without_asking(client, organiser, stripe_double, event):
    pending = reserve_over_http(client)
    response = run_action(client, "refund", pending)
    assert "admin/tickets/order/refund_confirmation.html" not in [t.name for t in response.templates]
    assert ("warning", "0 orders refunded.") in shown_levels(response)
    assert all(level == "warning" for level, _ in shown_levels(response))


def test_paid_order_page_offers_a_refund_button_leading_to_the_confirmation(
    client, organiser, stripe_double, paid_order
):
    refund_url = f"{ORDERS}{paid_order.pk}/refund/"
    assert f'href="{refund_url}"' in client.get(change_url(paid_order)).content.decode()
    page = client.get(refund_url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Refund order" in body
    assert paid_order.reference in body
    assert "Grace Hopper" in body
    form = FormReader(body)
    assert form.buttons == ["Refund £10"]
    assert set(form.data) == {"csrfmiddlewaretoken", "confirm"}
    assert f'href="{change_url(paid_order)}"' in body  # "No, take me back"
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID  # looking never refunds
    assert stripe_double.events("refund.created") == []


def test_refund_button_refunds_on_post_and_returns_to_the_order(
    client, organiser, stripe_double, paid_order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{ORDERS}{paid_order.pk}/refund/", {"confirm": "yes"}, follow=True)
    assert response.redirect_chain == [(change_url(paid_order), 302)]
    assert shown_levels(response) == [("success", "1 order refunded.")]
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1
    assert f"{ORDERS}{paid_order.pk}/refund/" not in response.content.decode()  # no button once refunded


def test_refund_button_is_csrf_protected(client, organiser, stripe_double, paid_order):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.get(username="boss"))
    url = f"{ORDERS}{paid_order.pk}/refund/"
    assert browser.post(url, {"confirm": "yes"}).status_code == 403
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID
    form = FormReader(browser.get(url).content.decode())
    assert browser.post(url, form.data).status_code == 302
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.REFUNDED


def test_refund_of_an_unpaid_order_from_its_page_changes_nothing(client, organiser, stripe_double, event):
    pending = reserve_over_http(client)
    body = client.get(change_url(pending)).content.decode()
    assert f"{ORDERS}{pending.pk}/refund/" not in body
    for method in (client.get, client.post):
        response = method(f"{ORDERS}{pending.pk}/refund/", follow=True)
        assert response.redirect_chain == [(change_url(pending), 302)]
        assert ("warning", "0 orders refunded.") in shown_levels(response)
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.PENDING
    assert stripe_double.events("refund.created") == []
    assert client.get(f"{ORDERS}999999/refund/").status_code == 404


def test_staff_who_may_only_view_orders_cannot_refund(client, stripe_double, paid_order):
    viewer = User.objects.create_user("viewer", "viewer@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "view_ticket"]))
    client.force_login(viewer)
    page = client.get(change_url(paid_order))
    assert page.status_code == 200
    assert "/refund/" not in page.content.decode()
    assert "refund" not in offered_actions(client.get(ORDERS))
    assert client.get(f"{ORDERS}{paid_order.pk}/refund/").status_code == 403
    assert client.post(f"{ORDERS}{paid_order.pk}/refund/", {"confirm": "yes"}).status_code == 403
    response = client.post(
        ORDERS, {"action": "refund", "_selected_action": [paid_order.pk], "confirm": "yes"}, follow=True
    )
    assert "No action selected." in shown_messages(response)
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID
    assert stripe_double.events("refund.created") == []


def test_resend_confirmation_sends_it_again(client, organiser, paid_order):
    response = run_action(client, "resend_confirmation", paid_order)
    assert shown_messages(response) == ["1 sent, 0 failed (see each order's emails)."]
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert paid_order.reference in message.subject
    assert "is confirmed" in message.body
    assert Email.objects.get(order=paid_order, kind=Email.Kind.CONFIRMATION).attempts == 2


def test_resend_confirmation_records_a_failure(client, organiser, paid_order, settings):
    settings.EMAIL_BACKEND = "tests.tickets.failing_email.Backend"
    response = run_action(client, "resend_confirmation", paid_order)
    assert shown_messages(response) == ["0 sent, 1 failed (see each order's emails)."]
    email = Email.objects.get(order=paid_order, kind=Email.Kind.CONFIRMATION)
    assert "mail server down" in email.last_error
    assert "mail server down" in client.get(change_url(paid_order)).content.decode()


def test_resend_confirmation_never_confirms_a_refunded_order(
    client, organiser, stripe_double, paid_order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        confirm_refund(client, paid_order)
    mail.outbox.clear()
    response = run_action(client, "resend_confirmation", paid_order)
    assert mail.outbox == []
    assert f"{paid_order.reference} gets no confirmation: it is “Refunded”, not paid." in shown_messages(response)


# --- tickets ---


def test_ticket_search_by_reference_and_attendee_name(client, organiser, paid_order):
    grace, alan = paid_order.tickets.order_by("pk")
    assert [grace.attendee_name, alan.attendee_name] == ["Grace Hopper", "Alan Turing"]
    assert listed(client.get(TICKETS, {"q": grace.reference})) == {grace}
    assert listed(client.get(TICKETS, {"q": "Turing"})) == {alan}
    assert listed(client.get(TICKETS, {"q": paid_order.reference})) == {grace, alan}
    assert listed(client.get(TICKETS, {"q": "Lovelace"})) == set()


def test_ticket_search_by_the_short_reference_printed_on_it(client, organiser, paid_order):
    grace, alan = paid_order.tickets.order_by("pk")
    booking_page = client.get(paid_order.get_absolute_url()).content.decode()
    assert grace.short_reference in booking_page  # what the attendee reads out at the door
    assert listed(client.get(TICKETS, {"q": grace.short_reference})) == {grace}
    assert listed(client.get(TICKETS, {"q": f" {alan.short_reference.lower()} "})) == {alan}


def test_ticket_reference_and_order_are_read_only(client, organiser, paid_order):
    ticket = paid_order.tickets.first()
    reference = ticket.reference
    url = f"{TICKETS}{ticket.pk}/change/"
    form = client.get(url).context["adminform"].form
    assert set(form.fields) == {"attendee_name"}
    response = client.post(url, {"attendee_name": "Grace B. Hopper", "reference": "FORGED", "order": 999})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.attendee_name, ticket.reference, ticket.order_id) == ("Grace B. Hopper", reference, paid_order.pk)


def test_tickets_list_shows_the_order_status(client, organiser, event, paid_order):
    refunded = reserve(event, name="Ada Lovelace", email="ada@engine.example")
    set_status(refunded, OrderStatus.REFUNDED)
    refunded.tickets.create(attendee_name="Ada Lovelace")
    body = client.get(TICKETS).content.decode()
    assert "Order status" in body
    assert re.search(r'<span class="order-status order-status--refunded">Refunded</span>', body)
    assert body.count('<span class="order-status order-status--paid">Paid</span>') == 2


def test_tickets_cannot_be_deleted(client, organiser, paid_order):
    ticket = paid_order.tickets.first()
    assert f"{TICKETS}{ticket.pk}/delete/" not in client.get(f"{TICKETS}{ticket.pk}/change/").content.decode()
    assert client.get(f"{TICKETS}{ticket.pk}/delete/").status_code == 403
    assert client.post(f"{TICKETS}{ticket.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in offered_actions(client.get(TICKETS))
    client.post(TICKETS, {"action": "delete_selected", "_selected_action": [ticket.pk], "post": "yes"})
    assert paid_order.tickets.count() == 2
