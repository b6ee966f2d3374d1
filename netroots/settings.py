"""Settings for Netroots, read from the environment.

Development: DJANGO_DEBUG=1 and nothing else. Production: DJANGO_SECRET_KEY is required and the
site refuses to start without it; everything else has a safe default (see README, "Configuration").
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None or value == "" else value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
if DEBUG:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-never-use-in-production")
elif not (SECRET_KEY := os.environ.get("DJANGO_SECRET_KEY", "")):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Production (DJANGO_DEBUG off) needs a long random secret key; "
        "for development, set DJANGO_DEBUG=1 (python3 dev.py run does)."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", SITE_URL)
SITE_ID = 1  # django.contrib.sites' one Site, whose domain follows SITE_URL (speakers.redirects)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",  # SITE_ID below; needed by django.contrib.redirects
    "django.contrib.redirects",  # 301s from the old URLs of renamed sessions and speakers
    "django.contrib.sitemaps",  # /sitemap.xml (netroots/sitemaps.py)
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",  # django-axes: admin login throttle (AXES_* below)
    "django_tasks",  # background work through Django's task API (the django-tasks backport; TASKS below)
    # django_tasks_db, its database backend (tasks are rows, run by `manage.py db_worker`), named for organisers
    "tickets.apps.BackgroundTasksConfig",
    "netroots",
    "events",
    "speakers",
    "tickets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "netroots.middleware.RejectUnqueryableInputMiddleware",  # 400 for NUL bytes (and such) before any query
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "netroots.middleware.CSPMiddleware",  # django-csp's, with the site's own policy built once
    "netroots.pagecache.PageCacheHitMiddleware",  # cached public pages: a hit answers here; above it, headers only
    "tickets.concurrency_limit.ConcurrencyLimitMiddleware",  # below it, REQUESTS_AT_ONCE requests a process at once
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.contrib.redirects.middleware.RedirectFallbackMiddleware",  # a 404 whose path was renamed: 301
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: turns a lockout into its page
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "netroots.urls"
WSGI_APPLICATION = "netroots.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "netroots.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers queue
    # instead of failing with "database is locked" halfway through.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # PostgreSQL: a pool of connections per process (psycopg_pool, through Django), shared by its threads, instead
    # of one connection kept open per thread. A thread holds one only while it uses the database, and gives it back
    # before each call to Stripe (tickets.payments), so PostgreSQL sees at most DB_POOL_SIZE connections per process
    # (16 by default: far more than the REQUESTS_AT_ONCE requests that run at once, which use them). With
    # CONN_HEALTH_CHECKS (above) the pool checks each connection before it hands it out, so one left broken by a
    # PostgreSQL restart is replaced, not used. While PostgreSQL is away, a request waits for a connection at most
    # DB_POOL_TIMEOUT_SECONDS, then gets a database error (the reservation's "nothing was reserved" page): a short
    # wait, so a restart is ridden through but an outage doesn't hold every thread (cached pages still need one).
    # DB_POOL_SIZE=0: no pool, one persistent connection per thread (CONN_MAX_AGE, above) instead.
    if pool_size := int(os.environ.get("DB_POOL_SIZE") or "16"):
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django's own persistent connections: the pool replaces them
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": pool_size,
            "timeout": float(os.environ.get("DB_POOL_TIMEOUT_SECONDS", "2")),
        }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SESSION_ENGINE = "netroots.sessions"  # Django's database sessions, not written twice in a request (see there)

# "default" is shared by every server (REDIS_URL; this process's memory without it): the page cache and the rate
# limits. "local" is always this process's memory: the rate limits count there while "default" fails.
if os.environ.get("REDIS_URL"):
    # django-redis (with hiredis), not Django's own RedisCache, which builds a new client object for every call:
    # about 0.1 ms of each page cache hit. No IGNORE_EXCEPTIONS: /healthz must see the cache down, and the page cache
    # and the rate limits each decide what to do without it (netroots.pagecache, tickets.ratelimit).
    # Timeouts, in seconds (each call is one attempt: redis-py retries nothing here). Redis answers in well under a
    # millisecond; one that is hung or unreachable costs a call half a second at most, not redis-py's default 5 s
    # (a refused connection fails at once), and the page cache then leaves it alone until it answers again.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"}}
CACHES["local"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"}

# Background work (tickets/tasks.py): emails, refunds, releasing holds. Tasks are rows in the database,
# enqueued after the transaction that asks for them commits, and run by workers (`manage.py db_worker`, any
# number, on any machine); periodic ones are enqueued by `manage.py run_scheduler` (README, "Production").
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A task still "running" this long after it started belongs to a worker that died: it is run again (tasks are
# idempotent). Longer than any task takes: Stripe and the mail server each answer or time out within seconds.
TASK_STALLED_AFTER_SECONDS = int(os.environ.get("TASK_STALLED_AFTER_SECONDS", "600"))
TASK_RESULTS_KEPT_DAYS = int(os.environ.get("TASK_RESULTS_KEPT_DAYS", "14"))  # then pruned (they hold addresses)
# Names on tickets and check-in times, after the event ends (tickets/retention.py): what the privacy notice promises.
ATTENDEE_DETAILS_KEPT_DAYS = int(os.environ.get("ATTENDEE_DETAILS_KEPT_DAYS", "92"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["netroots.formats"]  # en_GB with a 24-hour clock (the admin's times; netroots/formats/)

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "sent-emails"))  # the file backend's folder
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))  # seconds; a hung mail server must not hold a worker
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Netroots UK <tickets@netroots.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Stripe. Without a secret key, `python3 dev.py run` starts the local Stripe test double and sets all three.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # another Stripe-compatible server (the test double)

# Requests that render or write, run at once in each process; the others wait their turn, at most
# REQUEST_TURN_TIMEOUT_SECONDS, then get a "busy, try again" 503 (tickets.concurrency_limit). 0: no limit.
# Pages from the page cache, static files and PATHS_WITHOUT_TURN take no turn.
REQUESTS_AT_ONCE = int(os.environ.get("REQUESTS_AT_ONCE", "2") or 0)
REQUEST_TURN_TIMEOUT_SECONDS = float(os.environ.get("REQUEST_TURN_TIMEOUT_SECONDS", "10"))
PATHS_WITHOUT_TURN = frozenset({"/healthz", "/stripe/webhook/", "/favicon.ico", "/robots.txt"})
# A request body over this is refused (413) before it is read (netroots.middleware): room for a speaker's photo.
MAX_REQUEST_BYTES = int(os.environ.get("MAX_REQUEST_BYTES", str(10 * 2**20)))

# Per client address, counted in the shared cache; empty turns a limit off (load tests).
RESERVATION_RATE_LIMIT = os.environ.get("RESERVATION_RATE_LIMIT", "10/m")
FIND_BOOKING_RATE_LIMIT = os.environ.get("FIND_BOOKING_RATE_LIMIT", "5/m")
# How many proxies in front of the site add to X-Forwarded-For (the TLS-terminating one: 1). With 0, a
# client is its REMOTE_ADDR; behind a proxy that would put every buyer in one rate-limit bucket.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# Unpaid bookings that may hold seats at once per client address and per email (tickets.services.reserve_tickets),
# so that no one client can hold the event; 0 (or empty) turns a limit off.
MAX_UNPAID_BOOKINGS_PER_CLIENT = int(os.environ.get("MAX_UNPAID_BOOKINGS_PER_CLIENT", "2") or 0)
MAX_UNPAID_BOOKINGS_PER_EMAIL = int(os.environ.get("MAX_UNPAID_BOOKINGS_PER_EMAIL", "2") or 0)
# A new order holds its seats this long (seconds) until its Stripe Checkout Session is recorded; then for the
# event's hold time. A buyer whose request failed in between (they saw an error) holds nothing for long.
PROVISIONAL_HOLD_SECONDS = int(os.environ.get("PROVISIONAL_HOLD_SECONDS", "120"))

# Admin login throttle (django-axes, attempts kept in the database): after ADMIN_LOGIN_FAILURE_LIMIT wrong
# passwords for one username from one client address, that pair is locked out for ADMIN_LOGIN_LOCKOUT_MINUTES,
# even with the right password. Per pair, so a stranger can't lock an organiser out from elsewhere.
AXES_FAILURE_LIMIT = int(os.environ.get("ADMIN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ADMIN_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "tickets.ratelimit.client_address"  # the address the rate limits count, proxies and all
AXES_LOCKOUT_TEMPLATE = "admin/login_locked_out.html"

# A strict policy: no inline script or style anywhere, every asset from this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (see README, "Production").
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},  # not twice via root
        "stripe": {"level": "WARNING"},  # it logs every request at INFO
        "apscheduler": {"level": "WARNING"},  # run_scheduler: it logs every tick at INFO; we log what it enqueues
    },
}
