"""Malformed input gets a 4xx, never a 500: NUL bytes anywhere in a request (PostgreSQL can't take them; run
this on PostgreSQL too), and odd but NUL-free values in the admin's search, filters and changelist parameters."""

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import SpeakerFactory
from tickets.models import Order

pytestmark = pytest.mark.django_db


def changelists() -> list[str]:
    return sorted(reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry)


# --- NUL bytes: one guard (netroots.middleware) answers 400 ---

ADMIN_WITH_NUL = [
    "/admin/tickets/order/?q=%00",
    "/admin/tickets/order/?status__exact=%00",
    "/admin/tickets/order/?event__id__exact=%00",
    "/admin/tickets/ticket/?order__status__exact=%00",
    "/admin/tickets/stripeevent/?type__exact=%00",
    "/admin/events/session/?kind__exact=%00",
    "/admin/speakers/speaker/?organisation__kind__exact=%00",
    "/admin/speakers/speaker/?q=ok&o=%00",
    "/admin/speakers/speaker/?p=%00",
    "/admin/speakers/speaker/?_changelist_filters=%00",
    "/admin/tickets/order/%00/change/",
    "/admin/speakers/speaker/1%00/change/",
    "/admin/auth/user/?q=%00",
]


@pytest.mark.parametrize("url", ADMIN_WITH_NUL)
def test_a_nul_byte_in_an_admin_search_filter_parameter_or_path_is_a_bad_request(client, organiser, url):
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("changelist", changelists())
def test_every_admin_changelist_refuses_a_nul_search(client, organiser, changelist):
    assert client.get(f"{changelist}?q=%00").status_code == 400
    assert client.get(f"{changelist}?q=fine").status_code == 200


PUBLIC_WITH_NUL = [
    "/?x=%00",
    "/programme/?kind=%00",
    "/programme/?track=%00",
    "/programme/?kind=talk&track=a%00b",
    "/programme/%00/",
    "/speakers/%00/",
    "/organisations/?%00=1",
    "/tickets/?quantity=%00",
    "/tickets/checkout/success/?session_id=cs_%00",
    "/tickets/order/NR-ABC%00/secret/",
    "/tickets/order/NR-ABCDEF/sec%00ret/calendar.ics",
    "/admin/login/?next=/admin/%00",
]


@pytest.mark.parametrize("url", PUBLIC_WITH_NUL)
def test_a_nul_byte_in_a_public_parameter_or_path_is_a_bad_request(client, demo, url):
    assert client.get(url).status_code == 400


def test_undecodable_bytes_in_a_parameter_are_harmless(client, demo):
    assert client.get("/programme/?kind=%ff%fe&track=%c3").status_code == 200


FORMS_WITH_NUL = [
    ("/tickets/", {"quantity": "1", "buyer_name": "Ada\x00", "buyer_email": "ada@example.com"}),
    ("/tickets/find/", {"email": "ada\x00@example.com"}),
    ("/admin/login/", {"username": "boss\x00", "password": "pw"}),
    ("/tickets/", {"quantity": "1", "buyer_name": "Ada", "buyer_email": "ada@example.com", "x\x00": "field name"}),
]


@pytest.mark.parametrize(("url", "data"), FORMS_WITH_NUL)
@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_a_nul_byte_in_a_public_form_is_a_bad_request(client, demo, url, data, encoding):
    if encoding == "multipart":
        response = client.post(url, data)
    else:
        body = "&".join(f"{k}={v}" for k, v in data.items()).replace("\x00", "%00")
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_a_nul_byte_in_an_admin_form_is_a_bad_request_and_saves_nothing(client, organiser):
    speaker = SpeakerFactory(name="Grace Hopper")
    url = reverse("admin:speakers_speaker_change", args=[speaker.pk])
    response = client.post(url, {"name": "Grace\x00", "slug": speaker.slug, "links": "[]", "role": "", "bio": ""})
    assert response.status_code == 400
    speaker.refresh_from_db()
    assert speaker.name == "Grace Hopper"


def test_a_nul_byte_in_a_cookie_is_a_bad_request(client, demo):
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"  # sent quoted, as "abcdefgh\000ijklmnop"; Django unquotes it
    assert client.get("/tickets/").status_code == 400


@pytest.mark.parametrize(
    "params", ["starts_at__year=0", "starts_at__year__gte=99999", "starts_at__iso_year=10000", "starts_at__year=-5"]
)
def test_a_year_no_date_can_have_in_an_admin_date_filter_is_a_bad_request(client, organiser, params):
    assert client.get(f"/admin/events/event/?{params}").status_code == 400
    assert client.get(f"/admin/tickets/ticket/?{params.replace('starts_at', 'checked_in_at')}").status_code == 400


def test_a_real_year_in_an_admin_date_filter_still_filters(client, organiser):
    assert client.get("/admin/events/event/?starts_at__year=2028").status_code == 200
    assert client.get("/admin/events/event/?starts_at__year__gte=1").status_code == 200


# --- odd values without NUL bytes: the admin answers them itself (a message or an empty list), never a 500 ---

ODD_PARAMETERS = [
    "q=%ff%fe",
    "q=" + "x" * 5000,
    "o=abc",
    "o=99.-99",
    "p=-1",
    "p=abc",
    "p=99999999999999999999",
    "e=1",
    "event__id__exact=abc",
    "event__id__exact=99999999999999999999",
    "id__gt=abc",
    "paid_at__gte=not-a-date",
    "starts_at__year=99999",
    "starts_at__year__lt=0",
    "checked_in_at__iso_year=0",
    "starts_at__month=13",
    "starts_at__date=0001-01-01",
    "starts_at__year__in=0,1",
    "status__exact=" + "y" * 300,
    "all=",
    "_to_field=password",
]


@pytest.mark.parametrize("params", ODD_PARAMETERS)
def test_odd_changelist_parameters_never_give_a_500(client, organiser, params):
    for changelist in changelists():
        response = client.get(f"{changelist}?{params}")
        assert response.status_code < 500, (changelist, params)


@pytest.mark.parametrize("object_id", ["abc", "-1", "99999999999999999999", "1.5", "%ff"])
def test_odd_object_ids_in_admin_paths_never_give_a_500(client, organiser, object_id):
    for changelist in changelists():
        for page in ("change/", "delete/", "history/"):
            response = client.get(f"{changelist}{object_id}/{page}")
            assert response.status_code < 500, (changelist, object_id, page)


# --- Bodies too large: refused before they are read ---


@pytest.mark.parametrize("path", ["/tickets/", "/healthz", "/admin/speakers/speaker/add/"])
def test_a_body_over_the_limit_is_refused_unread(client, demo, settings, path):
    settings.MAX_REQUEST_BYTES = 1_000
    photo = SimpleUploadedFile("photo.jpg", b"\xff" * 2_000, content_type="image/jpeg")
    response = client.post(path, {"buyer_name": "Ada", "photo": photo})
    assert response.status_code == 413
    assert response.content.decode() == "Request too large: at most 1000\xa0bytes."
    assert not Order.objects.exists()
