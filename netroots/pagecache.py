"""Whole-page cache for the public pages, shared by every app server through the configured cache.

Versions. A page shows PROGRAMME (everything in the events and speakers apps) and, for the home page,
SALES too (orders: tickets left). A version is a random token kept in the shared cache beside the
pages; netroots.signals gives it a new token once a change to what it covers commits. A missing token
(evicted, or the cache restarted) is a new version too, never an old one come back.

Pages. Each is stored once, gzipped, under its path and query parameters, with the tokens it was
rendered under and the moment it stops being true: PAGE_TTL seconds after rendering, or sooner when
its content changes with time alone (the home page: sales open or close, a hold runs out). A page is
served only if its tokens are the current ones, read from the shared cache in the same request, and
that moment hasn't come. Each process also keeps the pages it served (LocalPages), so that a hit reads
only the tokens from the shared cache, not the page: one small cache read, and no SQL. A process that
hasn't got the current page reads it from the shared cache (a second read), or renders it.

The rare client that doesn't accept gzip gets the page decompressed. With DEBUG on nothing is cached,
so template edits show at once.

When the shared cache fails (Redis refuses, or doesn't answer within the timeouts in settings.CACHES), the
request that finds out renders its page uncached and this process stops using the shared cache (Outage):
every page is rendered as if nothing were cached, and the copies this process keeps are not served either,
since nothing can say they are still current. Writes commit as usual; their bumps are owed. A background
thread tries the shared cache every RETRY_SECONDS, pays the owed bumps, and only then lets requests use it
again. So no page from before a write is served once Redis is back: if Redis restarted empty, every token
is missing, hence new; if it was only unreachable, the owed bump replaces the token that the older pages
were stored under. Another process, which never saw the outage, could serve such a page only between
Redis answering again and the owing process's next try (RETRY_SECONDS, plus a timeout); and if the owing
process ends first (a management command), PAGE_TTL still bounds it. A hung Redis costs each process one
timeout, not one per request.
"""

import gzip
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import partial, wraps

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

logger = logging.getLogger(__name__)

PROGRAMME = "programme"  # what every public page shows: the events and speakers apps' models
SALES = "sales"  # tickets left: the home and session pages
PAGE_TTL = 60  # seconds: bounds how long a page outlives a change no signal reports
LOCAL_BYTES = 32 * 2**20  # gzipped pages each process keeps; 2,400 sessions' site is about 15 MB
RETRY_SECONDS = 1.0  # while the shared cache fails, this process tries it again this often, in the background

# A stored page: (tokens, content type, gzipped body, time.time() when it stops being true).
Page = tuple[str, str, bytes, float]


def version_key(version: str) -> str:
    return f"pagecache:version:{version}"


def _new_token(version: str) -> None:
    cache.set(version_key(version), secrets.token_hex(8), None)


class Outage:
    """Whether this process is leaving the shared cache alone because it failed, and the bumps it owes meanwhile.

    One instance per process (`outage`), shared by its threads. A failure starts a background thread (a daemon
    threading.Timer) that tries the shared cache every RETRY_SECONDS; when it answers, the thread pays the owed
    bumps and then ends the outage.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owed: set[str] = set()  # versions whose new token the shared cache hasn't got
        self._probe: threading.Timer | None = None  # set exactly while the outage lasts
        self._generation = 0  # a new one on reset(): a probe from before it changes nothing

    @property
    def on(self) -> bool:
        """True while requests must leave the shared cache alone (and render pages uncached)."""
        return self._probe is not None

    def begin(self, *, owed: str | None = None) -> None:
        """The shared cache failed (or is known down and `owed` couldn't be bumped): start or extend the outage."""
        with self._lock:
            if owed is not None:
                self._owed.add(owed)
            if self._probe is None:
                self._schedule()

    def reset(self) -> None:
        """Forget the outage and what is owed (another cache was configured: what was owed was owed to the old one)."""
        with self._lock:
            if self._probe is not None:
                self._probe.cancel()
            self._owed.clear()
            self._probe = None
            self._generation += 1

    def _schedule(self) -> None:  # with the lock held
        self._probe = threading.Timer(RETRY_SECONDS, self._try_cache, args=(self._generation,))
        self._probe.daemon = True  # a process may exit owing: PAGE_TTL bounds what that costs
        self._probe.start()

    def _try_cache(self, generation: int) -> None:
        """In the probe's thread: pay the owed bumps (or just read, if none) and end the outage; else try later."""
        with self._lock:
            owed, self._owed = self._owed, set()  # bumps owed from now on are the next round's
        try:
            for version in sorted(owed):
                _new_token(version)
            if not owed:
                cache.get(version_key(PROGRAMME))
        except Exception:
            logger.debug("Shared cache still unavailable", exc_info=True)
            with self._lock:
                if generation == self._generation:
                    self._owed |= owed
                    self._schedule()
            return
        with self._lock:
            if generation != self._generation:
                return
            if self._owed:  # a write came while paying: its bump was owed after the pay started
                self._schedule()
                return
            self._probe = None
        logger.info("Shared cache available again; page cache on (%d owed version bumps made)", len(owed))


outage = Outage()


@receiver(setting_changed)
def _caches_changed(*, setting: str, **kwargs) -> None:
    """override_settings(CACHES=...) in tests: an outage of the old cache says nothing about the new one."""
    if setting == "CACHES":
        outage.reset()


def bump(version: str) -> None:
    """Give `version` a new token: every page stored under the old one is stale from now on.

    Never raises: if the shared cache fails, or is known to be down (outage.on), the bump is owed and made by the
    outage's probe before this process uses the shared cache again. Costs at most one cache timeout.
    """
    if not outage.on:
        try:
            _new_token(version)
            return
        except Exception:
            logger.exception("Page cache unavailable; version %r will be bumped once it answers", version)
    outage.begin(owed=version)


def bump_on_commit(version: str, *, using: str | None = None) -> None:
    """Bump `version` once the current transaction commits (at once outside one).

    Not before: a page rendered in between would read the old rows and be stored under the new token.
    The change is committed whatever the cache says: bump() never raises, and owes what it can't make.
    """
    transaction.on_commit(partial(bump, version), using=using)


def current_tokens(keys: list[str]) -> str:
    """The tokens of the versions whose keys are `keys`: one cache read, and a write for each missing one."""
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            token = secrets.token_hex(8)
            # Two servers may both find it missing: the first one's token wins, for both.
            found[key] = token if cache.add(key, token, None) else cache.get(key, token)
    return ".".join(found[key] for key in keys)


class LocalPages:
    """This process's copies of pages from the shared cache, the least recently used dropped first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self._pages: OrderedDict[str, Page] = OrderedDict()
        self._lock = threading.Lock()  # for gunicorn's threads (GUNICORN_THREADS)

    def get(self, key: str) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: str, page: Page) -> None:
        with self._lock:
            if (old := self._pages.pop(key, None)) is not None:
                self.size -= len(old[2])
            self._pages[key] = page
            self.size += len(page[2])
            while self.size > self.max_bytes:
                self.size -= len(self._pages.popitem(last=False)[1][2])


local_pages = LocalPages(LOCAL_BYTES)


def _is_current(page: Page | None, tokens: str) -> bool:
    return page is not None and page[0] == tokens and time.time() < page[3]


def _page_response(request: HttpRequest, content_type: str, gzipped: bytes, body: bytes | None = None) -> HttpResponse:
    if "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "").lower():
        response = HttpResponse(gzipped, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(gzipped) if body is None else body, content_type=content_type)
    response["Vary"] = "Accept-Encoding"  # a new response: no Vary of its own to merge with
    return response


def cached_page(
    *,
    vary_on_params: tuple[str, ...] = (),
    versions: tuple[str, ...] = (PROGRAMME,),
    fresh_until: Callable[[HttpRequest], datetime | None] | None = None,
):
    """Cache a public GET view's 200 responses, gzipped, under the tokens of `versions`.

    `fresh_until(request)` says when what the view is about to show next changes with time alone (None:
    not before a version changes); it is called on a miss, before the view, so no change slips between.
    """
    version_keys = [version_key(version) for version in versions]

    def serve_hit(request: HttpRequest) -> HttpResponse | None:
        """The page from the cache if it is current, else None, leaving on the request what the view's wrapper
        needs: the key and tokens to store the page under, or None not to store it (not cacheable, cache down).
        Asks the shared cache nothing during an outage, and starts one if the cache fails."""
        request._page_cache_miss = None
        if settings.DEBUG or request.method not in ("GET", "HEAD") or "messages" in request.COOKIES or outage.on:
            return None
        params = "&".join(f"{name}={request.GET.get(name, '')[:64]}" for name in vary_on_params)
        key = "page:" + hashlib.sha256(f"{request.path}|{params}".encode()).hexdigest()
        try:
            tokens = current_tokens(version_keys)
            page = kept = local_pages.get(key)
            if not _is_current(page, tokens):
                page = cache.get(key) or kept
                if _is_current(page, tokens):
                    local_pages.put(key, page)
        except Exception:  # the cache is down: serve the page uncached rather than fail
            logger.exception("Page cache unavailable; rendering %s uncached", request.path)
            outage.begin()
            return None
        if _is_current(page, tokens):
            return _page_response(request, page[1], page[2])
        request._page_cache_miss = (key, tokens)
        # A page that was cached and has changed (the home page after a sale) renders ahead of other requests
        # (tickets.concurrency_limit): it serves many. Not a page never cached, so that requests for made-up
        # addresses (404s, never stored) can't jump the line; nor one with query parameters, which anyone can
        # vary to make pages of their own (?kind=anything shows the whole programme, and is stored).
        request.renders_for_page_cache = page is not None and not request.GET
        return None

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            # PageCacheHitMiddleware has normally asked already, and found it missing; asked again all the same
            # (a cache read or two): this request may have waited for its turn (tickets.concurrency_limit) behind
            # one that rendered and stored the page meanwhile.
            if (response := serve_hit(request)) is not None:
                return response
            if (miss := request._page_cache_miss) is None:
                return view(request, *args, **kwargs)  # not cacheable, or the cache is down
            key, tokens = miss
            expires_at = time.time() + PAGE_TTL
            if fresh_until and (changes_at := fresh_until(request)):
                expires_at = min(expires_at, changes_at.timestamp())
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or response.streaming:
                return response
            body, content_type = response.content, response["Content-Type"]
            gzipped = gzip.compress(body, compresslevel=6, mtime=0)
            page = (tokens, content_type, gzipped, expires_at)
            local_pages.put(key, page)
            try:
                cache.set(key, page, PAGE_TTL)
            except Exception:
                logger.exception("Page cache unavailable; %s not stored", request.path)
                outage.begin()
            return _page_response(request, content_type, gzipped, body)

        wrapper.serve_hit = serve_hit  # for PageCacheHitMiddleware
        return wrapper

    return decorator


class PageCacheHitMiddleware:
    """Serve a cached page's hit before the session, CSRF, auth and messages middleware run: a public page
    from the cache needs none of them, and they cost about a tenth of a hit (bench/programme.py).

    It resolves the path once more (cheap) to find the view's `serve_hit`; misses, other pages and every
    non-GET request go down the stack as usual, and the view's cached_page wrapper renders and stores.
    Headers set by middleware above this one in MIDDLEWARE (security, CSP, X-Frame-Options) apply to hits too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            serve_hit = getattr(match.func, "serve_hit", None) if match else None
            if serve_hit is not None and (response := serve_hit(request)) is not None:
                return response
        return self.get_response(request)
