"""What a page cache hit goes through, made cheaper without changing what it sends.

netroots.middleware.CSPMiddleware builds the site's Content-Security-Policy once and hands every customised
response to django-csp: its headers must be the library's, byte for byte. The production cache (REDIS_URL)
is django-redis, which keeps one client; with Redis down the pages still render and /healthz says so.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE, SELF
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from netroots.middleware import CSPMiddleware
from tests.factories import EventFactory, SessionFactory

ROOT = Path(__file__).resolve().parent.parent.parent
REDIS_DOWN = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}}


def customise(response: HttpResponse, how: str) -> None:
    """What a view or django-csp's decorators may do to a response."""
    match how:
        case "update":
            response._csp_update = {"form-action": ["https://checkout.stripe.com"]}
        case "replace":
            response._csp_replace = {"img-src": ["https://img.example"]}
        case "config":
            response._csp_config = {"default-src": [SELF]}
        case "exempt":
            response._csp_exempt = True
        case "update_ro":
            response._csp_update_ro = {"form-action": ["https://checkout.stripe.com"]}
        case "own header":
            response[HEADER] = "default-src 'none'"


def headers(middleware_class, path: str = "/programme/", how: str = "", nonce: str | None = None) -> dict:
    middleware = middleware_class(lambda request: HttpResponse())
    request = RequestFactory().get(path)
    middleware.process_request(request)
    if nonce:
        request._csp_nonce = nonce  # what reading request.csp_nonce in a template leaves behind
    response = HttpResponse()
    customise(response, how)
    middleware.process_response(request, response)
    return {name: response.get(name) for name in (HEADER, HEADER_REPORT_ONLY)}


@pytest.mark.parametrize("how", ["", "update", "replace", "config", "exempt", "update_ro", "own header"])
def test_every_response_gets_the_librarys_own_policy(how):
    ours = headers(CSPMiddleware, how=how)
    assert ours == headers(LibraryCSPMiddleware, how=how)
    if how in ("", "update_ro"):
        assert "script-src 'self'" in ours[HEADER]


def test_a_nonce_read_by_the_page_is_in_its_policy(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}
    ours = headers(CSPMiddleware, nonce="abc123")
    assert ours == headers(LibraryCSPMiddleware, nonce="abc123")
    assert "'nonce-abc123'" in ours[HEADER]
    assert "nonce" not in headers(CSPMiddleware)[HEADER]  # unread: no nonce, as the library does


def test_a_changed_setting_changes_the_policy_of_the_same_middleware(settings):
    middleware = CSPMiddleware(lambda request: HttpResponse())

    def policy() -> dict:
        request = RequestFactory().get("/")
        middleware.process_request(request)
        response = middleware.process_response(request, HttpResponse())
        return {name: response.get(name) for name in (HEADER, HEADER_REPORT_ONLY)}

    assert "img-src 'self' data:" in policy()[HEADER]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [SELF], "img-src": ["https://img.example"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF]}}
    assert policy() == headers(LibraryCSPMiddleware)
    assert "img-src https://img.example" in policy()[HEADER]
    assert policy()[HEADER_REPORT_ONLY] == "default-src 'self'"


def test_excluded_paths_get_no_policy(settings):
    settings.CONTENT_SECURITY_POLICY = {**settings.CONTENT_SECURITY_POLICY, "EXCLUDE_URL_PREFIXES": ["/excluded/"]}
    assert headers(CSPMiddleware, path="/excluded/page")[HEADER] is None
    assert headers(CSPMiddleware, path="/excluded/page") == headers(LibraryCSPMiddleware, path="/excluded/page")
    assert headers(CSPMiddleware) == headers(LibraryCSPMiddleware)


def test_reading_the_nonce_after_the_header_is_written_is_an_error():
    middleware = CSPMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/")
    middleware.process_request(request)
    middleware.process_response(request, HttpResponse())
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


@pytest.mark.django_db
def test_cached_pages_and_the_reservation_page_send_the_same_policy_as_before(client, settings):
    EventFactory()
    SessionFactory()
    library = LibraryCSPMiddleware(lambda request: HttpResponse())
    expected = library.process_response(RequestFactory().get("/"), HttpResponse())[HEADER]
    for _ in range(2):  # rendered, then a page cache hit
        assert client.get("/programme/")[HEADER] == expected
    reservation = client.get("/tickets/")[HEADER]
    assert reservation.replace(" https://checkout.stripe.com", "") == expected
    assert "form-action 'self' https://checkout.stripe.com" in reservation


@pytest.mark.django_db
def test_pages_render_and_healthz_names_the_cache_while_django_redis_cannot_reach_redis(client, settings):
    SessionFactory(title="Sessiontitle Shown")
    settings.CACHES = REDIS_DOWN
    response = client.get("/programme/")
    assert response.status_code == 200
    assert b"Sessiontitle Shown" in response.content
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "cache" in health.json()["problems"]


def test_redis_url_selects_django_redis_and_no_redis_url_local_memory():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_URL"))}

    def backend(**env: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=ROOT,
            env={**clean, "DJANGO_SETTINGS_MODULE": "netroots.settings", "DJANGO_DEBUG": "1", **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert backend(REDIS_URL="redis://127.0.0.1:6379/0") == "django_redis.cache.RedisCache"
    assert backend() == "django.core.cache.backends.locmem.LocMemCache"
