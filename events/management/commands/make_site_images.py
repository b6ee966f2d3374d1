"""Draw the site's images with Pillow, in the site's colours: the link-preview image and the icons.

    python manage.py make_site_images \
        --strapline "A Saturday of talks, panels and hands-on workshops for digital progressive activists."

Writes, into static/img/ (or --output-dir):
- og-netroots.png: 1200 x 630, the image that link previews show (OpenGraph, Twitter cards), with the event's
  name, date, place and price;
- favicon.ico (16, 32 and 48 px) and apple-touch-icon.png (180 px): the "NR" mark of the site's header.

The files are committed: run it again after changing the event's name, date or venue, and commit them.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from events.models import Event

# static/css/site.css's palette
INK = "#14211b"
GREEN = "#1f5f43"
GREEN_DARK = "#12402c"
GREEN_LIGHT = "#2c7a57"
ACCENT = "#b93a0b"
WHITE = "#ffffff"
PALE = "#dfe9e3"

SHARE_SIZE = (1200, 630)
ICON_SIZES = [(16, 16), (32, 32), (48, 48)]
TOUCH_ICON_SIZE = 180
# Liberation Sans is metric-compatible with Arial (the SVG icon's font); DejaVu is on most Linux machines.
FONT_DIRS = ["/usr/share/fonts/truetype/liberation", "/usr/share/fonts/truetype/dejavu"]
FONT_FILES = {
    "bold": ["LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf"],
    "regular": ["LiberationSans-Regular.ttf", "DejaVuSans.ttf"],
}


def font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    """A sans-serif font of `size` px: Liberation Sans or DejaVu Sans if installed, else Pillow's own."""
    for folder in FONT_DIRS:
        for name in FONT_FILES[weight]:
            if (path := Path(folder) / name).exists():
                return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _mix(a: str, b: str, t: float) -> tuple[int, int, int]:
    ca, cb = (int(a[i : i + 2], 16) for i in (1, 3, 5)), (int(b[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True))


def _gradient(size: tuple[int, int]) -> Image.Image:
    """The home page hero's diagonal gradient: dark green, green at 60%, lighter green."""
    width, height = size
    image = Image.new("RGB", size)
    pixels = image.load()
    for x in range(width):
        for y in range(height):
            t = (x / width + y / height) / 2
            pixels[x, y] = _mix(GREEN_DARK, GREEN, t / 0.6) if t < 0.6 else _mix(GREEN, GREEN_LIGHT, (t - 0.6) / 0.4)
    return image


def _wrap(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=face) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


def _mark(size: int, *, fill: str = GREEN, radius_ratio: float = 7 / 32) -> Image.Image:
    """The header's mark: white "NR" on a rounded square of `fill`, `size` px wide, transparent corners."""
    scale = 4  # drawn large and scaled down: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=round(big * radius_ratio), fill=fill)
    face = font("bold", round(big * 0.47))
    draw.text((big / 2, big / 2), "NR", font=face, fill=WHITE, anchor="mm")
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _lines(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int, most: int) -> list[str]:
    """`text` wrapped to `width` px, in at most `most` lines; the last one ends with "…" if text was left out."""
    lines = _wrap(draw, text, face, width)
    if len(lines) <= most:
        return lines
    kept, last = lines[: most - 1], lines[most - 1]
    while last and draw.textlength(last + "…", font=face) > width:
        last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
    return [*kept, last.rstrip(",;:") + "…"]


def share_image(*, name: str, when: str, where: str, strapline: str, price: str) -> Image.Image:
    """The 1200 x 630 link-preview image: the mark with the date and place, the event's name, a strapline of at
    most two lines, and the price, on the home page's green."""
    width, height = SHARE_SIZE
    image = _gradient(SHARE_SIZE)
    draw = ImageDraw.Draw(image)
    left = 80
    mark = _mark(104, fill=INK)
    image.paste(mark, (left, 64), mark)
    eyebrow = font("bold", 30)
    draw.text((left + 136, 106), when.upper(), font=eyebrow, fill=WHITE, anchor="ls")
    draw.text((left + 136, 148), where.upper(), font=eyebrow, fill=PALE, anchor="ls")
    draw.text((left - 6, 330), name, font=font("bold", 132), fill=WHITE, anchor="ls")
    lead = font("regular", 36)
    for number, line in enumerate(_lines(draw, strapline, lead, width - 2 * left, most=2)):
        draw.text((left, 398 + 48 * number), line, font=lead, fill=WHITE, anchor="ls")
    badge = font("bold", 34)
    top = height - 72 - 66
    badge_width = draw.textlength(price, font=badge) + 56
    draw.rounded_rectangle((left, top, left + badge_width, top + 66), radius=12, fill=ACCENT)
    draw.text((left + 28, top + 33), price, font=badge, fill=WHITE, anchor="lm")
    draw.rectangle((0, height - 14, width, height), fill=INK)
    return image


class Command(BaseCommand):
    help = "Draw static/img/og-netroots.png (link previews), favicon.ico and apple-touch-icon.png for the event."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output-dir", type=Path, default=settings.BASE_DIR / "static" / "img")
        parser.add_argument(
            "--strapline", default="", help="A line under the name (default: the event's summary, cut to two lines)."
        )

    def handle(self, *args, output_dir: Path, strapline: str, **options) -> None:
        event = Event.objects.current()
        if event is None:
            raise CommandError("No event yet: add one in admin (or run load_demo) first.")
        starts = timezone.localtime(event.starts_at)
        pounds, pence = divmod(event.ticket_price_pence, 100)
        price = f"Tickets £{pounds}.{pence:02d}" if pence else f"Tickets £{pounds}" if pounds else "Free tickets"
        output_dir.mkdir(parents=True, exist_ok=True)
        image = share_image(
            name=event.name,
            when=starts.strftime("%A %-d %B %Y"),
            where=f"{event.venue}, London",
            strapline=strapline or event.summary,
            price=price,
        )
        image.save(output_dir / "og-netroots.png", optimize=True)
        _mark(256).save(output_dir / "favicon.ico", sizes=ICON_SIZES)
        touch = Image.new("RGB", (TOUCH_ICON_SIZE, TOUCH_ICON_SIZE), GREEN)  # iOS rounds the corners itself
        touch.paste(_mark(TOUCH_ICON_SIZE, radius_ratio=0), (0, 0), _mark(TOUCH_ICON_SIZE, radius_ratio=0))
        touch.save(output_dir / "apple-touch-icon.png", optimize=True)
        for name in ("og-netroots.png", "favicon.ico", "apple-touch-icon.png"):
            self.stdout.write(f"Wrote {output_dir / name}")
