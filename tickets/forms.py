import re
import secrets
import unicodedata

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import ngettext

from events.models import Event

NAME_MAX = 100
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_form_token() -> str:
    """A reservation form's one-time token (256 bits, the 43 characters of Order.form_token)."""
    return secrets.token_urlsafe(32)


def without_format_characters(text: str) -> str:
    """Drop Unicode format characters (category Cf: bidi overrides, zero-width spaces, …) and trim.

    They are invisible, and a bidi override can make a name on a ticket or in the admin read as
    something else; no one needs one to write their name here.
    """
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


class ReservationForm(forms.Form):
    # Each message names its field: they are also listed together in the summary above the form.
    quantity = forms.TypedChoiceField(
        label="Number of tickets", coerce=int, error_messages={"required": "Choose how many tickets you want."}
    )
    buyer_name = forms.CharField(
        label="Your name",
        max_length=NAME_MAX,
        widget=forms.TextInput({"autocomplete": "name"}),
        error_messages={"required": "Please enter your name."},
    )
    buyer_email = forms.EmailField(
        label="Your email",
        max_length=254,
        error_messages={"required": "Please enter your email address."},
        help_text="We send your tickets and booking link here.",
        widget=forms.EmailInput({"autocomplete": "email"}),
    )
    attendee_names = forms.CharField(
        label="Names for the tickets (optional)",
        required=False,
        max_length=(NAME_MAX + 1) * 10,
        widget=forms.Textarea({"rows": 3}),
        help_text=(
            "One name per ticket, in order, yours included if you’re coming. Tickets left blank carry your name."
        ),
    )
    # One per form shown: the same form submitted twice (a double-click) finds the booking its first submit made.
    # Optional, so a form from before the token (or a script) still books; it then has no such protection.
    form_token = forms.CharField(required=False, widget=forms.HiddenInput, initial=new_form_token)

    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, **kwargs)
        limit = event.per_order_limit
        self.fields["quantity"].choices = [(n, str(n)) for n in range(1, limit + 1)]
        self.fields["quantity"].error_messages["invalid_choice"] = f"Choose between 1 and {limit} tickets."
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}  # the server's messages are clearer than the browser's
        label = "Book free tickets" if event.ticket_price_pence == 0 else "Continue to payment"
        self.helper.add_input(Submit("reserve", label, css_class="btn-primary btn-lg"))

    def clean_buyer_name(self) -> str:
        name = without_format_characters(self.cleaned_data["buyer_name"])
        if not name:
            raise forms.ValidationError("Please enter your name.")
        return name

    def clean_form_token(self) -> str:
        """The token as we made it (new_form_token), or "" for none; anything else is not ours and is ignored."""
        token = self.cleaned_data["form_token"]
        return token if FORM_TOKEN.fullmatch(token) else ""

    def clean_attendee_names(self) -> list[str]:
        lines = [line for line in self.cleaned_data["attendee_names"].splitlines() if line.strip()]
        names = [without_format_characters(line) for line in lines]
        if not all(names):
            raise forms.ValidationError("A name can’t be made only of invisible characters.")
        if any(len(name) > NAME_MAX for name in names):
            raise forms.ValidationError(f"Each name can be at most {NAME_MAX} characters.")
        return names

    def clean(self) -> dict:
        cleaned = super().clean()
        quantity, names = cleaned.get("quantity"), cleaned.get("attendee_names") or []
        if quantity and len(names) > quantity:
            gave = ngettext("%(count)d name", "%(count)d names", len(names)) % {"count": len(names)}
            wanted = ngettext("%(count)d ticket", "%(count)d tickets", quantity) % {"count": quantity}
            self.add_error("attendee_names", f"You gave {gave} for {wanted}.")
        return cleaned


class FindBookingForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput({"autocomplete": "email"}),
        error_messages={"required": "Please enter the email address you booked with."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}  # as on the reservation form: the server's messages show
        self.helper.add_input(Submit("find", "Email me my booking links", css_class="btn-primary"))
