import pytest

from tests.factories import OrganisationFactory, SessionFactory, SpeakerFactory

pytestmark = pytest.mark.django_db


def test_speaker_list_shows_name_role_and_organisation(client):
    speaker = SpeakerFactory(name="Mark Ferguson", role="Editor", organisation=OrganisationFactory(name="LabourList"))
    SessionFactory(with_speakers=[speaker])
    body = client.get("/speakers/").content.decode()
    assert "Mark Ferguson" in body
    assert "Editor, LabourList" in body


def test_speaker_page_lists_their_published_sessions_only(client):
    speaker = SpeakerFactory(name="Stella Creasy", bio="Speaks about participation.", links=["https://example.org/sc"])
    SessionFactory(title="Open up the party", with_speakers=[speaker])
    SessionFactory(title="Not yet announced", is_published=False, with_speakers=[speaker])
    body = client.get(speaker.get_absolute_url()).content.decode()
    assert "<h1>Stella Creasy</h1>" in body
    assert "Speaks about participation." in body
    assert 'href="https://example.org/sc"' in body
    assert "Open up the party" in body
    assert "Not yet announced" not in body


def test_organisations_page_groups_by_kind(client):
    OrganisationFactory(name="Compass", kind="campaign", blurb="A pressure group.")
    OrganisationFactory(name="Unite", kind="union")
    body = client.get("/organisations/").content.decode()
    assert body.index("Trade unions") < body.index("Unite")
    assert body.index("Campaign groups") < body.index("Compass")
    assert "A pressure group." in body
