"""The event's admin page, as the programme's admin makes it (events.admin), with the ticket desk's rule on top:
no edit of an event can sell more seats than it has.

The events layer can't count orders, so the ticket desk registers the Event admin again here with a form that
does. Only capacity bears on "paid + held ≤ capacity": a price or per-order limit changes only new orders (each
order keeps its own unit_price_pence and quantity), and an event with orders can't be deleted (PROTECT).
"""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import ngettext

from events.admin import EventAdmin as ProgrammeEventAdmin
from events.models import Event
from tickets.models import Order, held_seats_q


def seats_sold_and_held(event: Event) -> tuple[int, int]:
    """(sold, held) seats of `event`: paid orders' seats (less any refunds returned to sale), and unpaid orders'
    live holds, by the one rule (Order.objects.seats_taken, held_seats_q). Two or three queries; locks nothing."""
    taken = Order.objects.seats_taken(event)
    held = Order.objects.filter(held_seats_q(timezone.now()), event=event).aggregate(n=Sum("quantity"))["n"] or 0
    return taken - held, held


class EventTicketsForm(forms.ModelForm):
    """The event form, refusing a capacity below the seats sold plus held right now."""

    class Meta:
        model = Event
        fields = ["capacity"]  # the admin adds the other fields of its fieldsets

    def clean(self) -> dict:
        """Lock the event row, then count its seats: the admin's change view runs in one transaction, so the lock
        holds until the save commits and no reservation (reserve_tickets locks the same row) slips in between.

        Adds an error to `capacity` naming the seats sold and held when it is below their sum.
        """
        cleaned = super().clean()
        capacity = cleaned.get("capacity")
        if self.instance.pk is None or capacity is None:
            return cleaned
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("EventTicketsForm locks the event row: validate it inside transaction.atomic().")
        event = Event.objects.select_for_update().get(pk=self.instance.pk)
        sold, held = seats_sold_and_held(event)
        if capacity < sold + held:
            self.add_error(
                "capacity",
                f"At least {sold + held}: "
                + ngettext("%(n)d seat is sold", "%(n)d seats are sold", sold) % {"n": sold}
                + " and "
                + ngettext("%(n)d is held", "%(n)d are held", held) % {"n": held}
                + " by unpaid bookings right now. Held seats come back when their bookings expire or are cancelled.",
            )
        return cleaned


admin.site.unregister(Event)


@admin.register(Event)
class EventAdmin(ProgrammeEventAdmin):
    form = EventTicketsForm
