"""netroots.sessions: a session saved by the view is not written again with the response, and still reaches the
browser; changed data is written."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from netroots.sessions import SessionStore

pytestmark = pytest.mark.django_db


def session_writes(captured) -> list[str]:
    return [q["sql"] for q in captured if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]


def test_the_same_data_is_written_once_and_changed_data_again():
    store = SessionStore()
    store["orders"] = ["NR-AAAAAA"]
    with CaptureQueriesContext(connection) as captured:
        store.save()
        store.save()  # as SessionMiddleware does after the view saved it
    assert len(session_writes(captured)) == 1  # one INSERT: the second save writes nothing
    assert Session.objects.count() == 1
    store["orders"].append("NR-BBBBBB")  # changed in place
    with CaptureQueriesContext(connection) as captured:
        store.save()
    assert session_writes(captured)
    assert SessionStore(store.session_key).load()["orders"] == ["NR-AAAAAA", "NR-BBBBBB"]
