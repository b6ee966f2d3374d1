"""Links organisers enter (speakers' links, organisations' websites) are http(s) or mailto only: the admin refuses
anything else with a message, never a 500, and public pages link only to links that pass."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from speakers.models import Organisation, Speaker
from tests.factories import OrganisationFactory, SessionFactory, SpeakerFactory
from tests.tickets.admin.helpers import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    """A programme editor, the role that enters speakers and organisations."""
    client.force_login(staff_user("editor", "Programme editors"))


def speaker_form(speaker: Speaker, links: str) -> dict:
    return {"name": speaker.name, "slug": speaker.slug, "role": "", "bio": "", "links": links, "organisation": ""}


def save_links(client, speaker: Speaker, links: str):
    return client.post(reverse("admin:speakers_speaker_change", args=[speaker.pk]), speaker_form(speaker, links))


REFUSED_LINKS = {
    "javascript": ('["javascript:alert(1)"]', "is not a link"),
    "javascript, bare": ("javascript:alert(1)", "Enter a valid JSON."),
    "a number": ("5", "Enter a list of links"),
    "null": ("null", "Enter a list of links"),
    "ftp": ('["ftp://x"]', "is not a link"),
    "a dict": ('{"url": "https://example.org"}', "Enter a list of links"),
    "a string, not a list": ('"https://example.org"', "Enter a list of links"),
    "a number in the list": ("[5]", "Each link must be a web address"),
    "a nested list": ('[["https://example.org"]]', "Each link must be a web address"),
    "data URL": ('["data:text/html,<script>alert(1)</script>"]', "is not a link"),
    "no scheme": ('["example.org"]', "is not a link"),
    "escaped NUL": ('["https://example.org/\\u0000"]', "Each link must be a web address"),
    "lone surrogate": ('["https://example.org/\\ud800"]', "Each link must be a web address"),
    "mailto without an address": ('["mailto:nobody"]', "is not a mailto: link"),
}


@pytest.mark.parametrize(("links", "message"), REFUSED_LINKS.values(), ids=REFUSED_LINKS.keys())
def test_the_admin_refuses_a_link_that_is_not_http_or_mailto_with_a_message(client, editor, links, message):
    speaker = SpeakerFactory(links=["https://example.org/before"])
    response = save_links(client, speaker, links)
    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert "links" in errors
    assert message in " ".join(errors["links"])
    speaker.refresh_from_db()
    assert speaker.links == ["https://example.org/before"]


def test_the_admin_accepts_http_https_and_mailto_links_and_an_empty_list(client, editor):
    speaker = SpeakerFactory()
    links = '["https://example.org/a", "http://example.org/b", "mailto:ada@example.org"]'
    assert save_links(client, speaker, links).status_code == 302
    speaker.refresh_from_db()
    assert speaker.links == ["https://example.org/a", "http://example.org/b", "mailto:ada@example.org"]
    assert save_links(client, speaker, "[]").status_code == 302
    speaker.refresh_from_db()
    assert speaker.links == []


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://example.org", "data:text/html,x", "mailto:a@example.org"]
)
def test_the_admin_refuses_an_organisation_website_that_is_not_http(client, editor, url):
    organisation = OrganisationFactory(url="https://example.org")
    data = {"name": organisation.name, "slug": organisation.slug, "kind": organisation.kind, "url": url, "blurb": ""}
    response = client.post(reverse("admin:speakers_organisation_change", args=[organisation.pk]), data)
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    organisation.refresh_from_db()
    assert organisation.url == "https://example.org"


def test_the_models_refuse_bad_links_outside_the_admin_too():
    with pytest.raises(ValidationError) as refused:
        SpeakerFactory.build(links=["javascript:alert(1)"], organisation=None).full_clean()
    assert "links" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        SpeakerFactory.build(links=None, organisation=None).full_clean()
    assert "links" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        OrganisationFactory.build(url="ftp://example.org").full_clean()
    assert "url" in refused.value.message_dict


def test_the_demo_programme_passes_its_own_link_rules():
    call_command("load_demo", stdout=io.StringIO())
    for obj in [*Speaker.objects.all(), *Organisation.objects.all()]:
        obj.full_clean()


def test_public_pages_link_only_to_valid_links_even_if_a_bad_one_was_stored_before(client):
    """Rows saved before the rule (or by code that skips full_clean) may hold anything: it is never an href."""
    organisation = OrganisationFactory(name="Old Org", url="javascript:alert(2)")
    speaker = SpeakerFactory(
        organisation=organisation, links=["javascript:alert(1)", "https://example.org/ok", "mailto:ada@example.org"]
    )
    SessionFactory(with_speakers=[speaker])
    body = client.get(speaker.get_absolute_url()).content.decode()
    assert "javascript:" not in body
    assert 'href="https://example.org/ok"' in body
    assert 'href="mailto:ada@example.org"' in body
    body = client.get("/organisations/").content.decode()
    assert "Old Org" in body
    assert "javascript:" not in body


def test_a_speaker_whose_stored_links_are_not_a_list_still_has_a_page(client):
    speaker = SpeakerFactory(links=5)
    SessionFactory(with_speakers=[speaker])
    assert client.get(speaker.get_absolute_url()).status_code == 200
