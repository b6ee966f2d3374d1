"""Benchmark the organisers' order list and sales summary at 1k, 5k and 20k orders (target: under 300 ms at 20k).

Run from the project root (or `make bench-admin`); it takes about a minute:

    .venv/bin/python bench/admin.py [--sizes 1000 5000 20000] [--repeat 5]

It drops and re-creates the PostgreSQL database netroots_bench_admin (on 127.0.0.1:5432, user postgres),
migrates it, collects static files into a scratch folder (the admin's pages need their manifest), and fills one
event with orders by bulk_create, growing to each size in turn: of every 20 orders, 16 paid (two tickets each;
one in four of them checked in, one in eight partly refunded, one ticket void), 2 refunded in full, one
holding seats and one expired. With production settings (DEBUG off), logged in as a superuser through the
Django test client, it loads the orders list (/admin/tickets/order/, whose page shows the sales summary) and
calls tickets.reports.sales_summary() on its own, each --repeat times after one warm-up, and prints the
median and worst wall time in ms and the SQL queries of each: the same count at every size, or the page
does work per order.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: import the project

from bench import programme

DATABASE = "netroots_bench_admin"
TARGET_MS = 300
ORDERS = "/admin/tickets/order/"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000], help="orders (ascending)")
    parser.add_argument("--repeat", type=int, default=5, help="timed loads per page and size (default 5)")
    return parser.parse_args()


def environment(static_root: Path) -> dict[str, str]:
    """The programme benchmark's production settings, over plain HTTP from the test client, without Redis."""
    return programme.environment(static_root, database=DATABASE) | {
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "REDIS_URL": "",
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def fill(event, start: int, stop: int) -> None:
    """Orders number start..stop-1 of `event`, with their tickets and refunds, by bulk_create."""
    from django.utils import timezone

    from tickets.models import Order, OrderStatus, Refund, RefundSource, RefundStatus, Ticket

    now = timezone.now()
    price = event.ticket_price_pence
    orders = []
    for n in range(start, stop):
        kind = n % 20
        status = (
            OrderStatus.PENDING
            if kind == 18
            else OrderStatus.EXPIRED
            if kind == 19
            else OrderStatus.REFUNDED
            if kind in (16, 17)
            else OrderStatus.PAID
        )
        was_paid = status in (OrderStatus.PAID, OrderStatus.REFUNDED)
        orders.append(
            Order(
                event=event,
                reference=f"NR-B{n:07d}",
                buyer_name=f"Buyer {n}",
                buyer_email=f"buyer{n}@example.com",
                quantity=2,
                unit_price_pence=price,
                total_pence=2 * price,
                status=status,
                hold_expires_at=now + (timedelta(minutes=20) if kind == 18 else -timedelta(hours=1)),
                stripe_payment_intent_id=f"pi_bench_{n}" if was_paid else "",
                paid_at=now if was_paid else None,
                refunded_at=now if status == OrderStatus.REFUNDED else None,
                released_at=now if status == OrderStatus.EXPIRED else None,
            )
        )
    Order.objects.bulk_create(orders, batch_size=2000)
    refunds, tickets = [], []
    for n, order in enumerate(orders, start=start):
        if order.status not in (OrderStatus.PAID, OrderStatus.REFUNDED):
            continue
        partly = order.status == OrderStatus.PAID and n % 8 == 0
        if order.status == OrderStatus.REFUNDED or partly:
            amount = order.total_pence if order.status == OrderStatus.REFUNDED else price
            refunds.append(
                Refund(
                    order=order,
                    amount_pence=amount,
                    status=RefundStatus.SUCCEEDED,
                    source=RefundSource.ORGANISER,
                    stripe_refund_id=f"re_bench_{n}",
                )
            )
        for seat in range(2):
            tickets.append(
                Ticket(
                    order=order,
                    attendee_name=f"Attendee {n}-{seat}",
                    checked_in_at=now if order.status == OrderStatus.PAID and n % 4 == 1 and seat == 0 else None,
                )
            )
    Refund.objects.bulk_create(refunds, batch_size=2000)
    by_order = {refund.order_id: refund for refund in refunds}
    for ticket in tickets:
        refund = by_order.get(ticket.order_id)
        full = refund is not None and refund.amount_pence == 2 * price
        if refund is not None and (full or ticket.attendee_name.endswith("-1")):
            ticket.refund, ticket.refunded_at = refund, now
    Ticket.objects.bulk_create(tickets, batch_size=2000)


def timed(action, repeat: int) -> tuple[float, float, int]:
    """Median and worst ms of `action` over `repeat` runs after one warm-up, and the queries of one run."""
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    action()
    with connection.execute_wrapper(count):  # survives the request's reconnection, unlike the query log
        action()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times), len(queries)


def run(args: argparse.Namespace) -> int:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tests.factories import EventFactory
    from tickets import reports

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    event = EventFactory(capacity=100_000, ticket_price_pence=500)
    client = Client()
    client.force_login(User.objects.create_superuser("bench", "bench@example.com", secrets.token_urlsafe(16)))

    def order_list() -> None:
        response = client.get(ORDERS)
        if response.status_code != 200:
            raise RuntimeError(f"{ORDERS} answered {response.status_code}")

    print(f"{'orders':>7}  {'page':<22} {'median ms':>9} {'worst ms':>9} {'queries':>7}")
    failed, queries_seen, filled = False, {}, 0
    for size in sorted(args.sizes):
        fill(event, filled, size)
        filled = size
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have after such growth
        for name, action in [("orders list (+summary)", order_list), ("sales summary", reports.sales_summary)]:
            median, worst, queries = timed(action, args.repeat)
            queries_seen.setdefault(name, set()).add(queries)
            flag = "  over target" if size >= 20_000 and median > TARGET_MS else ""
            failed |= bool(flag)
            print(f"{size:>7,}  {name:<22} {median:>9.1f} {worst:>9.1f} {queries:>7}{flag}")
    for name, counts in queries_seen.items():
        verdict = "constant" if len(counts) == 1 else f"NOT constant: {sorted(counts)}"
        print(f"{name}: queries {verdict}")
    print(f"target: median under {TARGET_MS} ms at 20,000 orders: {'FAIL' if failed else 'PASS'}")
    return 0


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="netroots-bench-admin-") as scratch:
        env = environment(Path(scratch) / "static")
        os.environ.clear()
        os.environ.update(env)
        programme.recreate_database(DATABASE)
        django.setup()
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
