"""The organisers' admin of the ticket desk, one module per job.

- orders: the order list and page (search, filters, inlines, resending the confirmation email);
- refunds: refunding orders, always confirmed on a page first, and the refunds list that follows them;
- exports: the attendee CSV export;
- tickets and checkin: the ticket list, and the door's check-in page;
- stripe_events: the webhook events Stripe sent us;
- background: the background tasks (emails, refunds, releasing holds): what ran, what failed and why;
- events: the event's page again (events.admin's), refusing a capacity below the seats sold and held.

Each module registers its admin; importing them here is what Django's admin autodiscovery finds.
"""

from tickets.admin.background import BackgroundTaskAdmin
from tickets.admin.events import EventAdmin
from tickets.admin.orders import OrderAdmin
from tickets.admin.refunds import RefundAdmin
from tickets.admin.stripe_events import StripeEventAdmin
from tickets.admin.tickets import TicketAdmin

__all__ = ["BackgroundTaskAdmin", "EventAdmin", "OrderAdmin", "RefundAdmin", "StripeEventAdmin", "TicketAdmin"]
