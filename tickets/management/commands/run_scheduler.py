"""The one entry point for periodic work: `python manage.py run_scheduler` (README, "Production").

It only enqueues: the task workers (`manage.py db_worker`) do the work. Each job enqueues its task unless a run
of it is still waiting or running (tickets.tasks.enqueue_periodic), and every periodic task is safe to run twice
at once, so a second scheduler (on another machine, or left running by mistake) does no harm.
"""

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tickets import emails, retention, services, tasks

logger = logging.getLogger(__name__)


# (task, cron fields), in Europe/London (TIME_ZONE).
PERIODIC = [
    (services.release_expired_holds_task, {"minute": "*"}),  # free the seats of holds that ran out
    (tasks.recover_stalled_tasks_task, {"minute": "*"}),  # run again what a dead worker left unfinished
    (emails.send_owed_emails_task, {"minute": "*/5"}),  # emails whose task was lost
    (services.refund_owed_payments_task, {"minute": "*/5"}),  # refunds whose task was lost
    (tasks.prune_task_results, {"hour": "4", "minute": "17"}),
    (retention.forget_attendee_details_task, {"hour": "4", "minute": "37"}),  # the privacy notice's promise
]


def enqueue(periodic) -> None:
    close_old_connections()  # a long-lived process: drop a connection the database closed meanwhile
    try:
        if tasks.enqueue_periodic(periodic):
            logger.info("Enqueued %s", periodic.name)
    except Exception:  # the database is away: the next tick tries again
        logger.exception("Could not enqueue %s", periodic.name)
    finally:
        close_old_connections()  # this thread's connection back to the pool (PostgreSQL) until its next run


class Command(BaseCommand):
    help = "Enqueue the periodic tasks (releasing expired holds, recovering stalled tasks, ...) on their schedule."

    def handle(self, *args, **options) -> None:
        scheduler = BlockingScheduler(timezone=settings.TIME_ZONE)
        for periodic, when in PERIODIC:
            trigger = CronTrigger(timezone=settings.TIME_ZONE, **when)
            scheduler.add_job(
                enqueue, trigger, args=[periodic], id=periodic.name, name=periodic.name, coalesce=True, max_instances=1
            )
        self.stdout.write(f"Scheduling {len(PERIODIC)} periodic tasks; workers run them. Ctrl+C stops.")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=False)
