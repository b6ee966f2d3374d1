"""Gunicorn settings, read from the environment (see README, "Production")."""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads (gthread), not one request per process: a reservation waiting on Stripe (up to 7 s when Stripe hangs:
# tickets/payments.py) holds one thread while the others serve everyone else (tests/tickets/test_stripe_slow.py;
# bench/purchase.py: 16 reservations hanging, /healthz and the programme page still answer in under 20 ms). Enough
# threads that a rush's reservations, each waiting on Stripe a few hundred ms, leave threads free for other visitors
# (bench/purchase.py: 200 buyers over two servers). Threads don't each keep a database connection: on PostgreSQL
# they share a pool of DB_POOL_SIZE per process (netroots/settings.py), and give theirs back while they wait on
# Stripe, so PostgreSQL sees at most app servers x WEB_CONCURRENCY x DB_POOL_SIZE connections from the site.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "64"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
preload_app = True  # load Django once, before forking: faster start, shared memory
max_requests = 5000  # recycle workers now and then to cap slow leaks
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
