"""Links organisers type in, which become links on public pages: web addresses (http, https) and mailto only.

A `javascript:` or `data:` link would run or show whatever it holds when a visitor clicks it, so these
validators sit on the models (the admin, the shell's full_clean and the demo data all answer to them) and
the templates show only links that pass `is_safe_link` (anything stored before the rule is left out).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

SCHEMES_HINT = "Links must start with https://, http:// or mailto:."
_web_address = URLValidator(schemes=["http", "https"])


def _printable(value: str) -> bool:
    """No control characters (a NUL byte, a newline) and no lone surrogates: PostgreSQL can store neither."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return value.isprintable()


def validate_web_address(value: Any) -> None:
    """An http or https address (an organisation's website)."""
    if not isinstance(value, str) or not _printable(value):
        raise ValidationError("Enter a web address, like https://example.org.", code="invalid_link")
    try:
        _web_address(value)
    except ValidationError:
        raise ValidationError(
            "“%(value)s” is not a web address: it must start with https:// or http://.",
            code="invalid_link",
            params={"value": value},
        ) from None


def validate_link(value: Any) -> None:
    """An http or https address, or mailto: and one email address."""
    if not isinstance(value, str) or not _printable(value):
        raise ValidationError(
            "Each link must be a web address in quotes, like “https://example.org”.", code="invalid_link"
        )
    if value.lower().startswith("mailto:"):
        try:
            validate_email(value[len("mailto:") :])
        except ValidationError:
            raise ValidationError(
                "“%(value)s” is not a mailto: link with one email address.",
                code="invalid_link",
                params={"value": value},
            ) from None
        return
    try:
        _web_address(value)
    except ValidationError:
        raise ValidationError(
            "“%(value)s” is not a link. " + SCHEMES_HINT, code="invalid_link", params={"value": value}
        ) from None


def validate_links(value: Any) -> None:
    """A list of links (see validate_link); [] is fine."""
    if not isinstance(value, list):
        raise ValidationError(
            'Enter a list of links in square brackets, like ["https://example.org"], or [] for none.',
            code="invalid_links",
        )
    errors = []
    for link in value:
        try:
            validate_link(link)
        except ValidationError as exc:
            errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)


def is_safe_link(value: Any) -> bool:
    """True for a link validate_link accepts: what a template may put in an href."""
    try:
        validate_link(value)
    except ValidationError:
        return False
    return True
