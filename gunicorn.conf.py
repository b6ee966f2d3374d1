"""Gunicorn settings, read from the environment (see README, "Production")."""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads (gthread), not one request per process: a reservation waiting on Stripe (up to 7 s when Stripe hangs:
# tickets/payments.py) holds one thread while the others serve everyone else (tests/tickets/test_stripe_slow.py).
# Many threads, most of them waiting: only REQUESTS_AT_ONCE requests of a process render or write at once
# (tickets/concurrency_limit.py; the rest sleep until their turn, so the GIL is shared by few), and a page from the
# page cache takes no turn. A thread is needed for every waiting request and then one more, so that a cached page
# never queues in gunicorn behind a rush: in bench/purchase.py's rush (2 cores, 200 buyers on 2 servers x 2
# processes), the programme page's p99 went from 0.5-1 s (16 or 64 threads, no turns) to 40-115 ms (128 threads,
# REQUESTS_AT_ONCE 1 to 4), with as many reservations a second. A waiting thread costs memory only (the workers
# peaked at about 100 MB). Threads don't each keep a database connection: on PostgreSQL they share a pool of
# DB_POOL_SIZE per process (netroots/settings.py) and give theirs back while they wait on Stripe, so PostgreSQL sees
# at most app servers x WEB_CONCURRENCY x DB_POOL_SIZE connections from the site.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "128"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
preload_app = True  # load Django once, before forking: faster start, shared memory
max_requests = 5000  # recycle workers now and then to cap slow leaks
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
