import pytest

from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_organisations_page_groups_by_kind(client):
    OrganisationFactory(name="Compass", kind="campaign", blurb="A pressure group.")
    OrganisationFactory(name="Unite", kind="union")
    body = client.get("/organisations/").content.decode()
    assert body.index("Trade unions") < body.index("Unite")
    assert body.index("Campaign groups") < body.index("Compass")
    assert "A pressure group." in body
