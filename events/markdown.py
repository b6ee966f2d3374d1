"""Organisers' formatted text (the event's information pages): Markdown in, safe HTML out.

Two layers, each maintained by others:
1. Python-Markdown renders the text with raw HTML turned off: `<script>` or `<img onerror=...>` typed in
   the text shows as those characters, never as markup (as CommonMark renderers do with HTML off).
2. nh3 (the Ammonia sanitiser) then keeps only an allow-list of tags, attributes and URL schemes, so
   a `javascript:` link, an event handler or a style attribute can't get through even if step 1 let
   something by (a Markdown extension, a bug).

Links that leave the site get rel="nofollow noopener"; headings get ids ("info-" + the heading's
words) so that a question on the FAQ can be linked to; `[TOC]` on a line of its own lists the headings.
"""

from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import markdown
import nh3
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify as toc_slugify
from markdown.treeprocessors import Treeprocessor

EXTERNAL_REL = "nofollow noopener"
HEADING_ID_PREFIX = "info-"  # keeps organisers' heading ids apart from the page's own ("main", ...)

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h2", "h3", "h4", "h5", "h6",
    "hr", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}
ALLOWED_CLASSES = {"div": {"toc"}}  # the list of headings that [TOC] makes


def is_external(href: str) -> bool:
    """True if `href` (a link's target) is a web address on another host than settings.SITE_URL's."""
    parts = urlsplit(href.strip())
    if parts.scheme.lower() not in ("http", "https", "") or not parts.netloc:
        return False  # relative, a fragment, mailto: or tel:
    return parts.netloc.lower() != urlsplit(settings.SITE_URL).netloc.lower()


class _PageFit(Treeprocessor):
    """Fits the text into its page once Markdown has built it: an <h1> becomes an <h2> (the page's title is the
    only <h1>), and links to other sites get rel="nofollow noopener"."""

    def run(self, root: Element) -> None:
        for heading in root.iter("h1"):
            heading.tag = "h2"
        for link in root.iter("a"):
            if is_external(link.get("href", "")):
                link.set("rel", EXTERNAL_REL)


class _SafeMarkdown(Extension):
    """No raw HTML (it is escaped as text); headings and links fitted to the page (_PageFit)."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # Python-Markdown's name
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_PageFit(md), "page_fit", 0)  # last: after links and heading ids are made


def _heading_id(value: str, separator: str) -> str:
    return HEADING_ID_PREFIX + toc_slugify(value, separator)


def render(text: str) -> SafeString:
    """The HTML of `text` (Markdown, as organisers write it), safe to put in a page as it is.

    "# Heading" makes an <h2>, as "## Heading" does, so that the page's title stays its only <h1>.
    Pure: reads settings.SITE_URL (to tell external links), writes nothing.
    """
    md = markdown.Markdown(
        extensions=[
            "sane_lists",
            TableExtension(use_align_attribute=True),  # align="right", not a style attribute (sanitised away)
            "smarty",
            TocExtension(slugify=_heading_id, toc_depth="1-3"),
            _SafeMarkdown(),
        ],
        output_format="html",
    )
    html = nh3.clean(
        md.convert(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values={"a": {"rel": {EXTERNAL_REL}}},  # only the rel the tree processor sets
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=None,  # ours, per link, not nh3's on every link
        strip_comments=True,
    )
    return mark_safe(html)  # noqa: S308 (sanitised by nh3 just above)
