"""The attendee export: paid tickets as a CSV file, for a spreadsheet or a printed door list."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone

from tickets import reports


def attendees_csv(tickets) -> HttpResponse:
    """A CSV download of these tickets (reports.write_attendees_csv), named for today's date in London."""
    today = timezone.localdate(timezone=reports.LONDON)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendees-{today:%Y-%m-%d}.csv"'
    response["Cache-Control"] = "private, no-store"  # buyers' names and emails
    response.write("\ufeff")  # a byte-order mark, so that Excel reads names like "Siân" as UTF-8
    reports.write_attendees_csv(response, tickets)
    return response


class AttendeeExport:
    """The export, mixed into the order admin (an admin.ModelAdmin): a link above the list, and an action."""

    def get_urls(self):
        export = self.admin_site.admin_view(self.attendees_csv_view)
        return [path("attendees.csv", export, name="tickets_order_attendees_csv"), *super().get_urls()]

    def attendees_csv_view(self, request: HttpRequest) -> HttpResponse:
        """Every paid ticket, for a spreadsheet or a printed door list."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return attendees_csv(reports.paid_tickets())

    @admin.action(description="Export attendees of the selected paid orders (CSV)")
    def export_attendees(self, request, queryset) -> HttpResponse:
        return attendees_csv(reports.paid_tickets(queryset))
