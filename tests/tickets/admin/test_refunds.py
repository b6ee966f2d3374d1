"""Refunds from the admin (tickets.admin.refunds): confirmed first, decided by services.refund_order, and made by
its process_refund task: the admin says at once that they are under way, and the refunds list (RefundAdmin)
follows them, reloading itself (a Refresh header) while any is still under way.

The test backend runs a task as soon as it is enqueued after commit, so a test commits with
`django_capture_on_commit_callbacks(execute=True)`; without it, the admin's answer is what the organiser sees
before any task ran.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import EventFactory
from tests.task_backend import run_due_tasks
from tests.tickets import helpers
from tests.tickets.admin.helpers import (
    ORDERS,
    FormReader,
    change_url,
    confirm_refund,
    offered_actions,
    refund_confirmation,
    run_action,
    shown_levels,
    shown_messages,
)
from tests.tickets.helpers import deliver, last_event, make_order, reserve_over_http, set_status
from tickets import payments, services
from tickets.admin.refunds import PROGRESS_REFRESH_SECONDS
from tickets.exceptions import NotRefundable
from tickets.models import Email, Order, OrderStatus, Refund, RefundStatus, Ticket
from tickets.templatetags.money import pounds

pytestmark = pytest.mark.django_db

REFUNDS = "/admin/tickets/refund/"
NONE_MADE = ("warning", "No refunds were made.")


def under_way(response, *, orders: int, amount: str) -> str:
    """The one green message of a refund request: `orders` refunds of `amount` in all are under way, with a link to
    the refunds list showing just those; returns the link."""
    [text] = [text for level, text in shown_levels(response) if level == "success"]
    refunds = Refund.objects.order_by("-pk")[:orders]
    link = f"{REFUNDS}?pk__in={','.join(str(refund.pk) for refund in reversed(refunds))}"
    subject = "The refund of 1 order" if orders == 1 else f"Refunds of {orders} orders"
    assert text == (
        f"{subject} ({amount}) {'is' if orders == 1 else 'are'} under way: Stripe is being asked now. "
        f'<a href="{link}">Follow them on the refunds list</a>; each order says when its refund is done.'
    )
    return link


def progress(client, link: str) -> tuple[dict[str, str], str | None]:
    """The refunds list at `link`: its Under way / Done / Failed figures, and its Refresh header (None if it has
    none, so the page stops reloading)."""
    page = client.get(link)
    assert page.status_code == 200
    found = dict(re.findall(r'data-figure="([a-z-]+)">(\d+)</dd>', page.content.decode()))
    return found, page.get("Refresh")


def shown_refund(client, link: str) -> dict[str, str]:
    """The one refund on the refunds list at `link`: its columns' text, by field name."""
    body = client.get(link).content.decode()
    [row] = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)
    cells = re.findall(r'<t[dh] class="field-([a-z_]+)[^"]*">(.*?)</t[dh]>', row, re.S)
    return {name: " ".join(re.sub(r"<[^>]+>", " ", value).split()) for name, value in cells}


DONE = ({"under-way": "0", "done": "1", "failed": "0"}, None)


# --- the refund action ---


def test_refund_action_refunds_through_stripe_frees_the_seats_and_emails_the_buyer(
    client, organiser, stripe_double, event, paid_order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_refund(client, paid_order)
    link = under_way(response, orders=1, amount="£10")
    assert len(shown_levels(response)) == 1
    assert progress(client, link) == DONE
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
    with django_capture_on_commit_callbacks() as commit:  # the first refund's task has not run yet
        confirm_refund(client, paid_order)
        again = confirm_refund(client, paid_order)  # asked again while it is under way
    assert shown_levels(again) == [
        ("warning", f"{paid_order.reference} is not refunded: it has no tickets left to refund."),
        NONE_MADE,
    ]
    assert len(commit) == 1
    with django_capture_on_commit_callbacks(execute=True):
        for enqueue in commit:
            enqueue()
        response = run_action(client, "refund", paid_order)  # nothing paid left: no confirmation needed
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1
    assert Refund.objects.count() == 1
    assert "not refunded" in " ".join(shown_messages(response))
    assert NONE_MADE in shown_levels(response)


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
    under_way(response, orders=1, amount="£10")
    assert any(pending.reference in text for text in texts)
    assert not any(paid_order.reference in text for text in texts)
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.REFUNDED
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.PENDING
    assert len(stripe_double.events("refund.created")) == 1


def test_stripe_refusing_a_refund_shows_as_failed_on_the_refunds_list_and_the_order(
    client, organiser, stripe_double, paid_order, django_capture_on_commit_callbacks
):
    Order.objects.filter(pk=paid_order.pk).update(stripe_payment_intent_id="pi_unknown")
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_refund(client, paid_order)
    link = under_way(response, orders=1, amount="£10")  # asked: Stripe answers the task, not this page
    assert progress(client, link) == ({"under-way": "0", "done": "0", "failed": "1"}, None)
    shown = shown_refund(client, link)
    assert shown["status"] == "Failed at Stripe"
    assert "Stripe refused the refund of pi_unknown" in shown["last_error"]
    assert shown["attempts"] == "1"
    assert not DBTaskResult.objects.ready().exists()  # refused: not tried again
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID
    order_page = client.get(change_url(paid_order)).content.decode()
    assert "Failed at Stripe" in order_page  # in the order's Refunds
    assert f"{ORDERS}{paid_order.pk}/refund/" in order_page  # its tickets may be refunded again
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
    assert NONE_MADE in shown_levels(response)
    assert all(level == "warning" for level, _ in shown_levels(response))


def test_paid_order_page_offers_a_refund_button_leading_to_the_confirmation(
    client, organiser, stripe_double, paid_order
):
    refund_url = f"{ORDERS}{paid_order.pk}/refund/"
    assert f'href="{refund_url}"' in client.get(change_url(paid_order)).content.decode()
    page = client.get(refund_url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Refund tickets of order" in body
    assert paid_order.reference in body
    assert "Grace Hopper" in body
    form = FormReader(body)
    assert form.buttons == ["Refund the chosen tickets"]
    assert set(form.data) == {"csrfmiddlewaretoken", "confirm", "ticket"}
    assert sorted(form.data["ticket"]) == sorted(str(t.pk) for t in paid_order.tickets.all())  # all, by default
    assert f'href="{change_url(paid_order)}"' in body  # "No, take me back"
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID  # looking never refunds
    assert stripe_double.events("refund.created") == []


def test_refund_button_refunds_on_post_and_returns_to_the_order(
    client, organiser, stripe_double, paid_order, django_capture_on_commit_callbacks
):
    form = FormReader(client.get(f"{ORDERS}{paid_order.pk}/refund/").content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{ORDERS}{paid_order.pk}/refund/", form.data, follow=True)
    assert response.redirect_chain == [(change_url(paid_order), 302)]
    under_way(response, orders=1, amount="£10")
    assert len(shown_levels(response)) == 1
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1
    assert f"{ORDERS}{paid_order.pk}/refund/" in response.content.decode()  # that page was made before the task ran
    assert f"{ORDERS}{paid_order.pk}/refund/" not in client.get(change_url(paid_order)).content.decode()  # no more


def test_refund_button_is_csrf_protected(
    client, organiser, stripe_double, paid_order, django_capture_on_commit_callbacks
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.get(username="boss"))
    url = f"{ORDERS}{paid_order.pk}/refund/"
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(url, {"confirm": "yes"}).status_code == 403
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID
    assert not Refund.objects.exists()
    form = FormReader(browser.get(url).content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(url, form.data).status_code == 302
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.REFUNDED


def test_refund_of_an_unpaid_order_from_its_page_changes_nothing(client, organiser, stripe_double, event):
    pending = reserve_over_http(client)
    body = client.get(change_url(pending)).content.decode()
    assert f"{ORDERS}{pending.pk}/refund/" not in body
    for method in (client.get, client.post):
        response = method(f"{ORDERS}{pending.pk}/refund/", follow=True)
        assert response.redirect_chain == [(change_url(pending), 302)]
        assert NONE_MADE in shown_levels(response)
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


def test_staff_who_may_refund_but_not_see_the_refunds_list_get_no_link_to_it(client, stripe_double, paid_order):
    refunder = User.objects.create_user("refunder", "refunder@example.com", "pw", is_staff=True)
    refunder.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "change_order"]))
    client.force_login(refunder)
    response = confirm_refund(client, paid_order)
    [text] = [text for level, text in shown_levels(response) if level == "success"]
    assert text == (
        f"The refund of 1 order ({pounds(paid_order.total_pence)}) is under way: Stripe is being asked now; "
        "each order says when its refund is done."
    )
    assert client.get(REFUNDS).status_code == 403  # the list it would have linked to


# --- whether an order may be refunded is services.refund_order's decision ---


@pytest.fixture
def stripe_calls(monkeypatch):
    """Every attempt to reach Stripe (tickets.payments.client), recorded instead of made."""
    from tickets import payments

    calls = []
    monkeypatch.setattr(payments, "client", lambda *args, **kwargs: calls.append((args, kwargs)))
    return calls


def not_refundable_message(order: Order) -> str:
    """What services.refund_order says, in its own words, when it refuses this order."""
    with pytest.raises(NotRefundable) as refusal:
        services.refund_order(order_id=order.pk)
    return str(refusal.value)


@pytest.mark.parametrize(
    "status", [OrderStatus.PENDING, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REFUNDED]
)
def test_refunding_an_unpaid_order_shows_why_not_and_calls_nothing_at_stripe(
    client, organiser, event, stripe_calls, status, django_capture_on_commit_callbacks
):
    order = make_order(event, "Grace Hopper", status=status)
    message = not_refundable_message(order)
    with django_capture_on_commit_callbacks(execute=True):  # any refund task would run, and call Stripe
        action = run_action(client, "refund", order)  # from the list
        page = client.post(f"{ORDERS}{order.pk}/refund/", {"confirm": "yes"}, follow=True)  # from the order's page
    for response in (action, page):
        assert shown_levels(response) == [("warning", message), NONE_MADE]
    assert stripe_calls == []
    assert not order.refunds.exclude(status=RefundStatus.SUCCEEDED).exists()  # no request (but the factory's)
    order.refresh_from_db()
    assert order.status == status
    assert not order.log.exists()
    assert mail.outbox == []


def test_an_order_refunded_while_the_confirmation_page_was_open_is_not_refunded_again(
    client, organiser, stripe_double, paid_order, stripe_calls, django_capture_on_commit_callbacks
):
    form = FormReader(refund_confirmation(client, paid_order).content.decode())
    set_status(paid_order, OrderStatus.REFUNDED)  # say, from Stripe's dashboard, reported by a webhook
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ORDERS, form.data, follow=True)
    assert shown_levels(response) == [("warning", not_refundable_message(paid_order)), NONE_MADE]
    assert not Refund.objects.exists()
    assert stripe_calls == []
    assert stripe_double.events("refund.created") == []
    assert mail.outbox == []


# --- choosing tickets, seeing the money, and being told the truth ---


def test_refunding_one_chosen_ticket_from_the_order_page_refunds_its_price_and_shows_the_money(
    client, organiser, stripe_double, event, paid_order, django_capture_on_commit_callbacks
):
    grace, alan = paid_order.tickets.all()
    form = FormReader(client.get(f"{ORDERS}{paid_order.pk}/refund/").content.decode())
    form.data["ticket"] = [str(alan.pk)]  # the organiser unticks Grace
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{ORDERS}{paid_order.pk}/refund/", form.data, follow=True)
    under_way(response, orders=1, amount="£5")
    assert "Asked of Stripe, no answer yet" in response.content.decode()  # the order's page, before the task ran
    assert [e["data"]["object"]["amount"] for e in stripe_double.events("refund.created")] == [500]
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID
    assert Order.objects.seats_taken(event) == 1
    page = client.get(change_url(paid_order)).content.decode()  # the organiser looks again
    assert re.search(r"Refunded:</label>\s*<div class=\"readonly\">£5</div>", page)
    assert re.search(r"Remaining:</label>\s*<div class=\"readonly\">£5</div>", page)
    assert "boss" in page  # who made the refund, in the Refunds inline
    [notice] = mail.outbox  # the buyer is told what came back; Grace's ticket stands
    assert notice.subject.startswith("£5 refunded on your")
    cancelled, still_valid = notice.body.split("Still valid")
    assert "Alan Turing" in cancelled
    assert "Grace Hopper" in still_valid
    again = FormReader(client.get(f"{ORDERS}{paid_order.pk}/refund/").content.decode())
    assert again.data["ticket"] == [str(grace.pk)]  # only what is left may be chosen


def test_refund_page_with_no_ticket_chosen_refunds_nothing_and_says_so(client, organiser, stripe_double, paid_order):
    response = client.post(f"{ORDERS}{paid_order.pk}/refund/", {"confirm": "yes"})
    assert response.status_code == 200
    assert "Choose at least one ticket to refund." in shown_messages(response)
    assert stripe_double.events("refund.created") == []


def test_refunding_used_tickets_asks_first_and_names_them(client, organiser, stripe_double, paid_order):
    used = paid_order.tickets.get(attendee_name="Alan Turing")
    Ticket.objects.filter(pk=used.pk).update(checked_in_at=timezone.now())
    for page in (refund_confirmation(client, paid_order), client.get(f"{ORDERS}{paid_order.pk}/refund/")):
        body = page.content.decode()
        assert "This ticket has already been used" in body
        assert re.search(r"Alan Turing \(\w{4}-\w{4}, order NR-\w+\) checked in at", body)
        assert "Grace Hopper (" not in body.split("already been used")[1].split("</div>")[0]
    assert stripe_double.events("refund.created") == []


def test_an_unused_order_gets_no_used_tickets_warning(client, organiser, stripe_double, paid_order):
    assert "already been used" not in refund_confirmation(client, paid_order).content.decode()


def test_a_refund_stripe_did_not_answer_stays_under_way_not_refused_until_the_engine_retries_it(
    client, organiser, stripe_double, paid_order, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(payments, "REFUND_RECHECK_PAUSE_SECONDS", 0)
    stripe_double.lose_responses("/v1/refunds", times=4)  # the task's first attempt hears nothing back
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_refund(client, paid_order)
    link = under_way(response, orders=1, amount="£10")
    assert progress(client, link) == (
        {"under-way": "1", "done": "0", "failed": "0"},
        str(PROGRESS_REFRESH_SECONDS),  # the page reloads itself until Stripe has answered
    )
    shown = shown_refund(client, link)
    assert shown["status"] == "Asked of Stripe, no answer yet"
    assert shown["attempts"] == "1"
    assert "Stripe did not answer in time" in shown["last_error"]
    assert "refused" not in shown["last_error"]
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID
    assert mail.outbox == []

    backoff_over = timezone.now() - timedelta(seconds=1)
    DBTaskResult.objects.filter(status="READY").update(run_after=backoff_over)  # the retry is due
    with django_capture_on_commit_callbacks(execute=True):
        assert run_due_tasks() == 1
    assert progress(client, link) == DONE
    assert shown_refund(client, link)["attempts"] == "2"
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1


def test_a_refund_whose_answer_came_on_the_second_try_is_reported_done(
    client, organiser, stripe_double, paid_order, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(payments, "REFUND_RECHECK_PAUSE_SECONDS", 0)
    stripe_double.lose_responses("/v1/refunds", times=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_refund(client, paid_order)
    assert progress(client, under_way(response, orders=1, amount="£10")) == DONE
    assert len(stripe_double.events("refund.created")) == 1


# --- many refunds at once: the admin answers at once, the refunds list follows them ---

MANY = 200


def test_refunding_200_orders_answers_at_once_and_the_refunds_list_follows_them_to_the_end(
    client, organiser, stripe_double, django_capture_on_commit_callbacks
):
    """The action records 200 refund requests and answers before Stripe is asked anything: the tasks are enqueued
    only after its commit, which this test holds back until it has read the answer. The refunds list then counts
    them under way, reloading itself, and done as the tasks run, and stops reloading when none is under way."""
    event = EventFactory(capacity=MANY, ticket_price_pence=500)
    orders = [helpers.paid_order(stripe_double, event=event, buyer_email=f"buyer{n}@example.com") for n in range(MANY)]
    form = FormReader(refund_confirmation(client, *orders).content.decode())
    assert form.buttons == ["Refund £1,000"]

    with django_capture_on_commit_callbacks() as commit:  # the admin's commit: collected, not run yet
        response = client.post(ORDERS, form.data, follow=True)
    link = under_way(response, orders=MANY, amount="£1,000")
    assert list(Refund.objects.order_by().values_list("status", "attempts").distinct()) == [(RefundStatus.REQUESTED, 0)]
    assert Refund.objects.count() == MANY
    assert stripe_double.events("refund.created") == []  # nothing asked of Stripe yet
    assert not DBTaskResult.objects.exists()
    assert len(commit) == MANY  # one process_refund task each, once committed
    assert progress(client, link) == (
        {"under-way": str(MANY), "done": "0", "failed": "0"},
        str(PROGRESS_REFRESH_SECONDS),
    )

    half = MANY // 2
    with django_capture_on_commit_callbacks(execute=True):
        for enqueue in commit[:half]:  # a worker has run half of them
            enqueue()
    assert progress(client, link) == (
        {"under-way": str(MANY - half), "done": str(half), "failed": "0"},
        str(PROGRESS_REFRESH_SECONDS),
    )
    with django_capture_on_commit_callbacks(execute=True):
        for enqueue in commit[half:]:
            enqueue()
    assert progress(client, link) == ({"under-way": "0", "done": str(MANY), "failed": "0"}, None)

    assert DBTaskResult.objects.filter(task_path="tickets.services.process_refund", status="SUCCESSFUL").count() == MANY
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.REFUNDED}
    at_stripe = [e["data"]["object"] for e in stripe_double.events("refund.created")]
    assert len({refund["payment_intent"] for refund in at_stripe}) == len(at_stripe) == MANY  # once each
    assert sorted(message.to[0] for message in mail.outbox) == sorted(order.buyer_email for order in orders)
    assert services.seats_left(event) == MANY
