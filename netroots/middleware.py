"""One guard for every view: input no query can take is a 400, before any view or query sees it.

PostgreSQL can't store or compare a NUL byte in text ("A string literal cannot contain NUL"), so one
in an admin search, a filter, a public ?kind=, a form field, a cookie or a URL path would otherwise end as a 500
wherever it reached a query. No honest browser sends one; nothing legitimate is refused.

The same for a year outside 1-9999 in an admin date filter (`?starts_at__year=0`): the admin accepts a lookup
on any field from the URL, and Django's year lookups fail with a ValueError only when the query runs.
"""

import re
from collections.abc import Callable, Iterable

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.template.defaultfilters import filesizeformat

NUL = "\x00"
YEAR_LOOKUP = re.compile(r"__(?:iso_)?year(?:__(?:exact|gt|gte|lt|lte))?$")  # not __in: Django copes
YEAR = re.compile(r"\s*\+?0*[1-9][0-9]{0,3}\s*")  # 1 to 9999, as int() reads it


def _has_nul(pairs: Iterable[tuple[str, list]]) -> bool:
    return any(NUL in key or any(NUL in str(value) for value in values) for key, values in pairs)


def carries_nul_byte(request: HttpRequest) -> bool:
    """True if the path, query string, cookies or form data (names and values, file names too) hold a NUL byte."""
    if NUL in request.path_info or _has_nul(request.GET.lists()):
        return True
    if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
        return True
    if request.method == "POST":  # form data only: Django leaves other bodies (the webhook's JSON) unread
        if _has_nul(request.POST.lists()):
            return True
        return any(NUL in key or any(NUL in (f.name or "") for f in files) for key, files in request.FILES.lists())
    return False


def has_impossible_year(request: HttpRequest) -> bool:
    """True if a `...__year=` query parameter isn't a year Python's dates have (1 to 9999)."""
    return any(
        not YEAR.fullmatch(value) for key, values in request.GET.lists() if YEAR_LOOKUP.search(key) for value in values
    )


def body_too_large(request: HttpRequest) -> bool:
    """True if the request says its body is over settings.MAX_REQUEST_BYTES: refused before any of it is read.
    (Django caps form fields, DATA_UPLOAD_MAX_MEMORY_SIZE, but not uploaded files; and the form data is read here,
    before a request takes its turn: tickets.concurrency_limit.)"""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > settings.MAX_REQUEST_BYTES
    except ValueError:
        return False  # Django reads no body it can't size


class RejectUnqueryableInputMiddleware:
    """Answer 413 to a body over MAX_REQUEST_BYTES, then 400 to any request that carries a NUL byte or an
    impossible year (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if body_too_large(request):
            return HttpResponse(
                f"Request too large: at most {filesizeformat(settings.MAX_REQUEST_BYTES)}.",
                status=413,
                content_type="text/plain",
            )
        if carries_nul_byte(request):
            return HttpResponseBadRequest("Bad request: the request contains a NUL byte.", content_type="text/plain")
        if has_impossible_year(request):
            return HttpResponseBadRequest("Bad request: a year must be from 1 to 9999.", content_type="text/plain")
        return self.get_response(request)


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the site's own policy built once rather than on every response.

    django-csp 4.0 builds the Content-Security-Policy header from settings for every response (copies,
    sorting and joins: about 0.1 ms, a sizeable share of a page cache hit). A response that nothing
    customised gets the same string each time, so this builds it once, with the library's own
    build_policy, and reuses it. Anything else goes to the library as it is: a view that sets
    _csp_config, _csp_update, _csp_replace or _csp_exempt (or their report-only forms, as django-csp's
    decorators do; the reservation page adds Checkout's form-action), a request that used its nonce, a
    response that already has the header, a path in EXCLUDE_URL_PREFIXES, and every response under DEBUG.
    The string is built again whenever the CONTENT_SECURITY_POLICY settings are replaced (override_settings).
    """

    _VIEW_ATTRIBUTES = tuple(
        f"_csp_{part}{suffix}" for part in ("config", "update", "replace", "exempt") for suffix in ("", "_ro")
    )
    _built_from: tuple[object, object] | None = None  # the settings the policies below were built from
    _policies: tuple[str, str, tuple[str, ...]] = ("", "", ())

    def _default_policies(self) -> tuple[str, str, tuple[str, ...]]:
        """(policy, report-only policy, excluded path prefixes) for a response that nothing customised."""
        settings_now = (
            getattr(settings, "CONTENT_SECURITY_POLICY", None),
            getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None),
        )
        if settings_now != self._built_from:  # the same objects: equal at once, no comparison of their contents
            excluded = [(policy or {}).get("EXCLUDE_URL_PREFIXES") or () for policy in settings_now]
            self._policies = (build_policy(), build_policy(report_only=True), tuple(excluded[0]) + tuple(excluded[1]))
            self._built_from = settings_now
        return self._policies

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        policy, policy_ro, excluded = self._default_policies()
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in self._VIEW_ATTRIBUTES)
            or HEADER in response
            or HEADER_REPORT_ONLY in response
            or request.path_info.startswith(excluded)
        ):
            return super().process_response(request, response)
        if policy:
            response[HEADER] = policy
        if policy_ro:
            response[HEADER_REPORT_ONLY] = policy_ro
        # As the library does: once the header is written, reading request.csp_nonce is an error.
        request.csp_nonce = csp.middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
