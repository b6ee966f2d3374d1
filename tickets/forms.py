from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from events.models import Event

NAME_MAX = 100


class ReservationForm(forms.Form):
    quantity = forms.TypedChoiceField(label="Number of tickets", coerce=int)
    buyer_name = forms.CharField(
        label="Your name", max_length=NAME_MAX, widget=forms.TextInput({"autocomplete": "name"})
    )
    buyer_email = forms.EmailField(
        label="Your email",
        max_length=254,
        help_text="We send your tickets and booking link here.",
        widget=forms.EmailInput({"autocomplete": "email"}),
    )
    attendee_names = forms.CharField(
        label="Names for the tickets (optional)",
        required=False,
        max_length=(NAME_MAX + 1) * 10,
        widget=forms.Textarea({"rows": 3}),
        help_text="One name per line, in order. Tickets without a name carry yours.",
    )

    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, **kwargs)
        limit = event.per_order_limit
        self.fields["quantity"].choices = [(n, str(n)) for n in range(1, limit + 1)]
        self.fields["quantity"].error_messages["invalid_choice"] = f"Choose between 1 and {limit} tickets."
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}  # the server's messages are clearer than the browser's
        self.helper.add_input(Submit("reserve", "Continue to payment", css_class="btn-primary btn-lg"))

    def clean_buyer_name(self) -> str:
        name = self.cleaned_data["buyer_name"].strip()
        if not name:
            raise forms.ValidationError("Please enter your name.")
        return name

    def clean_attendee_names(self) -> list[str]:
        names = [line.strip() for line in self.cleaned_data["attendee_names"].splitlines() if line.strip()]
        if any(len(name) > NAME_MAX for name in names):
            raise forms.ValidationError(f"Each name can be at most {NAME_MAX} characters.")
        return names

    def clean(self) -> dict:
        cleaned = super().clean()
        quantity, names = cleaned.get("quantity"), cleaned.get("attendee_names") or []
        if quantity and len(names) > quantity:
            self.add_error("attendee_names", f"You gave {len(names)} names for {quantity} tickets.")
        return cleaned


class FindBookingForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254, widget=forms.EmailInput({"autocomplete": "email"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("find", "Email me my booking links", css_class="btn-primary"))
