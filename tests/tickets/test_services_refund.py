"""Refunds: an organiser's refund_order (paid orders only) records a request and leaves Stripe to the process_refund
task; the automatic refund of a payment we could not honour; retries by the task engine while Stripe doesn't answer;
and refunds Stripe reports to us, including ones made in Stripe's dashboard.

Tasks run on the test backend (tests/task_backend.py): enqueued after commit, so a test commits with
`django_capture_on_commit_callbacks(execute=True)` (or `committed()`), and a retry waits in the queue until the test
makes it due (`make_due`) and runs it (`run_due_tasks`), as a worker would.
"""

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.factories import EventFactory, OrderFactory
from tests.task_backend import run_due_tasks
from tests.tickets.helpers import (
    deliver,
    expire_hold,
    last_event,
    paid_order,
    pay_after_release,
    pay_at_stripe,
)
from tickets import payments, services
from tickets.checkin import Outcome, check_in_ticket
from tickets.exceptions import NotRefundable
from tickets.models import Email, Order, OrderLog, OrderStatus, Refund, RefundStatus
from tickets.tasks import RETRY_DELAYS_SECONDS

pytestmark = pytest.mark.django_db

PROCESS_REFUND = "tickets.services.process_refund"
REFUND_OWED = "tickets.services.refund_unhonourable_payment_task"


def committed():
    """The test's transaction as if committed: the on_commit callbacks registered inside run on leaving (the tasks
    they enqueue run at once on the test backend), and so do those the tasks register in turn."""
    return TestCase.captureOnCommitCallbacks(execute=True)


@contextmanager
def stripe_down(double):
    """Stripe can't be reached while inside: the double is stopped, so new connections are refused, and a request
    on a connection kept open from before is dropped unanswered (with a latency set, its handler thread checks
    for the stop first). Started again on leaving, on the same port, with what it knew."""
    double.stop()
    double.latency_seconds = 0.01
    try:
        yield
    finally:
        double.latency_seconds = 0
        double.start()


def refund_in_stripes_dashboard(stripe_double, order: Order, **params) -> dict:
    payments.client().v1.refunds.create(params={"payment_intent": order.stripe_payment_intent_id, **params})
    return last_event(stripe_double, "refund.created")


def task_results(path: str, status: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=path, status=status).order_by("enqueued_at"))


def make_due(result: DBTaskResult) -> None:
    """Time passes: the queued task (a retry waiting out its backoff) is due now."""
    DBTaskResult.objects.filter(pk=result.pk).update(run_after=timezone.now() - timedelta(seconds=1))


def assert_waits(result: DBTaskResult, seconds: int) -> None:
    """The queued task runs `seconds` (its backoff) after it was enqueued, not before."""
    assert result.status == TaskResultStatus.READY
    assert result.run_after > timezone.now()
    waits = (result.run_after - result.enqueued_at).total_seconds()
    assert seconds - 1 <= waits <= seconds + 1, waits


# --- refund_order: an organiser refunds a paid order ---


def test_our_own_refund_and_its_event_refund_once_and_email_once(
    client, stripe_double, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = paid_order(stripe_double, event=EventFactory(capacity=10), quantity=2)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True):  # Stripe reports our own refund back
        assert deliver(client, stripe_double, last_event(stripe_double, "refund.created")).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.refunds.count() == 1
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1


def test_refund_order_records_a_request_and_asks_stripe_only_after_commit(
    stripe_double, django_capture_on_commit_callbacks
):
    order = paid_order(stripe_double, event=EventFactory(capacity=10), quantity=2)
    organiser = User.objects.create_user("ops", "ops@example.com", "pw")
    with django_capture_on_commit_callbacks() as callbacks:  # not run: the organiser's transaction is still open
        refund = services.refund_order(order_id=order.pk, by=organiser, note="asked by phone")
    assert (refund.status, refund.amount_pence, refund.made_by, refund.attempts) == (
        RefundStatus.REQUESTED,
        1000,
        organiser,
        0,
    )
    assert sorted(refund.tickets.values_list("pk", flat=True)) == sorted(order.tickets.values_list("pk", flat=True))
    assert stripe_double.events("refund.created") == []
    assert not DBTaskResult.objects.exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID

    for callback in callbacks:  # the commit
        callback()
    [result] = task_results(PROCESS_REFUND, TaskResultStatus.SUCCESSFUL)
    assert result.args_kwargs == {"args": [refund.pk], "kwargs": {"note": "asked by phone"}}
    assert result.return_value == RefundStatus.SUCCEEDED
    assert len(stripe_double.events("refund.created")) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.log.get(to_status=OrderStatus.REFUNDED).note == "asked by phone"


def test_a_refund_stripe_reports_failed_leaves_the_booking_paid_and_says_why(
    stripe_double, monkeypatch, django_capture_on_commit_callbacks
):
    order = OrderFactory(paid=True, quantity=2)
    failed = type("Refund", (), {"id": "re_failed", "status": "failed"})()
    monkeypatch.setattr(payments.client().v1.refunds, "create", lambda **kwargs: failed)
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_order(order_id=order.pk)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert "re_failed failed" in refund.last_error
    [result] = task_results(PROCESS_REFUND, TaskResultStatus.FAILED)
    assert result.exception_class_path == "tickets.exceptions.PaymentError"
    assert "re_failed failed" in result.traceback
    assert not DBTaskResult.objects.ready().exists()  # refused: not tried again
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.refundable_tickets().count() == 2


def paid_at_stripe_but_still_pending(stripe_double) -> Order:
    order = OrderFactory(event=EventFactory(capacity=5), quantity=2)
    pay_at_stripe(stripe_double, order)  # its webhook has not arrived yet
    return order


def released_with_its_late_payment_owed_back(stripe_double) -> Order:
    order, _ = pay_after_release(stripe_double, capacity=2, rival_quantity=2)
    services.fulfil_checkout(session_id=order.stripe_checkout_session_id)  # its automatic refund not made yet
    return order


def cancelled_with_its_late_payment_owed_back(stripe_double) -> Order:
    event = EventFactory(capacity=2)
    order = OrderFactory(event=event, quantity=2)
    services.start_checkout(order=order)
    expire_hold(order)
    services.reserve_tickets(event=event, buyer_name="Rival", buyer_email="rival@example.com", quantity=2)
    pay_at_stripe(stripe_double, order)
    services.fulfil_checkout(session_id=order.stripe_checkout_session_id)  # its automatic refund not made yet
    return order


def refunded_already(stripe_double) -> Order:
    order = paid_order(stripe_double, event=EventFactory(capacity=5), quantity=2)
    with committed():
        services.refund_order(order_id=order.pk)
    return order


@pytest.mark.parametrize(
    ("make_order", "status"),
    [
        (paid_at_stripe_but_still_pending, OrderStatus.PENDING),
        (released_with_its_late_payment_owed_back, OrderStatus.EXPIRED),
        (cancelled_with_its_late_payment_owed_back, OrderStatus.CANCELLED),
        (refunded_already, OrderStatus.REFUNDED),
    ],
)
def test_refund_order_refuses_an_order_that_is_not_paid_and_sends_nothing_to_stripe(
    stripe_double, django_capture_on_commit_callbacks, make_order, status
):
    """Guards against refund_order without its paid-only check (`if not order.is_refundable: raise NotRefundable`),
    called directly, not through the admin: a pending, released or refunded order raises NotRefundable, no refund
    is requested (so no task asks Stripe, even once committed), and the order stays as it was."""
    order = make_order(stripe_double)
    order.refresh_from_db()
    assert order.status == status
    refunds_at_stripe = stripe_double.events("refund.created")
    requests = order.refunds.count()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(NotRefundable, match="only paid orders can be refunded"),  # not for want of tickets
    ):
        services.refund_order(order_id=order.pk)

    assert stripe_double.events("refund.created") == refunds_at_stripe
    assert order.refunds.count() == requests
    assert not DBTaskResult.objects.filter(task_path=PROCESS_REFUND).exclude(status="SUCCESSFUL").exists()
    unchanged = Order.objects.get(pk=order.pk)
    assert (unchanged.status, unchanged.stripe_refund_id, unchanged.refunded_at) == (
        order.status,
        order.stripe_refund_id,
        order.refunded_at,
    )
    refund_notices = 1 if status == OrderStatus.REFUNDED else 0  # only the one of the refund already made
    assert Email.objects.filter(order=order, kind=Email.Kind.REFUND).count() == refund_notices


# --- running process_refund again (a duplicate task, a worker recovered) refunds once ---


def test_running_process_refund_twice_refunds_once_and_emails_once(stripe_double, django_capture_on_commit_callbacks):
    order = paid_order(stripe_double, event=EventFactory(capacity=5), quantity=2)
    refund = services.refund_order(order_id=order.pk)  # its own task is left uncommitted: we run it by hand
    with django_capture_on_commit_callbacks(execute=True):
        assert services.process_refund.call(refund.pk) == RefundStatus.SUCCEEDED
        assert services.process_refund.call(refund.pk) == RefundStatus.SUCCEEDED
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (RefundStatus.SUCCEEDED, 1)  # the second run did not ask again
    assert len(stripe_double.events("refund.created")) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert OrderLog.objects.filter(order=order, to_status=OrderStatus.REFUNDED).count() == 1
    assert [message.to for message in mail.outbox] == [[order.buyer_email]]


@pytest.fixture
def no_pause(monkeypatch):
    """payments.refund_payment asks again at once, not after its pause, when Stripe's answer is lost."""
    monkeypatch.setattr(payments, "REFUND_RECHECK_PAUSE_SECONDS", 0)


@pytest.mark.django_db(transaction=True)
def test_process_refund_on_two_workers_at_once_refunds_once_and_emails_once(stripe_double, no_pause):
    """Two workers run the same requested refund at once (its retry, and a copy a sweep enqueued): both find it
    requested and both ask Stripe, their requests overlapping (the double answers 1 s late), with the refund's one
    key, so Stripe makes one refund; its answer is recorded once, under the order lock, and the buyer emailed once.
    Each worker has its own database connection, and commits: on PostgreSQL, a missing lock or key shows."""
    order = paid_order(stripe_double, event=EventFactory(capacity=5), quantity=2)
    with stripe_down(stripe_double):  # when the refund is asked for: nothing is made there
        refund = services.refund_order(order_id=order.pk)  # committed: its task runs at once, and fails
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (RefundStatus.REQUESTED, 1)
    assert stripe_double.events("refund.created") == []
    mail.outbox.clear()  # the confirmation

    stripe_double.latency_seconds = 1.0
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def worker() -> None:
        try:
            start.wait(timeout=30)
            outcomes.append(services.process_refund.call(refund.pk))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            outcomes.append(exc)
        finally:
            connection.close()  # this thread's own connection

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)

    assert outcomes == [RefundStatus.SUCCEEDED, RefundStatus.SUCCEEDED]
    refund.refresh_from_db()
    assert refund.attempts == 3  # both workers really asked Stripe (after the first, failed, attempt)
    assert refund.status == RefundStatus.SUCCEEDED
    [made] = stripe_double.events("refund.created")
    assert refund.stripe_refund_id == made["data"]["object"]["id"]
    order.refresh_from_db()
    assert (order.status, order.refunded_pence) == (OrderStatus.REFUNDED, 1000)
    assert OrderLog.objects.filter(order=order, to_status=OrderStatus.REFUNDED).count() == 1
    assert Email.objects.filter(order=order, kind=Email.Kind.REFUND).count() == 1
    assert [message.to for message in mail.outbox] == [[order.buyer_email]]


# --- a refund whose answer is lost is tried again by the task engine, with backoff ---


def two_ticket_booking(stripe_double) -> Order:
    """A £10 booking of two £5 tickets, paid at the Stripe double; capacity 3."""
    return paid_order(stripe_double, event=EventFactory(capacity=3, ticket_price_pence=500), quantity=2)


def test_a_refund_whose_answer_is_lost_is_asked_again_and_reports_the_truth(
    stripe_double, no_pause, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    stripe_double.lose_responses("/v1/refunds", times=2)  # the library's own try and its retry both time out
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_order(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1  # asked three times, refunded once
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == (RefundStatus.SUCCEEDED, 1, "")
    assert [r.status for r in DBTaskResult.objects.filter(task_path=PROCESS_REFUND)] == [TaskResultStatus.SUCCESSFUL]


def test_a_refund_whose_answer_is_lost_is_retried_by_the_engine_with_backoff_and_settles_once(
    stripe_double, no_pause, django_capture_on_commit_callbacks
):
    """No answer from Stripe (each ask of the task times out, twice over): the attempt is recorded failed with its
    traceback, the refund keeps the error and the count, and the task is enqueued again to run after the backoff
    (RETRY_DELAYS_SECONDS: 30 s, then 2 minutes). Nothing is called refunded until Stripe answers; then the
    refund settles once: one refund at Stripe (the same key each time), one email."""
    order = two_ticket_booking(stripe_double)
    stripe_double.lose_responses("/v1/refunds", times=8)  # two attempts of the task, each asking twice, twice over
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_order(order_id=order.pk)

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (RefundStatus.REQUESTED, 1)
    assert "Stripe did not answer in time" in refund.last_error
    [failed] = task_results(PROCESS_REFUND, TaskResultStatus.FAILED)
    assert failed.exception_class_path == "tickets.exceptions.RefundUnconfirmed"
    assert failed.traceback.startswith("Traceback")
    assert "don't know yet whether the refund went through" in failed.traceback
    [retry] = task_results(PROCESS_REFUND, TaskResultStatus.READY)
    assert retry.args_kwargs == {"args": [refund.pk], "kwargs": {"note": "", "attempt": 2}}
    assert_waits(retry, RETRY_DELAYS_SECONDS[0])
    assert run_due_tasks() == 0  # not due yet
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # nothing recorded as refunded before Stripe says so
    assert not order.tickets.void().exists()
    with pytest.raises(NotRefundable):  # its tickets are being refunded: no second refund of them
        services.refund_order(order_id=order.pk)
    assert services.refund_owed_payments(now=timezone.now() + timedelta(hours=1)) == 0  # the engine's to retry

    make_due(retry)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_due_tasks() == 1  # the second attempt: no answer again
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (RefundStatus.REQUESTED, 2)
    assert len(task_results(PROCESS_REFUND, TaskResultStatus.FAILED)) == 2
    [third] = task_results(PROCESS_REFUND, TaskResultStatus.READY)
    assert third.args_kwargs["kwargs"]["attempt"] == 3
    assert_waits(third, RETRY_DELAYS_SECONDS[1])  # backing off
    assert mail.outbox == []

    make_due(third)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_due_tasks() == 1
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == (RefundStatus.SUCCEEDED, 3, "")
    [done] = task_results(PROCESS_REFUND, TaskResultStatus.SUCCESSFUL)
    assert done.return_value == RefundStatus.SUCCEEDED
    assert not DBTaskResult.objects.ready().exists()
    order.refresh_from_db()
    assert (order.status, order.refunded_pence) == (OrderStatus.REFUNDED, 1000)
    assert len(stripe_double.events("refund.created")) == 1  # asked six times, refunded once
    assert [message.to for message in mail.outbox] == [[order.buyer_email]]


def test_a_lost_answer_is_settled_by_stripes_webhook_too_and_the_retry_then_does_nothing(
    client, stripe_double, no_pause, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    stripe_double.lose_responses("/v1/refunds", times=4)
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "refund.created"))
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.refunds.count() == 1  # matched to our request by the key in its metadata, not a second row
    [retry] = task_results(PROCESS_REFUND, TaskResultStatus.READY)
    make_due(retry)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_due_tasks() == 1
    assert Refund.objects.get().attempts == 1  # answered already: Stripe not asked again
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1


def test_a_refund_stripe_refuses_fails_at_once_and_frees_its_tickets_for_another_try(
    stripe_double, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    paid_with = order.stripe_payment_intent_id
    Order.objects.filter(pk=order.pk).update(stripe_payment_intent_id="pi_unknown")
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_order(order_id=order.pk)
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (RefundStatus.FAILED, 1)
    assert "Stripe refused the refund" in refund.last_error
    [failed] = task_results(PROCESS_REFUND, TaskResultStatus.FAILED)
    assert failed.exception_class_path == "tickets.exceptions.PaymentError"
    assert "No such payment_intent" in failed.traceback
    assert not DBTaskResult.objects.ready().exists()  # refused: not tried again by itself
    assert order.refundable_tickets().count() == 2
    assert Order.objects.get(pk=order.pk).refunded_pence == 0
    assert mail.outbox == []

    Order.objects.filter(pk=order.pk).update(stripe_payment_intent_id=paid_with)  # the organiser tries again
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk)
    order.refresh_from_db()
    assert (order.status, order.refunded_pence) == (OrderStatus.REFUNDED, 1000)
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1


# --- refund_owed_payments: enqueues the refund tasks that were lost ---


def test_a_refund_request_whose_task_was_lost_is_enqueued_again_after_five_minutes(
    stripe_double, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    refund = services.refund_order(order_id=order.pk)  # its enqueue is lost: the process stopped at the commit
    assert not DBTaskResult.objects.exists()
    assert services.refund_owed_payments() == 0  # too recent: its task may be on its way
    later = timezone.now() + services.NEVER_ASKED_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.refund_owed_payments(now=later) == 1
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (RefundStatus.SUCCEEDED, 1)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1
    assert len(mail.outbox) == 1
    assert services.refund_owed_payments(now=later) == 0  # nothing lost any more


def test_refund_owed_payments_does_not_enqueue_again_a_refund_whose_task_is_still_queued(
    stripe_double, settings, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # production's: no worker runs it
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_order(order_id=order.pk)
    later = timezone.now() + services.NEVER_ASKED_AFTER + timedelta(seconds=1)
    for minute in range(3):  # the sweep runs every minute while the worker is down
        services.refund_owed_payments(now=later + timedelta(minutes=minute))
    [queued] = task_results(PROCESS_REFUND, TaskResultStatus.READY)
    assert queued.args_kwargs["args"] == [refund.pk]


# --- the automatic refund of a payment we could not honour ---


def test_an_automatic_refund_while_stripe_is_down_is_retried_by_the_engine_and_apologises_once(
    client, stripe_double, no_pause, django_capture_on_commit_callbacks
):
    order, completed = pay_after_release(stripe_double, capacity=2, rival_quantity=2)
    with django_capture_on_commit_callbacks() as commit:
        assert deliver(client, stripe_double, completed).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert order.stripe_payment_intent_id  # the money is known about: owed back
    with stripe_down(stripe_double):  # when the refund task runs
        for callback in commit:
            callback()
    [failed] = task_results(REFUND_OWED, TaskResultStatus.FAILED)
    assert failed.exception_class_path == "tickets.exceptions.RefundUnconfirmed"
    [retry] = task_results(REFUND_OWED, TaskResultStatus.READY)
    assert retry.args_kwargs == {"args": [order.pk], "kwargs": {"attempt": 2}}
    assert_waits(retry, RETRY_DELAYS_SECONDS[0])
    [refund] = order.refunds.all()
    assert (refund.status, refund.attempts) == (RefundStatus.REQUESTED, 1)
    assert services.refund_owed_payments(now=timezone.now() + timedelta(hours=1)) == 0  # the engine's to retry

    make_due(retry)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_due_tasks() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.refunds.get() == refund  # taken up with its key, not asked for again
    assert len(stripe_double.events("refund.created")) == 1
    assert len([m for m in mail.outbox if "Sorry" in m.subject]) == 1


def test_an_automatic_refund_whose_task_was_lost_is_enqueued_again_by_refund_owed_payments(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order, completed = pay_after_release(stripe_double, capacity=2, rival_quantity=2)
    deliver(client, stripe_double, completed)  # not committed: its refund task is lost
    assert Order.objects.filter(pk=order.pk).owing_refunds().exists()
    assert services.refund_owed_payments() == 0  # too recent
    later = timezone.now() + services.NEVER_ASKED_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.refund_owed_payments(now=later) == 1
    [done] = task_results(REFUND_OWED, TaskResultStatus.SUCCESSFUL)
    assert done.return_value == OrderStatus.REFUNDED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1
    assert len([m for m in mail.outbox if "Sorry" in m.subject]) == 1
    assert services.refund_owed_payments(now=later) == 0


# --- refunds Stripe reports (refund.* webhooks) ---


def test_a_refund_made_in_stripes_dashboard_refunds_the_booking(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order = paid_order(stripe_double, event=EventFactory(capacity=10), quantity=2)
    refunded = refund_in_stripes_dashboard(stripe_double, order)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_double, refunded).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.stripe_refund_id == refunded["data"]["object"]["id"]
    assert [message.subject for message in mail.outbox if "refund" in message.subject.lower()]


def test_a_partial_refund_in_stripe_keeps_the_booking_paid(client, stripe_double):
    order = paid_order(stripe_double, event=EventFactory(capacity=10), quantity=2)
    deliver(client, stripe_double, refund_in_stripes_dashboard(stripe_double, order, amount=100))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_refund_we_owe_made_in_stripes_dashboard_settles_it_and_apologises(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order, completed = pay_after_release(stripe_double, capacity=2, rival_quantity=2)
    deliver(client, stripe_double, completed)  # not committed: the automatic refund is not made
    order.refresh_from_db()
    assert (order.status, bool(order.stripe_payment_intent_id)) == (OrderStatus.EXPIRED, True)  # a refund owed
    assert "refunding it in full" in client.get(order.get_absolute_url()).content.decode()
    assert "nothing was charged" not in client.get(order.get_absolute_url()).content.decode()

    refunded = refund_in_stripes_dashboard(stripe_double, order)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, refunded)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert [m for m in mail.outbox if "refunded your payment" in m.body]
    later = timezone.now() + services.NEVER_ASKED_AFTER + timedelta(seconds=1)
    assert services.refund_owed_payments(now=later) == 0  # nothing owed any more
    with django_capture_on_commit_callbacks(execute=True):  # nor does the automatic refund's task, if it comes
        services.refund_unhonourable_payment_task.enqueue(order.pk)
    assert task_results(REFUND_OWED, TaskResultStatus.SUCCESSFUL)[0].return_value == OrderStatus.REFUNDED
    assert len(stripe_double.events("refund.created")) == 1
    assert len([m for m in mail.outbox if "Sorry" in m.subject]) == 1


# --- refunds add up: every refund recorded with its amount, partial ones too, whoever made it ---


def door(order: Order) -> list[str]:
    """Each ticket of the order scanned at the door, in order: what the door says."""
    return [check_in_ticket(reference=ticket.reference, event=order.event).outcome for ticket in order.tickets.all()]


def test_two_partial_refunds_in_stripes_dashboard_refund_the_booking_and_stop_its_tickets(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    first = refund_in_stripes_dashboard(stripe_double, order, amount=500)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_double, first).status_code == 200
        assert deliver(client, stripe_double, first).status_code == 200  # Stripe delivers again
    services.record_stripe_refund(refund_id=first["data"]["object"]["id"])  # say, its refund.updated: still once
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert (order.refunded_pence, order.remaining_pence) == (500, 500)
    [refund] = order.refunds.all()
    assert (refund.amount_pence, refund.status, refund.made_by_label) == (500, "succeeded", "Stripe dashboard")
    assert not order.tickets.void().exists()  # which ticket £5 paid for is for a person to say
    assert Email.objects.filter(order=order, kind=Email.Kind.REFUND).count() == 0
    [partial] = mail.outbox  # once, though Stripe delivered it twice
    assert "We have refunded £5 of your booking" in partial.body
    assert "Cancelled by this refund" not in partial.body  # both tickets still get in

    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, refund_in_stripes_dashboard(stripe_double, order, amount=500))
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert (order.refunded_pence, order.remaining_pence) == (1000, 0)
    assert order.refunds.count() == 2
    assert order.tickets.void().count() == 2
    assert door(order) == [Outcome.NOT_VALID, Outcome.NOT_VALID]
    assert [m.subject for m in mail.outbox] == [
        f"£5 refunded on your {order.event.name} booking {order.reference}",  # the first refund, partial
        f"Your {order.event.name} booking {order.reference} has been refunded",  # the second settles the order
    ]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotRefundable):
        services.refund_order(order_id=order.pk)  # not Stripe's "already refunded"
    assert len(stripe_double.events("refund.created")) == 2


def test_refunding_chosen_tickets_refunds_their_price_voids_them_and_frees_their_seats(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    organiser = User.objects.create_user("ops", "ops@example.com", "pw")
    grace, alan = order.tickets.all()
    assert services.seats_left(order.event) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk, ticket_ids=[alan.pk], by=organiser)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, stripe_double, last_event(stripe_double, "refund.created"))  # our own, reported back
    order.refresh_from_db()
    [at_stripe] = [event["data"]["object"] for event in stripe_double.events("refund.created")]
    assert at_stripe["amount"] == 500
    assert order.status == OrderStatus.PAID
    [refund] = order.refunds.all()
    assert (refund.amount_pence, refund.stripe_refund_id, refund.made_by) == (500, at_stripe["id"], organiser)
    assert list(refund.tickets.all()) == [alan]
    assert (order.refunded_pence, order.remaining_pence) == (500, 500)
    assert services.seats_left(order.event) == 2  # Alan's seat is back on sale
    assert door(order) == [Outcome.CHECKED_IN, Outcome.NOT_VALID]
    [partial] = mail.outbox  # the booking stands: the buyer hears what came back and which ticket it cancelled
    assert partial.subject == f"£5 refunded on your {order.event.name} booking {order.reference}"
    cancelled, still_valid = partial.body.split("Still valid")
    assert f"- {alan.attendee_name} ({alan.short_reference})" in cancelled
    assert f"- {grace.attendee_name} ({grace.short_reference})" in still_valid
    assert alan.short_reference not in still_valid

    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk, by=organiser)  # the rest: Grace's ticket, though used
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert [e["data"]["object"]["amount"] for e in stripe_double.events("refund.created")] == [500, 500]
    assert services.seats_left(order.event) == 3
    assert [message.subject for message in mail.outbox[1:]] == [
        f"Your {order.event.name} booking {order.reference} has been refunded"
    ]


def test_refund_order_refuses_tickets_being_refunded_refunded_already_or_of_another_order(
    stripe_double, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    other = two_ticket_booking(stripe_double)
    grace, alan = order.tickets.all()
    services.refund_order(order_id=order.pk, ticket_ids=[grace.pk])  # requested; its task not run yet
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotRefundable):
        services.refund_order(order_id=order.pk, ticket_ids=[grace.pk])  # being refunded
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order_id=order.pk, ticket_ids=[alan.pk])
    for chosen in ([alan.pk], [other.tickets.first().pk], []):  # refunded already, another order's, none
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotRefundable):
            services.refund_order(order_id=order.pk, ticket_ids=chosen)
    assert [e["data"]["object"]["amount"] for e in stripe_double.events("refund.created")] == [500]
    assert order.refunds.count() == 2


def test_a_partial_refund_in_the_dashboard_caps_what_refunding_the_tickets_then_asks(
    client, stripe_double, django_capture_on_commit_callbacks
):
    order = two_ticket_booking(stripe_double)
    deliver(client, stripe_double, refund_in_stripes_dashboard(stripe_double, order, amount=300))
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_order(order_id=order.pk)
    assert refund.amount_pence == 700
    assert [e["data"]["object"]["amount"] for e in stripe_double.events("refund.created")] == [300, 700]
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.refunded_pence == 1000
