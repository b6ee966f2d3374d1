"""Public pages with content as real people write it, at 320, 390 and 1280 px: very long words, URLs and names
with no spaces, right-to-left and CJK text, a speaker with ten sessions, a session with eight speakers.

Nothing overflows or scrolls sideways; programme cards in one row share a height; titles look like links; track
names aren't broken mid-name; links that leave the site say so; and every button's focus ring contrasts 3:1 or
more with the button and with what is around it (WCAG 2.2 focus appearance: a two-colour ring, each band 2px or
more, one of which contrasts with each colour it touches, as in technique C40)."""

from datetime import timedelta

import pytest

from events.models import InfoPage
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    RoomFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [320, 390, 1280]
LONG_WORD = "Rechtsschutzversicherungsgesellschaften" * 2
LONG_URL = "https://example.org/" + "campaigns/2028/" * 6 + "a-very-long-path-with-no-spaces-at-all?utm_source=x"
RTL = "حملة التنظيم الرقمي للنقابات والمجتمعات المحلية"
CJK = "数字化组织与社区动员的未来：从线上到线下的全国性运动经验分享会"
TRACK = "Organising, campaigning and digital strategy"
ONE_WORD_NAME = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaft"


@pytest.fixture
def extreme(live_server, transactional_db):
    """A programme made of extreme content; returns the live server's address and the pages to visit."""
    event = EventFactory(capacity=500, address=f"Unit 7, {LONG_WORD} Industrial Estate, London E1 6AN")
    rooms = [
        RoomFactory(event=event, name=name) for name in ("Main hall", f"Room {LONG_WORD}"[:80], CJK[:12], RTL[:16])
    ]
    tracks = [TrackFactory(event=event, name=TRACK), TrackFactory(event=event, name="Unions and workplaces")]
    organisation = OrganisationFactory(name=f"{LONG_WORD} Network", url=LONG_URL, blurb=f"{RTL} {CJK} {LONG_URL}")
    busy = SpeakerFactory(
        name=ONE_WORD_NAME,
        role=f"Chief {LONG_WORD} officer",
        organisation=organisation,
        links=[LONG_URL, "mailto:" + "press.office." * 4 + "@example.org"],
        bio=f"{RTL}\n\n{CJK}\n\n{LONG_URL}",
        is_featured=True,
    )
    crowd = [SpeakerFactory(name=name, is_featured=True) for name in (RTL, CJK, LONG_WORD, "Ada Lovelace", "李小龙")]
    crowd += [SpeakerFactory(name=f"Speaker {LONG_WORD[:20]}{n}") for n in range(2)]
    start = event.starts_at
    panel = SessionFactory(
        event=event,
        title=f"{LONG_WORD}: {CJK} {RTL}",
        abstract=f"{LONG_URL}\n\n{RTL}\n\n{CJK}",
        kind="panel",
        room=rooms[0],
        track=tracks[0],
        starts_at=start,
        ends_at=start + timedelta(minutes=60),
        with_speakers=[busy, *crowd],  # eight speakers
    )
    for n in range(9):  # with the panel, ten sessions for one speaker; in rows of four rooms
        begins = start + timedelta(hours=1 + n // 4)
        SessionFactory(
            event=event,
            title=[f"Short {n}", f"{CJK} {n}", f"{RTL} {n}", f"{LONG_WORD} {n}"][n % 4],
            kind=["talk", "workshop", "keynote", "panel"][n % 4],
            room=rooms[n % 4],
            track=tracks[n % 2],
            starts_at=begins,
            ends_at=begins + timedelta(minutes=45),
            with_speakers=[busy],
        )
    info = InfoPage.objects.create(event=event, kind="faq", title=f"FAQ {LONG_WORD}", body=f"# {CJK}\n\n{LONG_URL}")
    paths = [
        "/",
        "/programme/",
        f"/programme/?track={tracks[0].slug}",
        panel.get_absolute_url(),
        "/speakers/",
        busy.get_absolute_url(),
        crowd[0].get_absolute_url(),
        "/organisations/",
        info.get_absolute_url(),
        "/tickets/",
        "/tickets/find/",
        "/no-such-page/",
    ]
    return live_server.url, paths


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def sized(request, browser):
    context = browser.new_context(viewport={"width": request.param, "height": 800})
    page = context.new_page()
    yield page, request.param
    context.close()


# Elements whose box reaches past the viewport, unless an ancestor clips them (overflow other than visible) or they
# are visually hidden (1px, clipped).
OUTSIDE = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = el => { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
  return [...document.body.querySelectorAll('*')].filter(el => {
    const box = el.getBoundingClientRect();
    if (!box.width || el.closest('.visually-hidden')) return false;
    return (box.right > width + 0.5 || box.left < -0.5) && !clipped(el);
  }).map(el => el.tagName.toLowerCase() + '.' + el.className + ': ' + (el.textContent || '').trim().slice(0, 40));
}"""


def test_no_page_overflows_or_scrolls_sideways(extreme, sized):
    site, paths = extreme
    page, width = sized
    for path in paths:
        page.goto(site + path)
        assert page.evaluate(OUTSIDE) == [], f"{path} at {width}px"
        sideways = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert sideways <= 0, f"{path} scrolls {sideways}px sideways at {width}px"


def test_programme_cards_in_a_row_share_a_height_and_titles_look_like_links(extreme, sized):
    site, _ = extreme
    page, width = sized
    page.goto(site + "/programme/")
    rows = page.evaluate("""() => [...document.querySelectorAll('.timetable tbody tr')].map(row =>
        [...row.querySelectorAll('td:not([rowspan]) > .slot:only-child')].map(slot => slot.getBoundingClientRect()))""")
    if width >= 768:  # a table: cards side by side
        assert any(len(row) > 1 for row in rows), "no row with two cards"
        for row in rows:
            heights = {round(box["height"]) for box in row}
            assert len(heights) <= 1, f"cards in one row differ in height: {heights}"
    titles = page.evaluate("""() => [...document.querySelectorAll('.slot__title a')].map(a => {
        const style = getComputedStyle(a); return [style.textDecorationLine, style.color]; })""")
    assert titles
    for decoration, colour in titles:
        assert "underline" in decoration
        assert colour != "rgb(20, 33, 27)"  # not the body text's colour


def test_track_names_are_never_broken_mid_name(extreme, sized):
    site, _ = extreme
    page, width = sized
    page.goto(site + "/programme/")
    lines = page.evaluate("""() => [...document.querySelectorAll('.track')].map(el => {
        const style = getComputedStyle(el);
        const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
        return [el.textContent, el.getBoundingClientRect().height, line];
    })""")
    assert {name for name, _, _ in lines} >= {TRACK}
    for name, height, line in lines:
        assert height < line * 1.5, f"{name!r} takes {height}px at {width}px: broken over lines"


def test_links_that_leave_the_site_say_so(extreme, sized):
    site, paths = extreme
    page, _ = sized
    for path in paths:
        page.goto(site + path)
        links = page.evaluate("""() => [...document.querySelectorAll('main a[href^="http"]')]
            .filter(a => new URL(a.href).host !== location.host)
            .map(a => [a.href, a.classList.contains('external'),
                       [...a.querySelectorAll('.visually-hidden')].map(span => span.textContent).join(''),
                       getComputedStyle(a, '::after').content])""")
        for href, marked, said, shown in links:
            assert marked, f"{href} on {path} doesn't say it leaves the site"
            assert said == " (another website)"  # to screen readers
            assert "↗" in shown  # and to the eye


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# For the focused element: its ring's colours and widths, its own background and those behind it (every colour of
# the nearest ancestor that paints one, gradients included).
RING = """async el => {
  await Promise.all(el.getAnimations().map(animation => animation.finished));  // Bootstrap's .15s transitions
  const rgb = s => (s.match(/rgba?\\([^)]*\\)/g) || []).map(c => c.match(/[\\d.]+/g).map(Number))
      .filter(c => c.length < 4 || c[3] > 0.5);
  const style = getComputedStyle(el);
  const shadow = style.boxShadow.match(/(rgba?\\([^)]*\\)) 0px 0px 0px ([\\d.]+)px/);
  let behind = [];
  for (let a = el.parentElement; a && !behind.length; a = a.parentElement) {
    const s = getComputedStyle(a);
    behind = [...rgb(s.backgroundColor), ...rgb(s.backgroundImage)];
  }
  return {name: el.textContent.trim().slice(0, 40), outline: rgb(style.outlineColor)[0], style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), offset: parseFloat(style.outlineOffset),
          inner: shadow ? rgb(shadow[1])[0] : null, innerWidth: shadow ? parseFloat(shadow[2]) : 0,
          own: rgb(style.backgroundColor), behind: behind.length ? behind : [[255, 255, 255]]};
}"""


@pytest.mark.parametrize("path", ["/", "/programme/", "/tickets/", "/tickets/find/", "session"])
def test_every_button_shows_a_focus_ring_that_contrasts_with_it_and_the_page(extreme, sized, path):
    site, paths = extreme
    page, width = sized
    page.goto(site + (paths[3] if path == "session" else path))
    page.keyboard.press("Tab")  # keyboard use: focus() below shows :focus-visible, as tabbing does
    buttons = page.locator("main .btn, main button, .site-nav a")
    assert buttons.count()
    for n in range(buttons.count()):
        button = buttons.nth(n)
        if not button.is_visible():
            continue
        button.focus()
        ring = button.evaluate(RING)
        assert ring["style"] == "solid", ring
        assert ring["width"] >= 2, ring
        assert ring["offset"] >= 2, ring
        assert ring["inner"] is not None, ring  # the second colour, in the offset
        assert ring["innerWidth"] >= 2, ring
        assert contrast(ring["outline"], ring["inner"]) >= 3, ring  # two bands, each visible against the other
        for colour in ring["own"] + ring["behind"]:
            best = max(contrast(ring["outline"], colour), contrast(ring["inner"], colour))
            assert best >= 3, f"{ring['name']!r} on {path} at {width}px: ring {best:.1f}:1 against {colour}"
