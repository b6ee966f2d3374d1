"""Gunicorn settings, read from the environment (see README, "Production")."""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads (gthread), not one request per process: a reservation waiting on Stripe (up to 7 s when Stripe hangs:
# tickets/payments.py) holds one thread while the others serve everyone else (tests/tickets/test_stripe_slow.py;
# bench/purchase.py: 16 reservations hanging, /healthz and the programme page still answer in under 20 ms). More
# threads than 16 cost more than they give on a small machine: in the rush (bench/purchase.py, 2 cores) 64 threads
# per process made 60-80 reservations/s against 16 threads' 90-115, each thread's work slower behind the others for
# the GIL. Threads don't each keep a database connection: on PostgreSQL they share a pool of DB_POOL_SIZE per process
# (netroots/settings.py) and give theirs back while they wait on Stripe, so PostgreSQL sees at most app servers x
# WEB_CONCURRENCY x DB_POOL_SIZE connections from the site.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
preload_app = True  # load Django once, before forking: faster start, shared memory
max_requests = 5000  # recycle workers now and then to cap slow leaks
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
