"""The purchase benchmark's steps, once Django is set up: the queries, the servers, the rushes, Stripe hanging, the
purchases; bench/purchase_report.py prints them."""

import argparse
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

from bench import buyer, cpu, inprocess, memory, purchase_report, server, shop
from bench.measure import ROOT, postmaster_pid
from bench.server import ServerError
from stripe_double import StripeDouble

NEVER_SELLS_OUT = 1_000_000  # seats while purchases are measured
HANGING_SECONDS = 30.0  # the double's latency while "Stripe hangs": far beyond the site's timeouts (7 s)
HANG_WAIT_SECONDS = 10.0  # for every hanging reservation to have reached the double
HANG_PAGE_VISITS = 5  # of each page on each server, while the reservations hang
HOME_VISIT_PAUSE = 0.05  # seconds: the home page renders again after every sale, so it is visited less often
WORKER_COMMAND = ["manage.py", "db_worker", "--no-reload", "--queue-name", "*", "--interval", "0.5"]


@dataclass(frozen=True)
class Usage:
    """CPU milliseconds: gunicorn's workers (both servers), the postgres processes serving them, the task worker,
    this process (the Stripe double, mostly), and every core of the machine (busy, and in all)."""

    app: float
    postgres: float
    worker: float
    here: float
    machine_busy: float
    machine: float

    def __sub__(self, other: "Usage") -> "Usage":
        return Usage(*(mine - theirs for mine, theirs in zip(astuple(self), astuple(other), strict=True)))

    @property
    def server(self) -> float:
        return self.app + self.postgres + self.worker


@dataclass(frozen=True)
class Meter:
    servers: cpu.ServerMeter
    worker: int  # the task worker's pid

    def __call__(self) -> Usage:
        (app, postgres), worker, (busy, total) = (
            self.servers.parts(),
            cpu.process_ticks(self.worker),
            cpu.machine_ticks(),
        )
        ms = cpu.MS_PER_TICK
        return Usage(app * ms, postgres * ms, worker * ms, time.process_time() * 1000, busy * ms, total * ms)


@dataclass(frozen=True)
class Rush:
    answers: list[buyer.RushAnswer]
    seats: shop.Seats  # according to the database, once every buyer has had an answer
    used: Usage
    visits: list[buyer.Visit]  # the programme page, read by a visitor meanwhile (and just before and after)
    home_visits: list[buyer.Visit]  # the home page (tickets left: changed by every sale), by another visitor

    def count(self, outcome: str) -> int:
        return sum(answer.outcome == outcome for answer in self.answers)

    @property
    def began_at(self) -> float:
        return min(answer.posted_at for answer in self.answers)

    @property
    def ended_at(self) -> float:
        return max(answer.done_at for answer in self.answers)

    @property
    def seconds(self) -> float:
        return self.ended_at - self.began_at

    @property
    def per_second(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0

    @property
    def post_seconds(self) -> list[float]:
        return [answer.post_seconds for answer in self.answers if answer.outcome != "error"]

    @property
    def visits_during(self) -> list[buyer.Visit]:
        """The programme page visits begun from the first POST to the last answer."""
        return self._during(self.visits)

    @property
    def home_visits_during(self) -> list[buyer.Visit]:
        """The home page visits begun from the first POST to the last answer."""
        return self._during(self.home_visits)

    def _during(self, visits: list[buyer.Visit]) -> list[buyer.Visit]:
        return [visit for visit in visits if self.began_at <= visit.began_at <= self.ended_at]


@dataclass(frozen=True)
class Hang:
    """Stripe hangs: reservations wait on it while other pages are visited."""

    answers: list[buyer.RushAnswer]
    reached: int  # reservations waiting on the double at once, when the pages were visited
    visits: dict[str, list[buyer.Visit]]  # path: visits of it (on each server in turn) meanwhile
    seats: shop.Seats  # afterwards, according to the database

    def count(self, outcome: str) -> int:
        return sum(answer.outcome == outcome for answer in self.answers)


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


def run(args: argparse.Namespace, scratch: Path, double: StripeDouble, ports: Sequence[int]) -> int:
    """Every step, printed as it is done, then the targets; 1 if anything went wrong (not a slow figure)."""
    inprocess.prepare_database()
    inprocess.load_demo()
    event = shop.event_on_sale()
    shop.reset(event, capacity=NEVER_SELLS_OUT)
    steps = shop.one_purchase_in_process()
    purchase_report.print_steps(steps)
    postmaster, database = postmaster_pid(), settings.DATABASES["default"]["NAME"]
    connections.close_all()  # the servers' processes and the buyers fork: leave them no open database connection

    env = dict(os.environ)
    worker_command = [sys.executable, *WORKER_COMMAND]
    with (
        server.background("the task worker", worker_command, ROOT, env, scratch / "worker.log") as worker,
        server.gunicorn(ROOT, env, args.workers, scratch / "gunicorn-1.log", port=ports[0]) as first,
        server.gunicorn(ROOT, env, args.workers, scratch / "gunicorn-2.log", port=ports[1]) as second,
        memory.watching(first.pid, second.pid) as peak,
    ):
        meter = Meter(
            cpu.ServerMeter(app_server=(first.pid, second.pid), postmaster=postmaster, database=database), worker
        )
        warm_up(ports, concurrency=args.workers * args.threads)

        rushes: list[Rush] = []
        for number in range(1, args.rushes + 1):
            shop.reset(event, capacity=args.capacity)
            connections.close_all()
            before = meter()
            with (
                buyer.visiting(ports, "/programme/") as visits,
                buyer.visiting(ports, "/", pause=HOME_VISIT_PAUSE) as home_visits,
            ):
                answers = buyer.rush(site_ports=ports, buyers=args.buyers, processes=args.rush_processes)
            rushes.append(Rush(answers, shop.seats(event), meter() - before, visits, home_visits))
            connections.close_all()
            purchase_report.print_rush(number, rushes[-1], args)

        shop.reset(event, capacity=NEVER_SELLS_OUT)
        hang = hang_on_stripe(ports, double, args.hanging, event)
        purchase_report.print_hang(hang, args)

        shop.reset(event, capacity=NEVER_SELLS_OUT)
        connections.close_all()
        try:
            one = one_buyer(ports, args.one_buyer_purchases, double, meter)
        except buyer.PurchaseError as error:
            logs = "\n".join(server.log_tail(scratch / f"gunicorn-{n}.log") for n in (1, 2))
            raise ServerError(f"a purchase failed: {error}\n{logs}") from error
        purchase_report.print_one_buyer(one, steps)
        loop = buy_in_a_loop(ports, args, double, meter)
        purchase_report.print_loop(loop)
    paid = shop.paid_orders(event)
    connections.close_all()
    purchase_report.print_memory(peak)

    checks = purchase_report.targets(rushes, hang, one, loop, peak, args)
    print("\nTargets:")
    for description, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {description}")

    problems = purchase_report.problems(rushes, hang, one, loop, args)
    # every purchase a buyer completed saw its booking page say "paid"; the database must agree
    completed = one.purchases + sum(result.completed for result in loop.results)
    if paid != completed:
        problems.append(f"The database has {paid} paid orders, but the buyers completed {completed} purchases.")
    if problems:
        print("\nWhat went wrong (the figures above are not to be trusted):")
        print("\n".join(f"  {problem}" for problem in problems))
        for n in (1, 2):
            print(f"\nThe end of gunicorn {n}'s log:\n{server.log_tail(scratch / f'gunicorn-{n}.log')}")
        print(f"\nThe end of the task worker's log:\n{server.log_tail(scratch / 'worker.log')}")
    return 1 if problems else 0


def warm_up(ports: Sequence[int], *, concurrency: int) -> None:
    """As a server that has been up a while: each thread has served a page (and the database pools have grown),
    the programme is in the page cache, and a whole purchase works on each server (else PurchaseError)."""
    with ThreadPoolExecutor(concurrency) as pool:
        for port in ports:
            for _ in range(2):
                list(pool.map(lambda _, port=port: buyer.visit(port, "/tickets/"), range(concurrency)))
            buyer.visit(port, "/programme/")
    for number, port in enumerate(ports):
        browser = buyer.Browser(port, other_site_ports=[other for other in ports if other != port])
        try:
            buyer.purchase(browser, number)
        except buyer.PurchaseError as error:
            raise ServerError(f"the warm-up purchase on 127.0.0.1:{port} failed: {error}") from error
        finally:
            browser.close()


def hang_on_stripe(ports: Sequence[int], double: StripeDouble, count: int, event) -> Hang:
    """`count` buyers reserve (shared out among the servers) while the double takes HANGING_SECONDS to answer;
    once they all wait on it, /healthz and the programme page are visited on each server. Then every buyer must
    be told to try again, and no seat stay held."""
    latency, double.latency_seconds = double.latency_seconds, HANGING_SECONDS
    try:
        with ThreadPoolExecutor(count) as pool:
            waiting = [pool.submit(buyer.reserve, ports[n % len(ports)], n) for n in range(count)]
            deadline = time.monotonic() + HANG_WAIT_SECONDS
            while double.waiting_requests < count and time.monotonic() < deadline:
                time.sleep(0.02)
            reached = double.waiting_requests
            visits: dict[str, list[buyer.Visit]] = {"/healthz": [], "/programme/": []}
            for _ in range(HANG_PAGE_VISITS):
                for port in ports:
                    for path, seen in visits.items():
                        seen.append(buyer.visit(port, path))
            reached = min(reached, double.waiting_requests)  # still waiting after the visits
            answers = [reservation.result() for reservation in waiting]
    finally:
        double.latency_seconds = latency
    return Hang(answers, reached, visits, shop.seats(event))


def one_buyer(ports: Sequence[int], purchases: int, double: StripeDouble, meter: Meter) -> OneBuyer:
    """One buyer buys `purchases` times in a row (on each server in turn), in this process (where the double
    also runs)."""
    deliveries, site_requests, seconds = len(double.deliveries), 0, []
    before = meter()
    for number in range(1, purchases + 1):
        site = buyer.rotated(ports, number)
        browser = buyer.Browser(site[0], other_site_ports=site[1:])
        began = time.perf_counter()
        buyer.purchase(browser, number)
        seconds.append(time.perf_counter() - began)
        browser.close()
        site_requests += browser.site_requests
    used = meter() - before
    webhooks = double.deliveries[deliveries:]
    refused = sum(status != 200 for _, status in webhooks)
    return OneBuyer(purchases, site_requests + len(webhooks), len(webhooks), refused, seconds, used)


def buy_in_a_loop(ports: Sequence[int], args: argparse.Namespace, double: StripeDouble, meter: Meter) -> Loop:
    deliveries = len(double.deliveries)
    start_at, results, used = buyer.loop(
        site_ports=ports,
        buyers=args.loop_buyers,
        warmup=args.warmup,
        seconds=args.seconds,
        max_purchases=args.max_purchases,
        meter=meter,
    )
    refused = sum(status != 200 for _, status in double.deliveries[deliveries:])
    return Loop(results, start_at, used, refused)
