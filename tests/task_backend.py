"""The task backend of the test suite: django_tasks_db's own, run synchronously.

Enqueuing writes the task's row as in production; a task due now is then claimed and run at once by the
package's own worker code (db_worker's Worker.run_task), so tests run the same code a worker does, with its
failures recorded the same way. A task with run_after in the future (a retry after backoff) stays queued, as in
production: `run_due_tasks` runs what has come due (tests move time by updating run_after).
"""

from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

WORKER_ID = "tests"


def _worker(backend_name: str) -> Worker:
    return Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=backend_name,
        startup_delay=False,
        max_tasks=None,
        worker_id=WORKER_ID,
        excluded_queue_names=[],
    )


class RunNowDatabaseBackend(DatabaseBackend):
    def enqueue(self, task, args, kwargs):
        result = super().enqueue(task, args, kwargs)
        if task.run_after is None or task.run_after <= timezone.now():
            row = DBTaskResult.objects.get(pk=result.id)
            row.claim(WORKER_ID)
            _worker(self.alias).run_task(row)
        return result


def run_due_tasks() -> int:
    """Run every queued task that is due (READY, run_after passed), oldest first; returns how many ran."""
    ran = 0
    while (row := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        row.claim(WORKER_ID)
        _worker(row.backend_name).run_task(row)
        ran += 1
    return ran
