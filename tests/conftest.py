import io

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty page cache, and with the rate limits asking the shared cache."""
    from tickets import ratelimit

    cache.clear()
    ratelimit._shared_cache_failed_at = -ratelimit.SHARED_CACHE_RETRY_SECONDS
    yield
    cache.clear()


@pytest.fixture
def demo(db):
    """The Netroots UK demo programme, loaded through its management command."""
    from events.models import Event

    call_command("load_demo", stdout=io.StringIO())
    return Event.objects.get()


@pytest.fixture
def stripe_double(settings):
    """The Stripe test double on an ephemeral loopback port, with the real stripe library pointed at it."""
    from stripe_double import StripeDouble

    double = StripeDouble(webhook_secret="whsec_test_double").start()
    settings.STRIPE_API_BASE = double.base_url
    settings.STRIPE_SECRET_KEY = "sk_test_double"
    settings.STRIPE_WEBHOOK_SECRET = double.webhook_secret
    yield double
    double.stop()


@pytest.fixture
def organiser(client):
    """The test client, logged in as a superuser (an organiser); returns the user."""
    user = User.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return user
