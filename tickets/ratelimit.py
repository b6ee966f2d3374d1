"""A fixed-window rate limit per client address, counted in the shared cache.

Hand-written (about 20 lines) because django-ratelimit refuses the local-memory cache that a fresh
checkout runs with and does not know Django's own Redis backend.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

UNITS = {"s": 1, "m": 60, "h": 3600}


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


def allow(request: HttpRequest, *, scope: str, rate: str) -> bool:
    """Count this request; False once the client has used up its allowance for the current window."""
    parsed = parse_rate(rate)
    if parsed is None:
        return True
    limit, seconds = parsed
    window = int(time.time() // seconds)
    key = f"rl:{scope}:{client_address(request)}:{window}"
    cache.add(key, 0, timeout=seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=seconds + 1)
        count = 1
    return count <= limit
