import io

import pytest
from django.core.cache import cache
from django.core.management import call_command


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty page cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(db):
    """The Netroots UK demo programme, loaded through its management command."""
    from events.models import Event

    call_command("load_demo", stdout=io.StringIO())
    return Event.objects.get()
