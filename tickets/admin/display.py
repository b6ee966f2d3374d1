"""Display helpers shared by the ticket desk's admins: 24-hour London times, and read-only pages."""

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format

ADMIN_TIME = "j M Y, H:i"  # "7 Jun 2025, 14:05": the en-GB locale would say "7:21 a.m."


def local_time(field: str, label: str):
    """An admin display method showing a datetime field in London time, 24-hour.

    Display methods rather than a formats module, because the locale's DATETIME_FORMAT can only be
    replaced through the FORMAT_MODULE_PATH setting.
    """

    @admin.display(description=label, ordering=field)
    def display(model_admin, obj) -> str:
        value = getattr(obj, field)
        if value is None:
            return model_admin.get_empty_value_display()
        return date_format(timezone.localtime(value), ADMIN_TIME)

    return display


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record organisers read but never add, change or delete: what happened (refunds, webhooks, tasks)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
