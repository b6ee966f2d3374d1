"""Benchmark the public programme pages as production serves them, and check the performance targets.

Run from the project root (or `make bench-programme`, which passes --redis); it takes about a minute and a half:

    .venv/bin/python bench/programme.py [--redis [URL]] [--sessions 600] [--only demo|synthetic]
                                        [--seconds 5] [--connections 8] [--rounds 4]

It drops and re-creates the PostgreSQL database netroots_bench, migrates it and collects static
files into a scratch folder, then measures the demo programme (manage.py load_demo) and a large
synthetic one (bench/synthetic.py: 3 days, 20 rooms, 600 sessions, 800 speakers; --sessions 2400
makes it 80 rooms and 3,200 speakers). With --redis the page cache is Redis, as README recommends
for production (REDIS_URL; by default database 11 of the local Redis, which the benchmark empties:
give it a database no one else uses); without, each gunicorn worker keeps its own in memory. For each:

* SQL queries and connection health checks per page, counted in this process with the Django test
  client (bench/inprocess.py), once with the page cache cleared ("cold") and once more straight
  after ("warm": a cache hit, which should make none); "cold ms" is the wall time of that cold request.
* gunicorn starts with the production settings (bench/settings.py moves only STATIC_ROOT) and
  gunicorn.conf.py, 2 workers, on a free loopback port. Four URLs are loaded in turn by
  bench/loadgen.py: the home page, the programme, one session page, and a file of random bytes
  the size of the programme page's gzipped body, which WhiteNoise serves from the same workers.
  Each gets a warm-up, then a measurement window of --seconds (or --max-requests, if sooner). The
  programme page and the static file, whose requests/s are compared, take turns in --rounds rounds
  that share the window (each round after the first warms up for 0.3 s), so that whatever else the
  machine runs meanwhile slows both alike.
* Per URL: requests/s, p50 and p99 latency, bytes per response as transferred (status line,
  headers, body), and server CPU per request: the utime+stime that the gunicorn workers and the
  postgres processes serving netroots_bench (its backends and the shared WAL writer, checkpointer...,
  not other databases' backends) used in the window (bench/cpu.py), divided by the requests completed;
  with --redis, the Redis server's CPU per request too, apart. The load generator runs on the same
  2 cores and competes with the server, but is not counted.
* First-visit weight: the programme page and every <link href> (stylesheets and icons), <script src> and
  <img src> on it, fetched once each as a first visit with an empty cache would (Accept-Encoding: br, gzip),
  in bytes transferred (status line, headers, compressed body); target: under 30,000 bytes (bench/report.py).

Every request carries Accept-Encoding: gzip and X-Forwarded-Proto: https, as from a browser behind
the TLS-terminating proxy. The targets (bench/report.py) are reported as PASS or FAIL; the exit
status is 0 when the report is complete, 1 when the server would not start or any request failed.
"""

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path

import django
import psycopg
import redis
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: import the project

from bench.server import ServerError

DATABASE = "netroots_bench"
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/11"  # a database of the benchmark's own: it is emptied


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measurement window per URL (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--max-requests", type=int, default=50_000, help="per URL, ends the window early")
    parser.add_argument("--rounds", type=int, default=4, help="turns the programme and static file take (default 4)")
    parser.add_argument("--only", choices=["demo", "synthetic"], help="measure one programme only")
    parser.add_argument("--sessions", type=int, default=600, help="sessions of the synthetic programme (default 600)")
    parser.add_argument(
        "--redis", nargs="?", const=REDIS, metavar="URL",
        help=f"cache pages in Redis (REDIS_URL), as production does; default URL {REDIS}, emptied by the run",
    )  # fmt: skip
    return parser.parse_args()


def environment(static_root: Path, *, database: str = DATABASE) -> dict[str, str]:
    """Production: DJANGO_DEBUG unset and a real secret key; the page cache is on."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_DEBUG"}
    return env | {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"{POSTGRES}/{database}",
        "BENCH_STATIC_ROOT": str(static_root),
    }


def cache_environment(redis_url: str | None) -> dict[str, str]:
    """REDIS_URL only if asked for: the run empties the cache, so never one inherited from the shell."""
    return {"REDIS_URL": redis_url} if redis_url else {}


def recreate_database(database: str = DATABASE) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def main() -> int:
    args = parse_args()
    if args.redis:
        try:
            redis.Redis.from_url(args.redis).ping()
        except redis.RedisError as error:
            print(f"Redis does not answer at {args.redis}: {error}", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory(prefix="netroots-bench-") as scratch:
        env = environment(Path(scratch) / "static")
        env.pop("REDIS_URL", None)
        os.environ.clear()
        os.environ.update(env | cache_environment(args.redis))
        recreate_database()
        django.setup()
        from bench import run  # imports the project's models, so only once Django is set up

        try:
            return run.run(args, Path(scratch))
        except ServerError as error:
            print(f"The server failed: {error}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
