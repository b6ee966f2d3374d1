"""The organisers' desk in the admin: the price in pounds, 24-hour London times, the Box office group, the sales
summary on the index, and order pages that show only the fields that apply. Driven over HTTP as organisers would."""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from events.models import Event
from tests.factories import EventFactory, OrderFactory, RefundFactory, SessionFactory
from tests.tickets.admin.helpers import (
    CHECK_IN,
    EXPORT,
    ORDERS,
    TICKETS,
    change_url,
    listed,
    offered_actions,
    run_action,
    shown_messages,
    staff_user,
)
from tests.tickets.helpers import make_order
from tickets.models import Email, Order, OrderStatus

pytestmark = pytest.mark.django_db

EVENTS = "/admin/events/event/"
REFUNDS = "/admin/tickets/refund/"
TASKS = "/admin/django_tasks_database/dbtaskresult/"
MORNING = datetime(2025, 6, 7, 8, 5, tzinfo=UTC)  # 09:05 in London (BST)
AFTERNOON = datetime(2025, 6, 7, 13, 5, tzinfo=UTC)  # 14:05 in London (BST)


class BrowserForm(HTMLParser):
    """What a browser submits from a page's POST form as it stands: inputs, ticked boxes, textareas, selects."""

    def __init__(self, html: str):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_form = attrs.get("method", "").lower() == "post"
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            self._first_option = value if self._first_option is None else self._first_option
            if "selected" in attrs:
                self.data.setdefault(self._select, []).append(value)
                self._selected = True

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            if not self._selected and self._first_option is not None:
                self.data.setdefault(self._select, []).append(self._first_option)
            self._select = None


def event_url(event: Event) -> str:
    return f"{EVENTS}{event.pk}/change/"


def price_form(client, event: Event) -> dict[str, list[str]]:
    page = client.get(event_url(event))
    assert page.status_code == 200
    return BrowserForm(page.content.decode()).data


def save_price(client, event: Event, typed: str):
    return client.post(event_url(event), {**price_form(client, event), "ticket_price": typed})


def price_errors(response) -> list[str]:
    assert response.status_code == 200, "saved, not refused"
    return response.context["adminform"].form.errors.get("ticket_price", [])


# --- the ticket price, in pounds ---


def test_the_event_page_shows_the_price_in_pounds_to_edit(client, organiser):
    event = EventFactory(ticket_price_pence=550)
    form = price_form(client, event)
    assert form["ticket_price"] == ["5.50"]
    assert "ticket_price_pence" not in form
    body = client.get(event_url(event)).content.decode()
    assert "Ticket price (£)" in body
    assert "In pence" not in body
    assert BrowserForm(client.get(f"{EVENTS}add/").content.decode()).data["ticket_price"] == ["5.00"]  # the default


@pytest.mark.parametrize(
    ("typed", "pence"), [("5.00", 500), ("5", 500), ("12.5", 1250), ("£7.25", 725), (" 1,250.00 ", 125000), ("0", 0)]
)
def test_a_price_typed_in_pounds_is_saved_in_pence(client, organiser, typed, pence):
    event = EventFactory(ticket_price_pence=900)
    response = save_price(client, event, typed)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    assert event.ticket_price_pence == pence


@pytest.mark.parametrize("typed", ["0.29", "0.01", "-5", "10000.00"])
def test_a_price_stripe_cannot_charge_is_refused_in_pounds(client, organiser, typed):
    event = EventFactory(ticket_price_pence=500)
    message = (
        "Enter 0 for free tickets, or a price from £0.30 (Stripe's smallest payment) to £9,999.99 "
        "(so that 100 tickets stay within Stripe's largest)."
    )
    response = save_price(client, event, typed)
    assert price_errors(response) == [message]
    assert message.replace("'", "&#x27;") in response.content.decode()
    event.refresh_from_db()
    assert event.ticket_price_pence == 500


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Enter an amount in pounds, like 5.00 or 12.50."),
        ("5p", "Enter an amount in pounds, like 5.00 or 12.50."),
        ("5.005", "Enter pounds and pence, with at most two figures after the point: like 5.00 or 12.50."),
        ("", "This field is required."),
    ],
)
def test_a_price_that_is_not_pounds_and_pence_is_refused_clearly(client, organiser, typed, message):
    event = EventFactory(ticket_price_pence=500)
    assert price_errors(save_price(client, event, typed)) == [message]
    event.refresh_from_db()
    assert event.ticket_price_pence == 500


def test_the_event_list_shows_the_price_in_pounds(client, organiser):
    EventFactory(name="Netroots UK 2028", ticket_price_pence=550)
    body = client.get(EVENTS).content.decode()
    assert re.search(r'<td class="field-ticket_price">£5.50</td>', body)
    assert "550" not in body


def test_programme_editors_read_the_price_in_pounds(client):
    client.force_login(staff_user("editor", "Programme editors"))
    event = EventFactory(ticket_price_pence=550)
    body = client.get(event_url(event)).content.decode()
    assert re.search(r'<div class="readonly">£5.50</div>', body)


# --- 24-hour London times, on every admin page ---


def test_order_list_and_page_show_24_hour_london_times_and_no_am_or_pm(client, organiser):
    morning = make_order(EventFactory(), "Grace Hopper")
    afternoon = make_order(Event.objects.get(), "Alan Turing")
    Order.objects.filter(pk=morning.pk).update(created_at=MORNING, paid_at=MORNING)
    Order.objects.filter(pk=afternoon.pk).update(created_at=AFTERNOON, paid_at=AFTERNOON)
    afternoon.tickets.update(checked_in_at=AFTERNOON)
    saved = client.post(change_url(afternoon), BrowserForm(client.get(change_url(afternoon)).content.decode()).data)
    assert saved.status_code == 302  # and an admin log entry, for the history page
    pages = [ORDERS, f"{ORDERS}?created_at__day=7&created_at__month=6&created_at__year=2025"]
    pages += [change_url(morning), change_url(afternoon), f"{change_url(afternoon).removesuffix('change/')}history/"]
    for url in pages:
        body = client.get(url).content.decode()
        assert "a.m." not in body, url
        assert "p.m." not in body, url
    assert "7 Jun 2025, 09:05" in client.get(change_url(morning)).content.decode()
    assert "7 Jun 2025, 14:05" in client.get(change_url(afternoon)).content.decode()


def test_pages_showing_raw_times_use_the_24_hour_clock(client, organiser):
    """The event and session lists show their datetime fields with the locale's DATETIME_FORMAT (netroots.formats)."""
    event = EventFactory(
        starts_at=datetime(2028, 1, 8, 14, 5, tzinfo=UTC), ends_at=datetime(2028, 1, 8, 23, tzinfo=UTC)
    )
    SessionFactory(event=event, starts_at=event.starts_at + timedelta(hours=1, minutes=25))
    events = client.get(EVENTS).content.decode()
    assert "8 Jan 2028, 14:05" in events
    sessions = client.get("/admin/events/session/").content.decode()
    assert "8 Jan 2028, 15:30" in sessions
    for body in (events, sessions):
        assert "a.m." not in body
        assert "p.m." not in body


def test_the_date_and_time_widgets_are_24_hour(client, organiser):
    event = EventFactory(
        starts_at=datetime(2028, 6, 8, 13, 5, tzinfo=UTC), ends_at=datetime(2028, 6, 8, 20, tzinfo=UTC)
    )
    form = price_form(client, event)
    assert (form["starts_at_0"], form["starts_at_1"]) == (["08/06/2028"], ["14:05"])  # London time, summer
    page = client.get(event_url(event)).content.decode()
    assert '<script src="/static/js/admin-time.js" defer></script>' in page
    script = client.get("/static/js/admin-time.js")
    assert script.status_code == 200
    source = b"".join(script.streaming_content).decode()
    for choice in ['"00:00", 0', '"06:00", 6', '"12:00", 12', '"18:00", 18']:
        assert choice in source
    assert "DateTimeShortcuts.clockHours.default_" in source
    # what the clock sends back is accepted: 24-hour, with or without seconds
    response = client.post(event_url(event), {**form, "starts_at_1": "15:30", "ends_at_1": "21:00:00"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert timezone.localtime(event.starts_at).strftime("%H:%M") == "15:30"


# --- the Box office group ---


@pytest.fixture
def box_office(client):
    client.force_login(staff_user("desk", "Box office"))


def test_the_box_office_group_may_look_after_orders_and_nothing_of_the_programme():
    perms = set(Group.objects.get(name="Box office").permissions.values_list("content_type__app_label", "codename"))
    assert perms == {
        ("tickets", "view_order"),
        ("tickets", "change_order"),
        ("tickets", "view_ticket"),
        ("tickets", "view_refund"),
        ("tickets", "view_email"),
        ("tickets", "view_orderlog"),
        ("tickets", "view_stripeevent"),
        ("django_tasks_database", "view_dbtaskresult"),
    }


def test_box_office_sees_orders_refunds_tickets_tasks_and_the_export(client, box_office):
    order = make_order(EventFactory(), "Grace Hopper")
    for url in [ORDERS, change_url(order), REFUNDS, TICKETS, TASKS, EXPORT, "/admin/"]:
        assert client.get(url).status_code == 200, url
    assert offered_actions(client.get(ORDERS)) >= {"refund", "resend_confirmation", "export_attendees"}
    page = client.get(change_url(order))
    assert "Refund tickets" in page.content.decode()
    inlines = {str(inline.opts.verbose_name_plural) for inline in page.context["inline_admin_formsets"]}
    assert inlines == {"tickets", "refunds", "emails", "stripe events", "order logs"}  # shown when not empty
    index = client.get("/admin/").content.decode()
    for url in [ORDERS, REFUNDS, TICKETS, TASKS]:
        assert f'href="{url}"' in index, url


def test_box_office_resends_a_confirmation(client, box_office, django_capture_on_commit_callbacks):
    order = make_order(EventFactory(), "Grace Hopper")
    Email.objects.create(order=order, kind=Email.Kind.CONFIRMATION, sent_at=timezone.now(), attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(client, "resend_confirmation", order)
    assert shown_messages(response) == ["1 confirmation is on its way: each order's Emails say when it has gone."]
    [message] = mail.outbox
    assert order.reference in message.subject


def test_box_office_may_refund_from_the_order_page(client, box_office):
    order = make_order(EventFactory(), "Grace Hopper")
    page = client.get(f"{ORDERS}{order.pk}/refund/")
    assert page.status_code == 200
    assert "Refund tickets of order" in page.content.decode()


def test_box_office_cannot_touch_the_programme_the_door_or_users(client, box_office):
    event = EventFactory()
    session = SessionFactory(event=event)
    for url in [
        EVENTS,
        event_url(event),
        "/admin/events/session/",
        f"/admin/events/session/{session.pk}/change/",
        "/admin/events/session/add/",
        "/admin/speakers/speaker/",
        "/admin/auth/user/",
        CHECK_IN,
    ]:
        assert client.get(url).status_code == 403, url
    response = client.post(f"/admin/events/session/{session.pk}/change/", {"title": "Hijacked"})
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.title != "Hijacked"
    ticket = make_order(event, "Grace Hopper").tickets.get()
    assert client.post(f"{TICKETS}{ticket.pk}/change/", {"attendee_name": "Someone Else"}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.attendee_name == "Grace Hopper"


# --- the sales summary on the index ---


def index_figures(client) -> dict[str, str]:
    body = client.get("/admin/").content.decode()
    found = dict(re.findall(r'data-figure="([a-z-]+)">(.*?)</dd>', body, re.S))
    return {name: " ".join(re.sub(r"<[^>]+>", " ", value).split()) for name, value in found.items()}


@pytest.fixture
def sales():
    """Capacity 20 at £5.50: 4 seats paid for, one of them refunded (3 sold), 2 held, 1 checked in; of the emails,
    1 failing, 1 waiting, 1 being sent right now and 1 no longer owed."""
    event = EventFactory(capacity=20, ticket_price_pence=550)
    paid = make_order(event, "A", "B")
    make_order(event, "C", status=OrderStatus.PENDING, hold_expires_at=timezone.now() + timedelta(minutes=5))
    make_order(event, "D", status=OrderStatus.PENDING, hold_expires_at=timezone.now() + timedelta(minutes=5))
    refunded = make_order(event, "E")
    RefundFactory(order=refunded, tickets=list(refunded.tickets.all()))
    paid.tickets.filter(attendee_name="A").update(checked_in_at=timezone.now())
    Email.objects.create(order=paid, kind=Email.Kind.CONFIRMATION, attempts=2, last_error="mail server down")
    Email.objects.create(order=refunded, kind=Email.Kind.REFUND, attempts=0)  # waiting: not failed (yet)
    being_sent = make_order(event, "G")
    Email.objects.create(order=being_sent, kind=Email.Kind.CONFIRMATION, attempts=1, claimed_at=timezone.now())
    sent = make_order(event, "F", status=OrderStatus.REFUNDED)
    Email.objects.create(order=sent, kind=Email.Kind.CONFIRMATION, attempts=3, last_error="x")  # owed no more
    return event


def test_the_index_shows_the_sales_summary_to_organisers(client, organiser, sales):
    assert index_figures(client) == {
        "sold": "3",
        "held": "2",
        "left": "15 of 20",
        "revenue": "£16.50",
        "refunded": "2 (£11)",
        "checked-in": "1 of 3",
        "failed-emails": "1",
    }


def test_failed_emails_link_to_the_orders_whose_email_failed(client, organiser, sales):
    body = client.get("/admin/").content.decode()
    link = re.search(r'data-figure="failed-emails"><a href="([^"]+)">1</a>', body).group(1).replace("&amp;", "&")
    assert link == f"{ORDERS}?email=failed&event__id__exact={sales.pk}"
    [order] = listed(client.get(link))
    assert order.emails.get().last_error == "mail server down"


def test_box_office_sees_the_summary_but_door_staff_and_programme_editors_do_not(client, sales):
    client.force_login(staff_user("desk", "Box office"))
    assert index_figures(client)["sold"] == "3"
    for username, group in [("door", "Door staff"), ("editor", "Programme editors")]:
        client.force_login(staff_user(username, group))
        body = client.get("/admin/").content.decode()
        assert index_figures(client) == {}, group
        assert "Sales: " not in body, group


# --- an order's page shows only what applies to it ---


def order_labels(client, order: Order) -> set[str]:
    body = client.get(change_url(order)).content.decode()
    return set(re.findall(r"<label>([^<]+):</label>", body))


def test_a_paid_order_shows_no_hold_no_release_no_refund_figures_and_no_empty_stripe_ids(client, organiser):
    order = OrderFactory(paid=True, quantity=2)
    labels = order_labels(client, order)
    assert {"Created", "Paid", "Unit price", "Total", "Stripe payment intent id"} <= labels
    for absent in ["Hold expires", "Released", "Refunded", "Remaining", "Stripe refund id"]:
        assert absent not in labels, absent
    assert "Stripe checkout session id" not in labels  # none recorded for this one


def test_a_pending_order_shows_its_hold_and_nothing_of_payment(client, organiser):
    order = OrderFactory(stripe_checkout_session_id="cs_test_pending")
    labels = order_labels(client, order)
    assert {"Created", "Hold expires", "Stripe checkout session id"} <= labels
    for absent in ["Paid", "Released", "Refunded", "Remaining", "Stripe payment intent id", "Stripe refund id"]:
        assert absent not in labels, absent


def test_a_released_order_says_when_and_an_order_paid_after_release_does_not(client, organiser):
    cancelled = OrderFactory(cancelled=True)
    labels = order_labels(client, cancelled)
    assert "Released" in labels
    assert "Hold expires" not in labels
    paid_late = OrderFactory(paid=True, released_at=timezone.now())
    assert "Released" not in order_labels(client, paid_late)


def test_a_refunded_order_shows_its_refund(client, organiser):
    order = OrderFactory(refunded=True)
    labels = order_labels(client, order)
    assert {"Paid", "Refunded", "Remaining", "Stripe refund id"} <= labels
    assert "Hold expires" not in labels
