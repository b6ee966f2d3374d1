"""static/css/bootstrap-netroots.min.css, Bootstrap built with only the parts the site uses, defines every Bootstrap
class the public pages use: those in the templates, the messages' alerts and crispy-bootstrap5's form markup.

A class that Bootstrap defines and the built file lacks would render unstyled. The fix is in
static/scss/bootstrap-netroots.scss (its partial or utility family), then `npm run build:css`. That the built file
is what the source builds is CI's check (`npm run check:css`), since building needs Node.
"""

import re
from pathlib import Path

import pytest
from crispy_forms.utils import render_crispy_form
from django.contrib.messages.constants import DEFAULT_TAGS

from events.models import Event
from tickets.forms import FindBookingForm, ReservationForm

ROOT = Path(__file__).resolve().parents[1]
BUILT = ROOT / "static/css/bootstrap-netroots.min.css"
FULL = ROOT / "node_modules/bootstrap/dist/css/bootstrap.css"  # the same Bootstrap whole (npm; dev.py test installs it)
# Pages that load Bootstrap: the admin has its own stylesheets, emails none.
PUBLIC_TEMPLATES = [
    path
    for path in (ROOT / "templates").rglob("*.html")
    if not path.is_relative_to(ROOT / "templates/admin") and not path.is_relative_to(ROOT / "templates/tickets/email")
]
CLASS_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
CLASS_ATTRIBUTE = re.compile(r'class="([^"]*)"')
TEMPLATE_CODE = re.compile(r"\{[{%].*?[%}]\}")


def defined_classes(css: str) -> set[str]:
    css = re.sub(r"url\([^)]*\)|/\*.*?\*/", "", css, flags=re.DOTALL)  # no class names hide in data URLs or comments
    return set(CLASS_SELECTOR.findall(css))


def classes_in(html: str) -> set[str]:
    """Class names in class attributes, with template code (a variable part of a name) left out."""
    return {name for value in CLASS_ATTRIBUTE.findall(html) for name in TEMPLATE_CODE.sub(" ", value).split()}


def used_classes() -> set[str]:
    used = set().union(*(classes_in(path.read_text()) for path in PUBLIC_TEMPLATES))
    # includes/_messages.html: alert-{{ message.tags }}, with "error" shown as Bootstrap's "danger"
    used |= {f"alert-{'danger' if tag == 'error' else tag}" for tag in DEFAULT_TAGS.values()}
    event = Event(per_order_limit=4, ticket_price_pence=500)
    for form in (
        ReservationForm(event=event),
        ReservationForm(data={"buyer_email": "not an email"}, event=event),  # every field's error markup
        FindBookingForm(),
        FindBookingForm(data={}),
    ):
        form.is_valid()
        used |= classes_in(render_crispy_form(form))
    return used


@pytest.fixture(scope="module")
def full_bootstrap() -> set[str]:
    if not FULL.exists():
        pytest.skip("node_modules/bootstrap is missing: run `npm ci` (python3 dev.py test does)")
    return defined_classes(FULL.read_text())


def test_the_built_bootstrap_defines_every_bootstrap_class_the_pages_use(full_bootstrap):
    used = used_classes() & full_bootstrap
    missing = used - defined_classes(BUILT.read_text())
    assert {"btn-primary", "form-control", "is-invalid", "invalid-feedback", "alert-danger", "mb-3"} <= used
    assert not missing, (
        f"Bootstrap classes used but not in {BUILT.relative_to(ROOT)}: {', '.join(sorted(missing))}. Add their "
        "partial or utility family to static/scss/bootstrap-netroots.scss and run `npm run build:css`."
    )


def test_the_built_bootstrap_is_a_fraction_of_the_whole():
    """The point of building it: the whole stylesheet (~230 KB) blocked the first paint on phones."""
    assert BUILT.stat().st_size < 70_000
