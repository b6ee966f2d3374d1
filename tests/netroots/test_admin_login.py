"""Admin login is throttled per username and client address (django-axes): after AXES_FAILURE_LIMIT wrong passwords
that pair is locked out, even with the right password, until the cool-off ends; others are not."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
RIGHT_PASSWORD = "right-password"


@pytest.fixture(autouse=True)
def axes_on(settings):
    """tests/settings.py turns django-axes off for the rest of the suite (client.login has no request)."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def boss(db):
    return User.objects.create_superuser("boss", "boss@example.com", RIGHT_PASSWORD)


def log_in(client, username="boss", password=RIGHT_PASSWORD, address="203.0.113.5", **headers):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_the_right_password_logs_in(client, boss):
    assert logged_in(log_in(client))


def test_after_the_failure_limit_even_the_right_password_is_refused_with_the_lockout_page(client, boss):
    for _ in range(2):
        assert log_in(client, password="wrong").status_code == 200  # the login form again, with its error
    locked = log_in(client, password="wrong")  # the third: the limit
    assert locked.status_code == 429
    response = log_in(client)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many login attempts" in body
    assert "Try again in 15 minutes" in body
    assert "admin/css/login.css" in body  # in the admin's own style
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_address(client, boss):
    for _ in range(3):
        log_in(client, password="wrong")
    assert log_in(client).status_code == 429
    assert logged_in(log_in(Client(), address="198.51.100.7"))  # the same account from elsewhere
    User.objects.create_user("door", password="door-password", is_staff=True)
    assert logged_in(log_in(Client(), username="door", password="door-password"))  # another account from here


def test_the_lockout_ends_after_the_cool_off(client, boss, settings):
    for _ in range(3):
        log_in(client, password="wrong")
    assert log_in(client).status_code == 429
    settings.AXES_COOLOFF_TIME = timedelta(0)  # as if the cool-off had passed
    assert logged_in(log_in(client))


def test_a_successful_login_resets_the_count(client, boss):
    for _ in range(2):
        log_in(client, password="wrong")
    assert logged_in(log_in(client))
    for _ in range(2):
        assert log_in(Client(), password="wrong").status_code == 200
    assert logged_in(log_in(Client()))


def test_behind_a_trusted_proxy_each_client_address_counts_not_the_proxys(client, boss, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    for _ in range(3):
        log_in(client, password="wrong", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert log_in(client, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    # the same proxy, another client: not locked out (and a forged left-hand entry changes nothing)
    assert logged_in(log_in(Client(), address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.7"))


def test_the_settings_read_limits_from_the_environment():
    code = "from django.conf import settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "netroots.settings", "DJANGO_DEBUG": "1"}
    env.update(ADMIN_LOGIN_FAILURE_LIMIT="7", ADMIN_LOGIN_LOCKOUT_MINUTES="30")
    script = f"import django; django.setup(); {code}"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[:2] == ["7", "0:30:00"]
