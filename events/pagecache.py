"""Whole-page cache for the public pages, shared by every app server through the configured cache.

A page is cached under the programme's content version, a counter on Event that events.signals
bumps whenever anything a public page shows changes. Reading the version costs one small query,
so a change made by one server is seen by all of them at once, whatever the cache backend.
Entries also expire after PAGE_TTL seconds, so time-based text ("tickets on sale") stays fresh.
With DEBUG on nothing is cached, so template edits show at once.
"""

import gzip
import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from events.models import Event

PAGE_TTL = 60


def content_version() -> int:
    """One query on every cached page, so plain SQL: building the ORM aggregate costs more than running it
    (bench/programme.py measured 1.18 against 0.94 ms of server CPU per cached page)."""
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(content_version) FROM {table}")  # noqa: S608 - a table name, no user input
        return cursor.fetchone()[0] or 0


def bump_content_version() -> None:
    Event.objects.update(content_version=F("content_version") + 1)


def _accepts_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def cached_page(*, vary_on_params: tuple[str, ...] = (), vary_on=None):
    """Cache a public GET view's 200 responses, with a gzipped copy made once per version.

    `vary_on(request) -> str` adds live state to the key (the home page's tickets left), so that
    state can change without invalidating every other page.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if settings.DEBUG or request.method not in ("GET", "HEAD") or "messages" in request.COOKIES:
                return view(request, *args, **kwargs)
            params = "&".join(f"{name}={request.GET.get(name, '')[:64]}" for name in vary_on_params)
            live = vary_on(request) if vary_on else ""
            raw = f"{content_version()}|{request.path}|{params}|{live}"
            key = "page:" + hashlib.sha256(raw.encode()).hexdigest()
            entry = cache.get(key)
            if entry is None:
                response = view(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming:
                    return response
                body = response.content
                entry = (response["Content-Type"], body, gzip.compress(body, compresslevel=6, mtime=0))
                cache.set(key, entry, PAGE_TTL)
            content_type, body, gzipped = entry
            if _accepts_gzip(request):
                response = HttpResponse(gzipped, content_type=content_type)
                response["Content-Encoding"] = "gzip"
            else:
                response = HttpResponse(body, content_type=content_type)
            patch_vary_headers(response, ["Accept-Encoding"])
            return response

        return wrapper

    return decorator
