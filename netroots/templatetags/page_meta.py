"""What a page says about itself in its <head>: its title and description once, for the browser, search engines
and link previews (OpenGraph, Twitter cards) alike, with absolute URLs built on settings.SITE_URL.

    {% load page_meta %}
    {% capture as page_title %}{% block title %}...{% endblock %}{% endcapture %}
    <title>{{ page_title }}</title>  <meta property="og:title" content="{{ page_title }}">
    {% share_url as page_url %}<meta property="og:url" content="{{ page_url }}">
"""

from urllib.parse import urljoin

from django import template
from django.conf import settings
from django.template.base import Node, NodeList, Parser, Token
from django.utils.safestring import mark_safe

from netroots.sitemaps import is_private

register = template.Library()


class CaptureNode(Node):
    child_nodelists = ("nodelist",)  # so that {% extends %} finds the blocks inside

    def __init__(self, nodelist: NodeList, name: str) -> None:
        self.nodelist, self.name = nodelist, name

    def render(self, context) -> str:
        # The contents were escaped as they rendered: what is kept is HTML, safe to output again.
        context[self.name] = mark_safe(self.nodelist.render(context).strip())  # noqa: S308
        return ""


@register.tag
def capture(parser: Parser, token: Token) -> CaptureNode:
    """{% capture as NAME %}...{% endcapture %}: renders its contents (blocks too) once, outputs nothing, and sets
    NAME in the context to the result, stripped of surrounding whitespace, to use as often as needed."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("Use {% capture as name %}...{% endcapture %}.")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])


@register.simple_tag(takes_context=True)
def share_url(context) -> str:
    """The page's own absolute address (settings.SITE_URL and the path, no query), for link previews and
    rel=canonical; "" for a private page (a booking's secret link...: netroots.sitemaps.private_paths), whose
    address the page must not repeat, and for a template rendered without a request."""
    request = context.get("request")
    if request is None or is_private(request.path):
        return ""
    return absolute_url(request.path)


@register.simple_tag
def absolute_url(path: str) -> str:
    """`path` ("/programme/", or a static file's URL) as an absolute URL on the public site (settings.SITE_URL)."""
    return urljoin(settings.SITE_URL + "/", str(path))
