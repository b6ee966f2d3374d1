"""The purchase benchmark's steps, once Django is set up: the queries, the rushes, the purchases, the report."""

import argparse
import os
import statistics
import time
from dataclasses import astuple, dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

from bench import buyer, cpu, inprocess, memory, server, shop
from bench.measure import ROOT, WORKERS, postmaster_pid
from bench.server import ServerError
from stripe_double import StripeDouble

NEVER_SELLS_OUT = 1_000_000  # seats while purchases are measured
MAX_CPU_MS = 60.0  # server CPU per purchase
MIN_PURCHASES_PER_SECOND = 30.0
MAX_WORKER_MIB = 150.0  # each gunicorn worker's peak resident memory


@dataclass(frozen=True)
class Usage:
    """CPU milliseconds: gunicorn's workers, the postgres processes serving them, this process (the Stripe
    double, mostly), and every core of the machine (busy, and in all)."""

    app: float
    postgres: float
    here: float
    machine_busy: float
    machine: float

    def __sub__(self, other: "Usage") -> "Usage":
        return Usage(*(mine - theirs for mine, theirs in zip(astuple(self), astuple(other), strict=True)))

    @property
    def server(self) -> float:
        return self.app + self.postgres


def usage(meter: cpu.ServerMeter) -> Usage:
    (app, postgres), (busy, total) = meter.parts(), cpu.machine_ticks()
    ms = cpu.MS_PER_TICK
    return Usage(app * ms, postgres * ms, time.process_time() * 1000, busy * ms, total * ms)


@dataclass(frozen=True)
class Rush:
    answers: list[buyer.RushAnswer]
    seats: shop.Seats  # according to the database, once every buyer has had an answer
    used: Usage

    def count(self, outcome: str) -> int:
        return sum(answer.outcome == outcome for answer in self.answers)

    @property
    def seconds(self) -> float:
        return max(a.done_at for a in self.answers) - min(a.posted_at for a in self.answers)

    @property
    def post_seconds(self) -> list[float]:
        return [answer.post_seconds for answer in self.answers if answer.outcome != "error"]


@dataclass(frozen=True)
class OneBuyer:
    purchases: int
    site_requests: int  # the buyer's requests and the double's webhooks, in all
    webhooks: int
    webhooks_refused: int  # webhook deliveries the site did not answer with 200
    seconds: list[float]
    used: Usage


@dataclass(frozen=True)
class Loop:
    results: list[buyer.LoopResult]
    start_at: float
    used: Usage  # from the window's start until every buyer has stopped
    webhooks_refused: int

    @property
    def purchases(self) -> int:
        return sum(len(result.done_at) for result in self.results)

    @property
    def seconds(self) -> float:
        return max((max(r.done_at) for r in self.results if r.done_at), default=self.start_at) - self.start_at

    @property
    def per_second(self) -> float:
        return self.purchases / self.seconds if self.seconds else 0.0

    def per_purchase(self, milliseconds: float) -> float:
        return milliseconds / self.purchases if self.purchases else float("inf")

    @property
    def buyers_ms_per_purchase(self) -> float:
        """The buyers' own CPU (their warm-up included, so per purchase completed, warm-up included)."""
        completed = sum(result.completed for result in self.results)
        return sum(result.cpu_seconds for result in self.results) * 1000 / completed if completed else 0.0

    @property
    def latencies(self) -> list[float]:
        return [seconds for result in self.results for seconds in result.seconds]

    @property
    def errors(self) -> list[str]:
        return [error for result in self.results for error in result.errors]


def run(args: argparse.Namespace, scratch: Path, double: StripeDouble, port: int) -> int:
    inprocess.prepare_database()
    inprocess.load_demo()
    event = shop.event_on_sale()
    shop.reset(event, capacity=NEVER_SELLS_OUT)
    steps = shop.one_purchase_in_process()
    print_steps(steps)
    postmaster, database = postmaster_pid(), settings.DATABASES["default"]["NAME"]

    rushes: list[Rush] = []
    rush_log_path = scratch / "gunicorn-rush.log"
    with (
        server.gunicorn(ROOT, dict(os.environ), WORKERS, rush_log_path, port=port) as running,
        memory.watching(running.pid) as rush_memory,
    ):
        meter = cpu.ServerMeter(app_server=running.pid, postmaster=postmaster, database=database)
        for number in range(1, args.rushes + 1):
            shop.reset(event, capacity=args.capacity)
            connections.close_all()  # the buyers fork: leave them no open database connection
            before = usage(meter)
            answers = buyer.rush(site_port=running.port, buyers=args.buyers, processes=args.rush_processes)
            rush = Rush(answers, shop.seats(event), usage(meter) - before)
            connections.close_all()
            rushes.append(rush)
            print_rush(number, rush, args.capacity)

    shop.reset(event, capacity=NEVER_SELLS_OUT)
    connections.close_all()
    purchase_log_path = scratch / "gunicorn-purchase.log"
    with (
        server.gunicorn(ROOT, dict(os.environ), WORKERS, purchase_log_path, port=port) as running,
        memory.watching(running.pid) as purchase_memory,
    ):
        meter = cpu.ServerMeter(app_server=running.pid, postmaster=postmaster, database=database)
        try:
            one = one_buyer(running.port, args.one_buyer_purchases, double, meter)
        except buyer.PurchaseError as error:
            raise ServerError(f"a purchase failed: {error}\n{server.log_tail(purchase_log_path)}") from error
        print_one_buyer(one, steps)
        loop = buy_in_a_loop(running.port, args, double, meter)
        print_loop(loop)
    paid = shop.paid_orders(event)
    connections.close_all()
    print_memory(rush_memory, purchase_memory)

    checks = targets(rushes, args.capacity, one, loop, [rush_memory, purchase_memory])
    print("\nTargets:")
    for description, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {description}")

    rush_errors = sum(rush.count("error") for rush in rushes)
    loop_errors = len(loop.errors) + loop.webhooks_refused
    # every purchase a buyer completed saw its booking page say "paid"; the database must agree
    completed = 1 + one.purchases + sum(result.completed for result in loop.results)  # 1: the warm-up purchase
    if paid != completed:
        print(f"\nThe database has {paid} paid orders, but the buyers completed {completed} purchases.")
    for name, log_path, errors in (("rush", rush_log_path, rush_errors), ("purchase", purchase_log_path, loop_errors)):
        if errors:
            print(f"\nThe end of gunicorn's log ({name}):\n{server.log_tail(log_path)}")
    errors = rush_errors + loop_errors + one.webhooks_refused + abs(paid - completed)
    if errors:
        print(f"\n{errors} error(s): the figures above are not to be trusted.")
    return 1 if errors else 0


def one_buyer(port: int, purchases: int, double: StripeDouble, meter: cpu.ServerMeter) -> OneBuyer:
    """One buyer buys `purchases` times in a row, in this process (where the double also runs)."""
    buyer.purchase(buyer.Browser(port), 0)  # warm up: the first requests of each worker import and connect
    deliveries, site_requests, seconds = len(double.deliveries), 0, []
    before = usage(meter)
    for number in range(1, purchases + 1):
        browser = buyer.Browser(port)
        began = time.perf_counter()
        buyer.purchase(browser, number)
        seconds.append(time.perf_counter() - began)
        browser.close()
        site_requests += browser.site_requests
    used = usage(meter) - before
    webhooks = double.deliveries[deliveries:]
    refused = sum(status != 200 for _, status in webhooks)
    return OneBuyer(purchases, site_requests + len(webhooks), len(webhooks), refused, seconds, used)


def buy_in_a_loop(port: int, args: argparse.Namespace, double: StripeDouble, meter: cpu.ServerMeter) -> Loop:
    deliveries = len(double.deliveries)
    start_at, results, used = buyer.loop(
        site_port=port,
        buyers=args.loop_buyers,
        warmup=args.warmup,
        seconds=args.seconds,
        max_purchases=args.max_purchases,
        meter=lambda: usage(meter),
    )
    refused = sum(status != 200 for _, status in double.deliveries[deliveries:])
    return Loop(results, start_at, used, refused)


def percentile_ms(seconds: list[float], percentile: int) -> float:
    if len(seconds) < 2:
        return seconds[0] * 1000 if seconds else 0.0
    return statistics.quantiles(seconds, n=100, method="inclusive")[percentile - 1] * 1000


def print_steps(steps: list[shop.Step]) -> None:
    print("== One purchase, in process (Django test client, CaptureQueriesContext) ==")
    print("  SQL (of which BEGIN, COMMIT, SAVEPOINT...)")
    for step in steps:
        print(f"  {step.queries:>3} ({step.transaction_control:>2})  HTTP {step.status}  {step.request}")
    queries, control = sum(step.queries for step in steps), sum(step.transaction_control for step in steps)
    print(f"  {queries:>3} ({control:>2})  in all, {len(steps)} requests to the site")


def print_rush(number: int, rush: Rush, capacity: int) -> None:
    if number == 1:
        print(f"\n== The rush: {len(rush.answers)} buyers, {capacity} seats, gunicorn {WORKERS} workers ==")
        print(f"{'':<7} {'res/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'held':>5} {'refused':>8} {'errors':>7} "
              f"{'seats held (db)':>16} {'server CPU ms/buyer':>20}")  # fmt: skip
    post, buyers = rush.post_seconds, len(rush.answers)
    print(
        f"{f'Rush {number}':<7} {buyers / rush.seconds:>6.0f} {percentile_ms(post, 50):>7.0f} "
        f"{percentile_ms(post, 99):>7.0f} {rush.count('held'):>5} {rush.count('sold out'):>8} "
        f"{rush.count('error'):>7} {rush.seats.taken:>16} {rush.used.server / buyers:>20.1f}"
    )
    for answer in [answer for answer in rush.answers if answer.outcome == "error"][:3]:
        print(f"    error: {answer.detail}")


def print_one_buyer(one: OneBuyer, steps: list[shop.Step]) -> None:
    queries, control = sum(step.queries for step in steps), sum(step.transaction_control for step in steps)
    print(f"\n== One buyer's whole purchase under gunicorn, {one.purchases} in a row ==")
    print(f"  HTTP requests to the site: {one.site_requests / one.purchases:.0f} per purchase, "
          f"{one.webhooks / one.purchases:.0f} of them Stripe's webhook")  # fmt: skip
    print(f"  SQL queries:               {queries} per purchase, {control} of them BEGIN, COMMIT... (in process)")
    print(f"  wall time:                 p50 {percentile_ms(one.seconds, 50):.0f} ms per purchase")
    print(f"  server CPU:                {one.used.server / one.purchases:.1f} ms per purchase (gunicorn "
          f"{one.used.app / one.purchases:.1f}, postgres {one.used.postgres / one.purchases:.1f})")  # fmt: skip
    if one.webhooks_refused:
        print(f"  webhooks not answered 200: {one.webhooks_refused}")


def print_loop(loop: Loop) -> None:
    used, buyers = loop.used, len(loop.results)
    others = used.machine_busy - used.server - used.here - loop.buyers_ms_per_purchase * loop.purchases
    print(f"\n== {buyers} buyers buying in a loop for {loop.seconds:.1f} s ==")
    print(f"  purchases/s:       {loop.per_second:.1f} ({loop.purchases} purchases)")
    p50, p99 = percentile_ms(loop.latencies, 50), percentile_ms(loop.latencies, 99)
    print(f"  purchase p50, p99: {p50:.0f} ms, {p99:.0f} ms")
    print(f"  server CPU:        {loop.per_purchase(used.server):.1f} ms per purchase (gunicorn "
          f"{loop.per_purchase(used.app):.1f}, postgres {loop.per_purchase(used.postgres):.1f})")  # fmt: skip
    print(f"  errors:            {len(loop.errors)}; webhooks not answered 200: {loop.webhooks_refused}")
    for error in loop.errors[:3]:
        print(f"    error: {error}")
    ours = loop.per_purchase(used.server + used.here) + loop.buyers_ms_per_purchase
    print(f"  the machine:       {os.cpu_count()} cores {used.machine_busy / used.machine:.0%} busy; per purchase, "
          f"the buyers used {loop.buyers_ms_per_purchase:.1f} ms CPU, this process (the Stripe double) "
          f"{loop.per_purchase(used.here):.1f} ms, other processes {loop.per_purchase(others):.1f} ms")  # fmt: skip
    print(f"  at {ours:.1f} ms of CPU per purchase in all (server, buyers, double), {os.cpu_count()} idle cores "
          f"could do at most {os.cpu_count() * 1000 / ours:.0f} purchases/s (an estimate)")  # fmt: skip


def print_memory(*phases: memory.WorkerMemory) -> None:
    print("\n== Peak resident memory (VmHWM) of each gunicorn worker ==")
    for name, phase in zip(["rushes", "purchases"], phases, strict=True):
        workers = ", ".join(f"{kib / 1024:.0f} MB" for kib in phase.peak_kib.values())
        print(f"  {name:<10} {workers}")


def targets(
    rushes: list[Rush], capacity: int, one: OneBuyer, loop: Loop, phases: list[memory.WorkerMemory]
) -> list[tuple[str, bool]]:
    errors = sum(rush.count("error") for rush in rushes)
    sold = ", ".join(str(rush.seats.taken) for rush in rushes)
    exact = all(rush.seats.taken == rush.count("held") == capacity for rush in rushes)
    one_ms, loop_ms = one.used.server / one.purchases, loop.per_purchase(loop.used.server)
    peak = max(phase.peak_mib for phase in phases)
    return [
        (f"Every rush: {errors} errors, seats held {sold} (no errors; exactly {capacity} each)",
         errors == 0 and exact),
        (f"One buyer: {one_ms:.1f} ms server CPU per purchase (at most {MAX_CPU_MS:g})", one_ms <= MAX_CPU_MS),
        (f"{len(loop.results)} buyers: {loop_ms:.1f} ms server CPU per purchase (at most {MAX_CPU_MS:g})",
         loop_ms <= MAX_CPU_MS),
        (f"{len(loop.results)} buyers: {loop.per_second:.1f} purchases/s, {len(loop.errors)} errors "
         f"(at least {MIN_PURCHASES_PER_SECOND:g}, no errors)",
         loop.per_second >= MIN_PURCHASES_PER_SECOND and not loop.errors),
        (f"Worker memory: at most {peak:.0f} MB each (under {MAX_WORKER_MIB:g})", peak < MAX_WORKER_MIB),
    ]  # fmt: skip
