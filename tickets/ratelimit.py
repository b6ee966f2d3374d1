"""A fixed-window rate limit per client address, counted in the shared cache.

Hand-written (about 20 lines) because django-ratelimit refuses the local-memory cache that a fresh
checkout runs with and does not know Django's own Redis backend.

When the shared cache fails (Redis down, or not answering within its timeouts), the request is counted in
this process's own memory instead (the "local" cache, a LocMemCache): the limit still applies, to each
process on its own, so while Redis is out a client can get at most its allowance once per server process
(gunicorn worker). Not "no limit", which would open the site to floods exactly when something is already
wrong; not "refuse everyone", which would stop all reservations over an outage they don't otherwise need
(they need only the database). Once the shared cache has failed, this process counts in its own memory
for SHARED_CACHE_RETRY_SECONDS before it asks the shared cache again: a hung Redis costs a process one of
its timeouts (settings.CACHES) that often, not every reservation one, each while it holds its turn
(tickets.concurrency_limit).
"""

import logging
import time

from django.conf import settings
from django.core.cache import BaseCache, cache, caches
from django.http import HttpRequest

logger = logging.getLogger(__name__)

UNITS = {"s": 1, "m": 60, "h": 3600}
SHARED_CACHE_RETRY_SECONDS = 5.0

_shared_cache_failed_at = -SHARED_CACHE_RETRY_SECONDS  # time.monotonic() of this process's last failure


def parse_rate(rate: str) -> tuple[int, int] | None:
    """ "10/m" -> (10, 60); "" -> None (no limit)."""
    if not rate:
        return None
    count, _, unit = rate.partition("/")
    return int(count), UNITS[unit]


def client_address(request: HttpRequest) -> str:
    """The buyer's address. Behind N trusted proxies (TRUSTED_PROXY_COUNT), REMOTE_ADDR is the nearest proxy's,
    and the client is the address the outermost trusted proxy added to X-Forwarded-For: the N-th from the right.
    Entries further left were written by the client and can't be trusted."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _count(counts: BaseCache, key: str, seconds: int) -> int:
    """Add one to the count under `key` in `counts`, which forgets it after `seconds`; the new count."""
    counts.add(key, 0, timeout=seconds + 1)
    try:
        return counts.incr(key)
    except ValueError:  # the key expired between add and incr
        counts.add(key, 1, timeout=seconds + 1)
        return 1


def allow(request: HttpRequest, *, scope: str, rate: str) -> bool:
    """Count this request; False once the client has used up its allowance for the current window.

    Counted in the shared cache, or in this process's memory while that fails and for SHARED_CACHE_RETRY_SECONDS
    after (see above). Never raises for the cache."""
    global _shared_cache_failed_at
    parsed = parse_rate(rate)
    if parsed is None:
        return True
    limit, seconds = parsed
    window = int(time.time() // seconds)
    key = f"rl:{scope}:{client_address(request)}:{window}"
    if time.monotonic() - _shared_cache_failed_at < SHARED_CACHE_RETRY_SECONDS:
        return _count(caches["local"], key, seconds) <= limit
    try:
        count = _count(cache, key, seconds)
    except Exception:
        _shared_cache_failed_at = time.monotonic()
        logger.exception("Rate limit %r counted in this process only: the shared cache failed", scope)
        count = _count(caches["local"], key, seconds)
    return count <= limit
