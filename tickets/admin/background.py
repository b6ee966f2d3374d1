"""Background tasks (the task engine's results, django_tasks_db's DBTaskResult), for organisers: what ran, what
failed, on which attempt, and the last error. Read-only; replaces the package's own admin with readable columns."""

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django_tasks_db.models import DBTaskResult, get_date_max

from tickets.admin.display import ADMIN_TIME, ReadOnlyAdmin, local_time

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class BackgroundTaskAdmin(ReadOnlyAdmin):
    list_display = ["task", "about", "attempt", "status", "enqueued", "runs_after", "finished", "error"]
    list_filter = ["status", "task_path"]
    search_fields = ["task_path", "exception_class_path"]
    ordering = ["-enqueued_at"]
    fields = ["task", "about", "attempt", "status", "enqueued", "runs_after", "started", "finished"]
    fields += ["worker_ids", "return_value", "error", "traceback_text"]
    readonly_fields = fields
    enqueued = local_time("enqueued_at", "Enqueued")
    started = local_time("started_at", "Started")
    finished = local_time("finished_at", "Finished")

    @admin.display(description="Task", ordering="task_path")
    def task(self, result: DBTaskResult) -> str:
        return result.task_path.rsplit(".", 1)[-1].replace("_", " ")

    @admin.display(description="About")
    def about(self, result: DBTaskResult) -> str:
        """Its arguments, but not the attempt number (its own column): an email id, a refund id, an address."""
        kwargs = {key: value for key, value in result.args_kwargs.get("kwargs", {}).items() if key != "attempt"}
        parts = [str(arg) for arg in result.args_kwargs.get("args", [])]
        parts += [f"{key}={value}" for key, value in kwargs.items() if value not in ("", False, None)]
        return ", ".join(parts) or "—"

    @admin.display(description="Attempt")
    def attempt(self, result: DBTaskResult) -> int:
        return result.args_kwargs.get("kwargs", {}).get("attempt", 1)

    @admin.display(description="Runs after", ordering="run_after")
    def runs_after(self, result: DBTaskResult) -> str:
        """When a retry may run (backoff); "—" for a task that may run at once."""
        if result.run_after == get_date_max():
            return self.get_empty_value_display()
        return date_format(timezone.localtime(result.run_after), ADMIN_TIME)

    @admin.display(description="Error")
    def error(self, result: DBTaskResult) -> str:
        """The traceback's last line: the exception and its message."""
        lines = [line for line in result.traceback.splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""

    @admin.display(description="Traceback")
    def traceback_text(self, result: DBTaskResult) -> str:
        return format_html("<pre>{}</pre>", result.traceback) if result.traceback else "—"
