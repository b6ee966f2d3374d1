"""Background work on Django's task engine (the django-tasks backport, its database backend django-tasks-db).

Every side effect that may be slow or fail (a call to Stripe, an email) runs as a task, never in a request:
- `enqueue_after_commit` queues a task once the transaction that asks for it commits (never for a rolled-back
  change); the tasks themselves live beside the work they do (tickets.emails, tickets.services).
- A task that fails is tried again later by the engine, not by a loop of ours: `retry_later` enqueues the same task
  with `run_after` set by RETRY_DELAYS_SECONDS (backoff), then the failure is re-raised so the engine records it
  as failed, with its traceback, in the admin (Background tasks). After MAX_ATTEMPTS it stops and says so.
- Tasks are idempotent and safe to run twice at once: each claims or locks what it changes (an email's claim,
  an order's row lock) and asks Stripe with an idempotency key, so running one again never does its work twice.
  That is what makes `recover_stalled_tasks` safe: a task still "running" TASK_STALLED_AFTER_SECONDS after it
  started belongs to a worker that died, and is run again.
- Periodic work (PERIODIC) is enqueued by `manage.py run_scheduler`; enqueue_periodic skips a task whose run is
  still waiting or running, so two schedulers (two machines) don't pile up copies.
"""

import io
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task, task_backends
from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

# After the n-th failed attempt, the next one waits RETRY_DELAYS_SECONDS[n - 1] (the last one from then on).
RETRY_DELAYS_SECONDS = (30, 120, 600, 1800, 3600)
MAX_ATTEMPTS = 30  # about a day of tries; then an organiser acts on what the admin shows (resend, refund again)


class GaveUp(Exception):
    """A task failed MAX_ATTEMPTS times and is not tried again."""


def enqueue_after_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Enqueue `task(*args, **kwargs)` when the current transaction commits (at once outside one).

    Arguments must be JSON (ids, not model instances). If the enqueue itself fails (the database is gone
    just then), it is logged and the periodic sweeps (PERIODIC) find the work still owed.
    """
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs), robust=True)


def retry_later(task: Task, *args: Any, attempt: int, error: BaseException, **kwargs: Any) -> None:
    """After failed attempt number `attempt` (1 for the first), enqueue `task` again with attempt + 1, to run after
    the backoff delay (seconds, RETRY_DELAYS_SECONDS); then raise `error` so this attempt is recorded as failed.

    Raises GaveUp (from `error`) instead of enqueuing once `attempt` reaches MAX_ATTEMPTS.
    """
    if attempt >= MAX_ATTEMPTS:
        raise GaveUp(f"failed {attempt} times, not tried again: {error}") from error
    delay = RETRY_DELAYS_SECONDS[min(attempt, len(RETRY_DELAYS_SECONDS)) - 1]
    later = task.using(run_after=timezone.now() + timedelta(seconds=delay))
    later.enqueue(*args, attempt=attempt + 1, **kwargs)
    logger.warning("%s failed (attempt %d), tried again in %d s: %s", task.name, attempt, delay, error)
    raise error


def _uses_database_backend() -> bool:
    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)


def waiting_for(task: Task) -> set:
    """The first arguments (an email's id, a refund's id...) of the runs of `task` still waiting or running, so that
    a sweep doesn't enqueue again what is only queued behind a busy or stopped worker. Empty without the database
    backend (nothing waits there)."""
    if not _uses_database_backend():
        return set()
    waiting = DBTaskResult.objects.filter(
        task_path=task.module_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    )
    return set(waiting.values_list("args_kwargs__args__0", flat=True))


def enqueue_periodic(periodic: Task) -> bool:
    """Enqueue a periodic task unless a run of it is already waiting or running; returns whether it was enqueued.

    Check-then-insert, so two schedulers may at worst both enqueue it: periodic tasks are safe to run twice.
    """
    waiting = DBTaskResult.objects.filter(
        task_path=periodic.module_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    )
    if _uses_database_backend() and waiting.exists():
        return False
    periodic.enqueue()
    return True


def recover_stalled_tasks() -> int:
    """Run again every task still running TASK_STALLED_AFTER_SECONDS after it started: its worker died mid-task
    (killed, or its machine gone). Each is marked failed (saying so) and enqueued afresh with the same arguments;
    tasks are idempotent, so what the dead worker did is not done twice. Returns how many were recovered.
    Safe to run concurrently: each stalled row is taken with one conditional UPDATE.
    """
    if not _uses_database_backend():
        return 0
    started_before = timezone.now() - timedelta(seconds=settings.TASK_STALLED_AFTER_SECONDS)
    recovered = 0
    for result in DBTaskResult.objects.running().filter(started_at__lt=started_before):
        note = f"The worker stopped before this task finished; it was enqueued again at {timezone.now():%H:%M:%S}."
        stalled = DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING)
        taken = stalled.update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path="tickets.tasks.WorkerStopped",
            traceback=note,
        )
        if taken:
            args = result.args_kwargs
            result.task.using(run_after=None).enqueue(*args["args"], **args["kwargs"])
            logger.error("Task %s (%s) stalled; enqueued again", result.pk, result.task_path)
            recovered += 1
    return recovered


@task()
def recover_stalled_tasks_task() -> int:
    """Periodic (manage.py run_scheduler): recover_stalled_tasks."""
    return recover_stalled_tasks()


@task()
def prune_task_results() -> str:
    """Periodic: delete finished task results older than TASK_RESULTS_KEPT_DAYS (they hold email addresses)."""
    output = io.StringIO()
    days = str(settings.TASK_RESULTS_KEPT_DAYS)
    call_command("prune_db_task_results", "--min-age-days", days, "--failed-min-age-days", days, stdout=output)
    return output.getvalue().strip()
