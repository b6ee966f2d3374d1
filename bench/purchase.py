"""Benchmark buying tickets as production serves it, and check the performance targets.

Run from the project root (or `make bench-purchase`); it takes about a minute:

    .venv/bin/python bench/purchase.py [--rushes 3] [--seconds 30] [--loop-buyers 8]

It drops and re-creates the PostgreSQL database netroots_bench_purchase, migrates it, collects static
files into a scratch folder and loads the demo programme, whose event it puts on sale. The Stripe test
double (the stripe_double package) runs in this process on a free loopback port; the site reaches it
through STRIPE_API_BASE, and it POSTs its signed webhooks to the site, as Stripe does. gunicorn runs
with the production settings (bench/settings.py moves only STATIC_ROOT) and gunicorn.conf.py, 2 workers,
with the reservation rate limit off (RESERVATION_RATE_LIMIT=""), emails rendered but handed to Django's
dummy backend, and DJANGO_SECURE_SSL_REDIRECT=0 so that the double's webhooks, which come over plain
HTTP, are not redirected (the buyers' requests carry X-Forwarded-Proto: https, as from the TLS proxy).

1. SQL queries of one whole purchase, counted per request in this process with the Django test client
   (bench/shop.py): the form, the reservation, Stripe's webhook, the success URL, the booking page.
2. The rush, --rushes times against --capacity seats (50), each with no orders to begin with:
   --buyers (200) buyers each open the form (GET /tickets/, for the CSRF token and cookie) and, once all
   have it, all send it at once (bench/buyer.py: threads in forked processes). A redirect to the
   double's payment page is a seat held, a 409 "sold out" page is a refusal, anything else an error.
   Printed: answered reservations/s (from the first POST to the last answer), p50 and p99 of the POST,
   errors, seats held according to the database, and the server CPU per buyer.
3. Purchases, on a fresh gunicorn with capacity raised so it never sells out. One buyer buys
   --one-buyer-purchases times in a row: HTTP requests to the site per purchase (the buyer's, plus the
   double's webhook), wall time, and server CPU per purchase. Then --loop-buyers buyers (one forked
   process each) buy one purchase after another for --seconds after a short warm-up: purchases/s,
   p50 and p99 of a purchase, errors, and server CPU per purchase. A purchase is: GET the form, POST
   it, GET the double's payment page, POST Pay there (the double completes the session and POSTs
   checkout.session.completed to the site before it answers), GET the success URL, GET the booking
   page, which must say the order is paid.

Server CPU is the utime+stime of the gunicorn workers and of the postgres processes serving this
database (bench/cpu.py) over the run, divided by what was done in it. The buyers and the double share
the same 2 cores but are not counted. Peak memory is the workers' VmHWM, sampled from /proc throughout.
The targets are reported as PASS or FAIL; the exit status is 0 when the report is complete, 1 when the
server would not start or anything failed.
"""

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: import the project

from bench import programme, server
from bench.server import ServerError
from stripe_double import StripeDouble

DATABASE = "netroots_bench_purchase"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rushes", type=int, default=3, help="how many rushes (default 3)")
    parser.add_argument("--buyers", type=int, default=200, help="buyers in each rush (default 200)")
    parser.add_argument("--capacity", type=int, default=50, help="seats in each rush (default 50)")
    parser.add_argument("--rush-processes", type=int, default=4, help="processes the rush's buyers share (default 4)")
    parser.add_argument("--one-buyer-purchases", type=int, default=20, help="purchases in a row (default 20)")
    parser.add_argument("--loop-buyers", type=int, default=8, help="buyers buying concurrently (default 8)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window of the loop (default 30)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of buying before it (default 2)")
    parser.add_argument("--max-purchases", type=int, default=5_000, help="per looping buyer, ends it early")
    return parser.parse_args()


def environment(static_root: Path, port: int, double: StripeDouble) -> dict[str, str]:
    """The programme benchmark's production environment, with the site's address, Stripe and no rate limit."""
    return programme.environment(static_root) | {
        "DATABASE_URL": f"{programme.POSTGRES}/{DATABASE}",
        "SITE_URL": f"http://{server.loadgen.HOST}:{port}",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": double.webhook_secret,
        "STRIPE_API_BASE": double.base_url,
        "RESERVATION_RATE_LIMIT": "",
        "MAX_UNPAID_BOOKINGS_PER_CLIENT": "0",  # every simulated buyer comes from loopback
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }


def main() -> int:
    args = parse_args()
    port = server.free_port()
    webhook = f"http://{server.loadgen.HOST}:{port}/stripe/webhook/"
    with (
        tempfile.TemporaryDirectory(prefix="netroots-bench-") as scratch,
        StripeDouble(webhook_url=webhook, webhook_secret=f"whsec_bench_{secrets.token_hex(16)}") as double,
    ):
        os.environ.clear()
        os.environ.update(environment(Path(scratch) / "static", port, double))
        programme.recreate_database(DATABASE)
        django.setup()
        from bench import purchase_run  # imports the project's models, so only once Django is set up

        try:
            return purchase_run.run(args, Path(scratch), double, port)
        except ServerError as error:
            print(f"The server failed: {error}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
