from django.apps import AppConfig
from django_tasks_db.apps import TasksAppConfig


class TicketsConfig(AppConfig):
    default = True  # the one for "tickets" in INSTALLED_APPS; this module holds another app's config too
    name = "tickets"


class BackgroundTasksConfig(TasksAppConfig):
    """django_tasks_db (the task engine's database backend) under the name organisers see in the admin."""

    default = False
    verbose_name = "Background tasks"
