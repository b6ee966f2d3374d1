"""The webhook events Stripe sent us and what we did with each: read-only."""

from django.contrib import admin

from tickets.admin.display import ReadOnlyAdmin, local_time
from tickets.models import StripeEvent


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received", "type", "stripe_event_id", "order", "outcome"]
    list_select_related = ["order"]
    list_filter = ["type"]
    search_fields = ["stripe_event_id", "stripe_checkout_session_id", "order__reference"]
    fields = ["received", "type", "stripe_event_id", "stripe_checkout_session_id", "order", "outcome"]
    readonly_fields = fields
    received = local_time("received_at", "Received")
