"""The per-client rate limit: who counts as one client, and when the window fills."""

import pytest
from django.test import RequestFactory

from tickets import ratelimit


def request(remote_addr="10.0.0.1", forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().post("/tickets/", REMOTE_ADDR=remote_addr, **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "client"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy trusted: the header is the client's own word
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged entry on the left is ignored
        (2, "6.6.6.6, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        (1, None, "10.0.0.1"),  # reached directly, not through the proxy
        (2, "203.0.113.9", "10.0.0.1"),  # fewer entries than proxies: don't guess
    ],
)
def test_the_client_is_the_address_the_outermost_trusted_proxy_saw(settings, proxies, forwarded, client):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert ratelimit.client_address(request(forwarded=forwarded)) == client


def test_buyers_behind_one_proxy_have_their_own_allowance(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    first, second = request(forwarded="203.0.113.1"), request(forwarded="203.0.113.2")
    assert [ratelimit.allow(first, scope="t", rate="2/m") for _ in range(3)] == [True, True, False]
    assert ratelimit.allow(second, scope="t", rate="2/m")


def test_an_empty_rate_is_no_limit():
    assert all(ratelimit.allow(request(), scope="t", rate="") for _ in range(100))
