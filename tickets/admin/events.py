"""The event's admin page, as the programme's admin makes it (events.admin), with the ticket desk's rule on top:
no edit of an event can sell more seats than it has.

The events layer can't count orders, so the ticket desk registers the Event admin again here with a form that
does. Only capacity bears on "paid + held ≤ capacity": a price or per-order limit changes only new orders (each
order keeps its own unit_price_pence and quantity), and an event with orders can't be deleted (PROTECT).

Organisers type the ticket price in pounds ("5.00") and read it in pounds; it is stored in pence (PoundsField).
"""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import ngettext

from events.admin import EventAdmin as ProgrammeEventAdmin
from events.models import (
    PER_ORDER_LIMIT_MAX,
    STRIPE_MIN_CHARGE_PENCE,
    TICKET_PRICE_MAX_PENCE,
    Event,
    validate_ticket_price,
)
from tickets.models import Order, held_seats_q
from tickets.templatetags.money import pounds

PRICE_FIELD, PRICE_IN_PENCE = "ticket_price", "ticket_price_pence"  # the form's field (pounds), the model's (pence)
PRICE_MESSAGE = (
    f"Enter 0 for free tickets, or a price from {pounds(STRIPE_MIN_CHARGE_PENCE)} (Stripe's smallest payment) "
    f"to {pounds(TICKET_PRICE_MAX_PENCE)} (so that {PER_ORDER_LIMIT_MAX} tickets stay within Stripe's largest)."
)


def seats_sold_and_held(event: Event) -> tuple[int, int]:
    """(sold, held) seats of `event`: paid orders' seats (less any refunds returned to sale), and unpaid orders'
    live holds, by the one rule (Order.objects.seats_taken, held_seats_q). Two or three queries; locks nothing."""
    taken = Order.objects.seats_taken(event)
    held = Order.objects.filter(held_seats_q(timezone.now()), event=event).aggregate(n=Sum("quantity"))["n"] or 0
    return taken - held, held


class PoundsField(forms.DecimalField):
    """Money typed in pounds and pence ("5", "5.00", "£1,250.50"), cleaned to integer pence (500); shown as "5.00".

    Exact: the text becomes a Decimal, never a float, and at most two figures after the point are accepted.
    """

    default_error_messages = {
        "invalid": "Enter an amount in pounds, like 5.00 or 12.50.",
        "max_decimal_places": "Enter pounds and pence, with at most two figures after the point: like 5.00 or 12.50.",
    }

    def __init__(self, **kwargs):
        attrs = {"inputmode": "decimal", "autocomplete": "off", "size": 10}
        super().__init__(decimal_places=2, widget=forms.TextInput(attrs=attrs), **kwargs)

    def to_python(self, value) -> Decimal | None:
        if isinstance(value, str):  # what people type around a number: "£5", "1,250.00", " 5 "
            value = value.strip().removeprefix("£").replace(",", "").strip()
        return super().to_python(value)

    def prepare_value(self, value):
        """Initial values are pence (an int); what the form sends back is the text typed."""
        return Decimal(value).scaleb(-2) if isinstance(value, int) else value

    def clean(self, value) -> int | None:
        amount = super().clean(value)
        return None if amount is None else int(amount.scaleb(2))

    def has_changed(self, initial, data) -> bool:
        if self.disabled:
            return False
        try:
            return self.prepare_value(initial) != self.to_python(data)
        except ValidationError:
            return True


class EventTicketsForm(forms.ModelForm):
    """The event form, with the ticket price in pounds, refusing a capacity below the seats sold plus held right now."""

    ticket_price = PoundsField(
        label="Ticket price (£)",
        help_text=f"In pounds, like 5.00. 0 makes tickets free (booked without payment); else at least "
        f"{pounds(STRIPE_MIN_CHARGE_PENCE)}, Stripe's smallest payment.",
    )

    class Meta:
        model = Event
        fields = ["capacity"]  # the admin adds the other fields of its fieldsets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault(PRICE_FIELD, self.instance.ticket_price_pence)
        for field in self.fields.values():
            # The admin's date and time boxes have no label of their own (the row's names neither since Django 4.0)
            if isinstance(field.widget, forms.SplitDateTimeWidget):
                date, time = field.widget.widgets
                date.attrs["aria-label"], time.attrs["aria-label"] = f"{field.label}: date", f"{field.label}: time"

    def clean_ticket_price(self) -> int:
        """The price in pence, if Event's rule (validate_ticket_price) allows it; refused in pounds if not."""
        pence = self.cleaned_data[PRICE_FIELD]
        try:
            validate_ticket_price(pence)
        except ValidationError:
            raise ValidationError(PRICE_MESSAGE, code="ticket_price") from None
        return pence

    def clean(self) -> dict:
        """Lock the event row, then count its seats: the admin's change view runs in one transaction, so the lock
        holds until the save commits and no reservation (reserve_tickets locks the same row) slips in between.

        Adds an error to `capacity` naming the seats sold and held when it is below their sum.
        """
        cleaned = super().clean()
        if PRICE_FIELD in cleaned:
            self.instance.ticket_price_pence = cleaned[PRICE_FIELD]  # not a field of the form: saved with the rest
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


def in_pounds(fields) -> list:
    """`fields` with the price in pence replaced by the price in pounds (the form's field, the list's column)."""
    return [PRICE_FIELD if field == PRICE_IN_PENCE else field for field in fields]


admin.site.unregister(Event)


@admin.register(Event)
class EventAdmin(ProgrammeEventAdmin):
    """The programme's event admin, with the ticket price typed and shown in pounds wherever it names the pence."""

    form = EventTicketsForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return [(name, {**options, "fields": in_pounds(options["fields"])}) for name, options in fieldsets]

    def get_list_display(self, request):
        return in_pounds(super().get_list_display(request))

    @admin.display(description="Ticket price", ordering=PRICE_IN_PENCE)
    def ticket_price(self, event: Event) -> str:
        return pounds(event.ticket_price_pence)
