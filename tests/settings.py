import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-secret-" + "x" * 40)

from netroots.settings import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False  # the live-server tests speak plain HTTP
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Serve static files straight from the apps' folders: tests don't run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the live-server tests' threads must share one database. One per run, so that
    # two runs side by side don't share it; the test runner deletes it at the end.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"netroots-test-{os.getpid()}.sqlite3")}  # noqa: F405

RESERVATION_RATE_LIMIT = ""  # tests that check the limit set it themselves
FIND_BOOKING_RATE_LIMIT = ""
MAX_UNPAID_BOOKINGS_PER_CLIENT = MAX_UNPAID_BOOKINGS_PER_EMAIL = 0  # as the rate limits: their tests turn them on
SITE_URL = "http://testserver"
# The admin login throttle (django-axes) needs a request to count a login; the test client's login() has none.
# tests/netroots/test_admin_login.py turns it on for the tests that check it.
AXES_ENABLED = False
# Tasks are rows, as in production, run at once by the worker's own code (tests/task_backend.py).
TASKS = {"default": {"BACKEND": "tests.task_backend.RunNowDatabaseBackend"}}
