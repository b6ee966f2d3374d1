from django import template

register = template.Library()


@register.filter
def pounds(pence: int) -> str:
    """500 -> "£5"; 550 -> "£5.50". Money is integer pence until it is shown."""
    whole, part = divmod(int(pence), 100)
    return f"£{whole:,}" if part == 0 else f"£{whole:,}.{part:02d}"
