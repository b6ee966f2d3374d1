"""The organisers' admin of the ticket desk, one module per job.

- orders: the order list and page (search, filters, inlines, resending the confirmation email);
- refunds: refunding orders, always confirmed on a page first;
- exports: the attendee CSV export;
- tickets and checkin: the ticket list, and the door's check-in page;
- stripe_events: the webhook events Stripe sent us;
- events: the event's page again (events.admin's), refusing a capacity below the seats sold and held.

Each module registers its admin; importing them here is what Django's admin autodiscovery finds.
"""

from tickets.admin.events import EventAdmin
from tickets.admin.orders import OrderAdmin
from tickets.admin.stripe_events import StripeEventAdmin
from tickets.admin.tickets import TicketAdmin

__all__ = ["EventAdmin", "OrderAdmin", "StripeEventAdmin", "TicketAdmin"]
