"""Benchmark the public programme pages as production serves them, and check the performance targets.

Run from the project root (or `make bench-programme`); it takes about a minute and a half:

    .venv/bin/python bench/programme.py [--seconds 5] [--connections 8] [--rounds 4] [--only demo|synthetic]

It drops and re-creates the PostgreSQL database netroots_bench, migrates it and collects static
files into a scratch folder, then measures the demo programme (manage.py load_demo) and a large
synthetic one (bench/synthetic.py: 3 days, 20 rooms, 600 sessions, 800 speakers). For each:

* SQL queries per page, counted in this process with the Django test client (bench/inprocess.py),
  once with the page cache cleared ("cold") and once more straight after ("warm"); "cold ms" is
  the wall time of that cold request.
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
  not other databases' backends) used in the window (bench/cpu.py), divided by the requests completed.
  The load generator runs on the same 2 cores and competes with the server, but is not counted.
* Page weight: the programme page and every <link href>, <script src> and <img src> on it,
  fetched as a first visit would (Accept-Encoding: br, gzip), in bytes transferred.

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
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: import the project

from bench.server import ServerError

DATABASE = "netroots_bench"
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measurement window per URL (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--max-requests", type=int, default=50_000, help="per URL, ends the window early")
    parser.add_argument("--rounds", type=int, default=4, help="turns the programme and static file take (default 4)")
    parser.add_argument("--only", choices=["demo", "synthetic"], help="measure one programme only")
    return parser.parse_args()


def environment(static_root: Path) -> dict[str, str]:
    """Production: DJANGO_DEBUG unset and a real secret key; the page cache is on."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_DEBUG"}
    return env | {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
        "BENCH_STATIC_ROOT": str(static_root),
    }


def recreate_database(database: str = DATABASE) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="netroots-bench-") as scratch:
        os.environ.clear()
        os.environ.update(environment(Path(scratch) / "static"))
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
