"""Benchmark buying tickets as production serves it, with a realistic Stripe, and check the performance targets.

Run from the project root (or `make bench-purchase`); it takes about a minute and a half (`--quick`: half a minute):

    .venv/bin/python bench/purchase.py [--quick] [--rushes 3] [--buyers 200] [--capacity 50] [--latency 0.4]
                                       [--threads N] [--hanging 16] [--seconds 20] [--loop-buyers 16] [--redis URL]

It drops and re-creates the PostgreSQL database netroots_bench_purchase, migrates it, collects static files into a
scratch folder and loads the demo programme, whose event it puts on sale. Production's topology, on loopback:

* TWO gunicorns, each on its own port with the production settings (bench/settings.py moves only STATIC_ROOT) and
  gunicorn.conf.py (--workers processes each, 2; --threads threads each, gunicorn.conf.py's GUNICORN_THREADS unless
  given), over one PostgreSQL database and one Redis (the page cache, the rate limits: --redis, by default database
  12 of the local Redis, which the run empties);
* the task worker, `manage.py db_worker --no-reload --queue-name '*' --interval 0.5` (confirmation emails...);
* the Stripe test double (the stripe_double package), in this process on a free loopback port, answering every API
  call --latency seconds late (0.4, as Stripe may take under load); the site reaches it through STRIPE_API_BASE,
  and it POSTs its signed webhooks to the first server, as Stripe does to the site's one address (SITE_URL).

The reservation rate limits are off (every simulated buyer comes from loopback), emails are rendered but handed to
Django's dummy backend, and DJANGO_SECURE_SSL_REDIRECT=0 so that the double's webhooks, over plain HTTP, are not
redirected (the buyers' requests carry X-Forwarded-Proto: https, as from the TLS proxy).

1. SQL queries of one whole purchase, counted per request in this process with the Django test client
   (bench/shop.py): the form, the reservation, Stripe's webhook, the success URL, the booking page.
2. The servers start and warm up: every thread serves a page, and one whole purchase is made on each server.
3. The rush, --rushes times against --capacity seats (50), each with no orders to begin with: --buyers (200)
   buyers each open the form (GET /tickets/, for the CSRF token and cookie), half on each server, and, once all
   have it, all send it at once (bench/buyer.py: threads in forked processes). A redirect to the double's payment
   page is a seat held, a 409 "sold out" page a refusal, a 409 "try again" page a Stripe call that timed out,
   anything else an error. Meanwhile a visitor (a forked process of its own) opens the programme page again and
   again, on each server in turn, and another the home page, 50 ms apart (it shows the tickets left, so every
   sale makes it render again). Printed: reservations answered per second (from the first POST to the last
   answer), p50 and p99 of the POST, the outcomes, seats held according to the database, server CPU per buyer,
   and p50/p99 of the programme page and of the home page over the visits begun from the first POST to the last
   answer (the programme page's against the target; the home page's for what it shows, with no target of its own).
4. Stripe hangs: the double's latency goes to 30 s and --hanging (16) buyers reserve, shared out among the
   servers. Once all of them wait on it, /healthz and the programme page are opened 5 times on each server; then
   each buyer must be told to try again (tickets/payments.py gives up after its timeouts), holding no seat.
5. Purchases, with capacity raised so it never sells out. One buyer buys --one-buyer-purchases times in a row:
   HTTP requests to the site per purchase (the buyer's, plus the double's webhook), wall time, and server CPU per
   purchase. Then --loop-buyers buyers (one forked process each, shared out among the servers) buy one purchase
   after another for --seconds after a short warm-up: purchases/s, p50 and p99 of a purchase, errors, and server
   CPU per purchase. A purchase is: GET the form, POST it, GET the double's payment page, POST Pay there (the
   double completes the session and POSTs checkout.session.completed to the site before it answers), GET the
   success URL, GET the booking page, which must say the order is paid. Each waits on Stripe twice (creating the
   Checkout Session, and reading it back for the webhook).

Server CPU is the utime+stime of both gunicorns' workers, of the postgres processes serving this database and of
the task worker (bench/cpu.py) over the run, divided by what was done in it. The buyers and the double share the
same cores but are not counted. Peak memory is the workers' VmHWM, sampled from /proc throughout. The targets are
reported as PASS or FAIL. The exit status is 0 when nothing went wrong, whatever the speed; 1 when a server would
not start, or anything failed: an error, a seat oversold or not held, a buyer not told to try again while Stripe
hung, a purchase the database doesn't show paid.
"""

import argparse
import os
import runpy
import secrets
import sys
import tempfile
from pathlib import Path

import django
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: import the project

from bench import programme, server
from bench.server import ServerError
from stripe_double import StripeDouble

DATABASE = "netroots_bench_purchase"
REDIS = "redis://127.0.0.1:6379/12"  # a database of the benchmark's own: it is emptied
ROOT = Path(__file__).resolve().parent.parent
QUICK = {  # --quick, for CI: one shorter rush, a short loop
    "rushes": 1,
    "buyers": 100,
    "capacity": 25,
    "hanging": 8,
    "one_buyer_purchases": 10,  # CPU is counted in 10 ms ticks per process: fewer purchases, a coarser figure
    "loop_buyers": 16,  # each purchase waits 0.8 s on Stripe: 8 buyers could not make 10 purchases/s
    "seconds": 5.0,
    "warmup": 1.0,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"a short run for CI: {QUICK}")
    parser.add_argument("--rushes", type=int, default=3, help="how many rushes (default 3)")
    parser.add_argument("--buyers", type=int, default=200, help="buyers in each rush (default 200)")
    parser.add_argument("--capacity", type=int, default=50, help="seats in each rush (default 50)")
    parser.add_argument("--rush-processes", type=int, default=4, help="processes the rush's buyers share (default 4)")
    parser.add_argument("--latency", type=float, default=0.4, help="seconds the double takes to answer (default 0.4)")
    parser.add_argument("--workers", type=int, default=2, help="processes of each gunicorn (default 2)")
    parser.add_argument("--threads", type=int, help="threads of each process (default: gunicorn.conf.py's)")
    parser.add_argument("--hanging", type=int, default=16, help="reservations hanging on Stripe at once (default 16)")
    parser.add_argument("--one-buyer-purchases", type=int, default=10, help="purchases in a row (default 10)")
    parser.add_argument("--loop-buyers", type=int, default=16, help="buyers buying concurrently (default 16)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window of the loop (default 20)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of buying before it (default 2)")
    parser.add_argument("--max-purchases", type=int, default=5_000, help="per looping buyer, ends it early")
    parser.add_argument("--redis", default=REDIS, metavar="URL", help=f"the shared cache, emptied (default {REDIS})")
    args = parser.parse_args()
    if args.quick:
        vars(args).update(QUICK)
    return args


def environment(static_root: Path, ports: list[int], double: StripeDouble, args: argparse.Namespace) -> dict[str, str]:
    """The programme benchmark's production environment, with the site's address, Redis, Stripe, no rate limit."""
    env = programme.environment(static_root, database=DATABASE) | {
        "REDIS_URL": args.redis,
        "SITE_URL": f"http://{server.loadgen.HOST}:{ports[0]}",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": double.webhook_secret,
        "STRIPE_API_BASE": double.base_url,
        "RESERVATION_RATE_LIMIT": "",
        "MAX_UNPAID_BOOKINGS_PER_CLIENT": "0",  # every simulated buyer comes from loopback
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    env.pop("GUNICORN_THREADS", None)
    return env | ({"GUNICORN_THREADS": str(args.threads)} if args.threads else {})


def gunicorn_threads(env: dict[str, str]) -> int:
    """The threads gunicorn.conf.py gives each worker in this environment."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"]
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> int:
    args = parse_args()
    print(f"The machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} over the last minute before the "
          "run (others' work skews every figure: steady ones need it near 0)")  # fmt: skip
    try:
        redis.Redis.from_url(args.redis).flushdb()
    except redis.RedisError as error:
        print(f"Redis does not answer at {args.redis}: {error}", file=sys.stderr)
        return 1
    ports = [server.free_port(), server.free_port()]
    webhook = f"http://{server.loadgen.HOST}:{ports[0]}/stripe/webhook/"
    with (
        tempfile.TemporaryDirectory(prefix="netroots-bench-") as scratch,
        StripeDouble(
            webhook_url=webhook, webhook_secret=f"whsec_bench_{secrets.token_hex(16)}", latency_seconds=args.latency
        ) as double,
    ):
        env = environment(Path(scratch) / "static", ports, double, args)
        args.threads = gunicorn_threads(env)
        os.environ.clear()
        os.environ.update(env)
        programme.recreate_database(DATABASE)
        django.setup()
        from bench import purchase_run  # imports the project's models, so only once Django is set up

        try:
            return purchase_run.run(args, Path(scratch), double, ports)
        except ServerError as error:
            print(f"The server failed: {error}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
