"""The order list and page (tickets.admin.orders), driven over HTTP as an organiser would."""

import re

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import OrderFactory
from tests.tickets.admin.helpers import ORDERS, TICKETS, change_url, confirm_refund, listed, run_action, shown_messages
from tests.tickets.helpers import deliver, last_event, reserve, reserve_over_http, set_status
from tickets.admin import OrderAdmin
from tickets.models import Email, Order, OrderStatus, StripeEvent

pytestmark = pytest.mark.django_db


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


def test_order_page_shows_each_tickets_short_reference(client, organiser, paid_order):
    body = client.get(change_url(paid_order)).content.decode()
    for ticket in paid_order.tickets.all():
        assert re.search(rf"<p>{ticket.short_reference}</p>", body), ticket.short_reference


# --- resending the confirmation email ---


def test_resend_confirmation_sends_it_again_by_a_task(
    client, organiser, paid_order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = run_action(client, "resend_confirmation", paid_order)
        assert mail.outbox == []  # not in the request: a task sends it once the request's work commits
    assert len(queued) == 1
    assert shown_messages(response) == ["1 confirmation is on its way: each order's Emails say when it has gone."]
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert paid_order.reference in message.subject
    assert "is confirmed" in message.body
    assert Email.objects.get(order=paid_order, kind=Email.Kind.CONFIRMATION).attempts == 2


def test_resend_confirmation_records_a_failure_and_retries_it(
    client, organiser, paid_order, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.tickets.failing_email.Backend"
    with django_capture_on_commit_callbacks(execute=True):
        run_action(client, "resend_confirmation", paid_order)
    email = Email.objects.get(order=paid_order, kind=Email.Kind.CONFIRMATION)
    assert "mail server down" in email.last_error
    assert "mail server down" in client.get(change_url(paid_order)).content.decode()
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["kwargs"] == {"again": True, "attempt": 2}
    tasks_page = client.get("/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED").content.decode()
    assert "send order email" in tasks_page
    assert "ConnectionRefusedError: mail server down" in tasks_page


def test_resend_confirmation_never_confirms_a_refunded_order(
    client, organiser, stripe_double, paid_order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        confirm_refund(client, paid_order)
    mail.outbox.clear()
    response = run_action(client, "resend_confirmation", paid_order)
    assert mail.outbox == []
    assert f"{paid_order.reference} gets no confirmation: it is “Refunded”, not paid." in shown_messages(response)


# --- the change form writes only the buyer's details, never over what a webhook wrote meanwhile ---


def test_saving_an_order_in_the_admin_keeps_a_payment_that_arrived_meanwhile(client, organiser, monkeypatch):
    order = OrderFactory()
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
    for prefix in ["tickets", "refunds", "emails", "stripe_events", "log"]:
        form |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = client.post(url, form)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    order.refresh_from_db()
    assert (order.buyer_name, order.buyer_email) == ("Ada Lovelace", "ada@example.org")
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    assert order.stripe_payment_intent_id == "pi_meanwhile"
