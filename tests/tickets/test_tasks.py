"""Background work on the task engine, with the real worker (`manage.py db_worker`) where it matters: nothing slow
happens in a request, a worker killed mid-task leaves work that is done exactly once, and periodic work is
enqueued once however many schedulers run."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import EventFactory, OrderFactory
from tests.task_backend import run_due_tasks
from tests.tickets.helpers import deliver, pay_at_stripe
from tickets import emails, services, tasks
from tickets.models import Email, OrderStatus

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
QUEUE_ONLY = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # as production: a worker runs them


class HangingMailServer:
    """A mail server that accepts connections and never says a word (a hung SMTP server)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.listener.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def hanging_smtp(settings):
    server = HangingMailServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 10
    yield server
    server.close()


def test_the_webhook_answers_at_once_while_the_mail_server_hangs(
    client, stripe_double, settings, hanging_smtp, django_capture_on_commit_callbacks
):
    settings.TASKS = QUEUE_ONLY
    order = OrderFactory(event=EventFactory(capacity=10), quantity=2)
    completed = pay_at_stripe(stripe_double, order)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_double, completed).status_code == 200
    assert time.monotonic() - started < 1.5  # the mail server would have held it for EMAIL_TIMEOUT (10 s)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    queued = DBTaskResult.objects.get()
    assert (queued.task_path, queued.status) == ("tickets.emails.send_order_email", "READY")
    assert hanging_smtp.connections == []  # nobody has even tried the mail server yet
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Your confirmation is on its way to" in page
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run_due_tasks() == 1
    assert len(mail.outbox) == 1
    page = client.get(order.get_absolute_url()).content.decode()
    assert "We’ve emailed your confirmation to" in page


def test_find_my_booking_does_the_same_work_whether_or_not_the_address_has_bookings(client, settings):
    """The request only enqueues: looking the orders up, and the mail server, happen in the task."""
    settings.TASKS = QUEUE_ONLY
    OrderFactory(paid=True, buyer_email="known@example.com")
    queries = {}
    for address in ("known@example.com", "nobody@example.com"):
        client.get("/tickets/find/")
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/tickets/find/", {"email": address}, follow=True)
        assert response.status_code == 200
        assert "If we have bookings for that address" in response.content.decode()
        queries[address] = [query["sql"] for query in captured if "tickets_order" in query["sql"]]
    assert queries == {"known@example.com": [], "nobody@example.com": []}
    assert mail.outbox == []
    assert DBTaskResult.objects.filter(task_path="tickets.emails.send_booking_links").count() == 2
    assert run_due_tasks() == 2
    assert [message.to for message in mail.outbox] == [["known@example.com"]]


def test_periodic_work_is_enqueued_once_while_a_run_of_it_waits(settings):
    """Two schedulers (two machines) ticking at once enqueue the task once; the next tick, after it ran, again."""
    settings.TASKS = QUEUE_ONLY
    assert tasks.enqueue_periodic(services.release_expired_holds_task) is True
    assert tasks.enqueue_periodic(services.release_expired_holds_task) is False
    assert run_due_tasks() == 1
    assert tasks.enqueue_periodic(services.release_expired_holds_task) is True


def _database_url() -> str:
    """The test database, for a worker in another process."""
    conn = connection.settings_dict
    if conn["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{conn['NAME']}"
    return f"postgres://{conn['USER']}@{conn['HOST'] or '127.0.0.1'}:{conn['PORT'] or 5432}/{conn['NAME']}"


def _start_worker(log: Path, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netroots.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "TASK_STALLED_AFTER_SECONDS": str(django_settings.TASK_STALLED_AFTER_SECONDS),
        **env,
    }
    environment.pop("REDIS_URL", None)
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1"]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=out, start_new_session=True)


def _wait_for(condition, *, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {seconds} s. Worker log:\n{log.read_text()[-3000:]}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_leaves_an_email_that_is_sent_exactly_once(settings, hanging_smtp, tmp_path):
    settings.TASKS = QUEUE_ONLY
    settings.TASK_STALLED_AFTER_SECONDS = 2
    order = OrderFactory(paid=True)
    email = Email.objects.create(order=order, kind=Email.Kind.CONFIRMATION)
    emails.send_order_email.enqueue(email.pk)
    log, outbox = tmp_path / "worker.log", tmp_path / "outbox"
    smtp = {"DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_TIMEOUT": "60"}
    smtp |= {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(hanging_smtp.port)}
    first = _start_worker(log, **smtp)
    try:
        _wait_for(lambda: hanging_smtp.connections, seconds=30, what="the worker reaching the mail server", log=log)
        assert DBTaskResult.objects.get().status == "RUNNING"
        assert Email.objects.get(pk=email.pk).claimed_at is not None
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # mid-send: the task stays "running", the email claimed
        first.wait(timeout=10)
    assert tasks.recover_stalled_tasks() == 0  # not yet: it may still be running somewhere
    time.sleep(settings.TASK_STALLED_AFTER_SECONDS + 0.5)
    assert tasks.recover_stalled_tasks() == 1
    assert tasks.recover_stalled_tasks() == 0  # once
    second = _start_worker(
        log, DJANGO_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend", EMAIL_FILE_PATH=str(outbox)
    )
    try:
        _wait_for(lambda: Email.objects.get(pk=email.pk).sent_at, seconds=30, what="the email being sent", log=log)
        time.sleep(1)  # would a second copy go out?
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=20)
    sent = list(outbox.iterdir())
    assert len(sent) == 1
    assert order.reference in sent[0].read_text()
    email.refresh_from_db()
    assert (email.attempts, email.claimed_at, email.last_error) == (2, None, "")
    results = sorted(DBTaskResult.objects.values_list("status", "exception_class_path"))
    assert results == [("FAILED", "tickets.tasks.WorkerStopped"), ("SUCCESSFUL", "")]


def test_a_stalled_task_is_recovered_only_after_the_stall_time(settings):
    settings.TASKS = QUEUE_ONLY
    settings.TASK_STALLED_AFTER_SECONDS = 600
    result = services.release_expired_holds_task.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(status="RUNNING", started_at=timezone.now())
    assert tasks.recover_stalled_tasks() == 0
    DBTaskResult.objects.filter(pk=result.id).update(started_at=timezone.now() - timedelta(seconds=601))
    assert tasks.recover_stalled_tasks() == 1
    assert DBTaskResult.objects.get(pk=result.id).status == "FAILED"
    assert DBTaskResult.objects.filter(status="READY", task_path=result.task.module_path).count() == 1
