"""The ticket list: find a ticket by name or by the reference its holder reads out; the door's page hangs off it."""

import re

from django.contrib import admin
from django.utils.html import format_html

from tickets.admin.checkin import TicketCheckIn
from tickets.admin.display import local_time
from tickets.models import Ticket

SHORT_TICKET_REFERENCE = re.compile(r"^\s*([A-Za-z0-9]{4})-([A-Za-z0-9]{4})\s*$")  # "ABCD-EFGH", as printed


@admin.register(Ticket)
class TicketAdmin(TicketCheckIn, admin.ModelAdmin):
    list_display = ["attendee_name", "short_reference", "order", "order_status", "checked_in"]
    list_select_related = ["order"]
    search_fields = ["attendee_name", "reference", "order__reference", "order__buyer_email", "order__buyer_name"]
    list_filter = ["order__status"]
    fields = ["attendee_name", "order", "order_status", "short_reference", "reference", "checked_in"]
    readonly_fields = ["order", "order_status", "short_reference", "reference", "checked_in"]
    checked_in = local_time("checked_in_at", "Checked in")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a ticket is part of an order that was paid for: refund the order instead

    @admin.display(description="Order status", ordering="order__status")
    def order_status(self, ticket: Ticket) -> str:
        order = ticket.order
        return format_html(
            '<span class="order-status order-status--{}">{}</span>', order.status, order.get_status_display()
        )

    def get_search_results(self, request, queryset, search_term):
        """Also find a ticket by the short reference its holder sees in the email and on the booking page."""
        if match := SHORT_TICKET_REFERENCE.match(search_term):
            return queryset.filter(reference__startswith="".join(match.groups()).upper()), False
        return super().get_search_results(request, queryset, search_term)
