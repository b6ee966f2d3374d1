"""Print the purchase benchmark's figures (bench/purchase_run.py), then its targets with PASS or FAIL, and say
what went wrong, if anything did (errors, seats oversold or not held: never merely a slow figure)."""

import argparse
import os

from django.conf import settings

from bench import memory, shop
from bench.buyer import percentile_ms

MIN_RESERVATIONS_PER_SECOND = 100.0  # in the slowest rush: buyers answered, from the first POST to the last answer
MAX_PROGRAMME_P99_MS = 200.0  # the programme page, read by a visitor during the rushes
MAX_PAGE_MS_WHILE_HANGING = 200.0  # /healthz and the programme page, while reservations hang on Stripe
MAX_TRY_AGAIN_SECONDS = 8.0  # a buyer whose reservation hangs on Stripe is told to try again within this
MAX_CPU_MS = 60.0  # server CPU per purchase (gunicorn, PostgreSQL, the task worker)
# The looping buyers': each purchase waits on Stripe twice (0.8 s at 400 ms), so 16 buyers make at most 20/s; on
# the 2-core development machine the CPU a purchase takes caps it lower (print_loop's estimate says how much).
MIN_PURCHASES_PER_SECOND = 10.0
MAX_WORKER_MIB = 150.0  # each gunicorn worker's peak resident memory


def print_steps(steps: list[shop.Step]) -> None:
    print("== One purchase, in process (Django test client, CaptureQueriesContext) ==")
    print("  SQL (of which BEGIN, COMMIT, SAVEPOINT...)")
    for step in steps:
        print(f"  {step.queries:>3} ({step.transaction_control:>2})  HTTP {step.status}  {step.request}")
    queries, control = sum(step.queries for step in steps), sum(step.transaction_control for step in steps)
    print(f"  {queries:>3} ({control:>2})  in all, {len(steps)} requests to the site")


def servers(args: argparse.Namespace) -> str:
    return (
        f"2 gunicorns x {args.workers} workers x {args.threads} threads ({settings.REQUESTS_AT_ONCE} requests at "
        f"once in each: REQUESTS_AT_ONCE), Stripe (the double) answering in {args.latency * 1000:.0f} ms"
    )


def print_rush(number: int, rush, args: argparse.Namespace) -> None:
    if number == 1:
        print(
            f"\n== The rush: {len(rush.answers)} buyers for {args.capacity} seats, shared out among {servers(args)} =="
        )
        print(f"{'':<7} {'res/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'held':>5} {'sold out':>9} {'try again':>10} "
              f"{'errors':>7} {'seats held (db)':>16} {'server CPU ms/buyer':>20} "
              f"{'programme p50/p99 ms':>21} {'home p50/p99 ms':>17}")  # fmt: skip
    post, buyers = rush.post_seconds, len(rush.answers)
    programme, home = (
        f"{percentile_ms(seconds, 50):.0f} / {percentile_ms(seconds, 99):.0f} ({len(seconds)})"
        for seconds in ([v.seconds for v in rush.visits_during], [v.seconds for v in rush.home_visits_during])
    )
    print(
        f"{f'Rush {number}':<7} {rush.per_second:>6.0f} {percentile_ms(post, 50):>7.0f} "
        f"{percentile_ms(post, 99):>7.0f} {rush.count('held'):>5} {rush.count('sold out'):>9} "
        f"{rush.count('try again'):>10} {rush.count('error'):>7} {rush.seats.taken:>16} "
        f"{rush.used.server / buyers:>20.1f} {programme:>21} {home:>17}"
    )
    for answer in [answer for answer in rush.answers if answer.outcome == "error"][:3]:
        print(f"    error: {answer.detail}")


def print_hang(hang, args: argparse.Namespace) -> None:
    print(f"\n== Stripe hangs: {len(hang.answers)} buyers reserve while the double takes 30 s to answer ==")
    print(f"  reservations waiting on Stripe at once: {hang.reached}")
    for path, visits in hang.visits.items():
        seconds = [visit.seconds for visit in visits]
        statuses = sorted({visit.status for visit in visits})
        print(f"  {path:<12} meanwhile, {len(visits)} visits on both servers: p50 {percentile_ms(seconds, 50):.0f} ms,"
              f" slowest {max(seconds, default=0) * 1000:.0f} ms, HTTP {statuses}")  # fmt: skip
    waits = [answer.post_seconds for answer in hang.answers]
    print(f"  the buyers: {hang.count('try again')} told to try again, after {min(waits, default=0):.1f} to "
          f"{max(waits, default=0):.1f} s; {hang.count('error')} errors; "
          f"seats held afterwards: {hang.seats.taken}")  # fmt: skip


def print_one_buyer(one, steps: list[shop.Step]) -> None:
    queries, control = sum(step.queries for step in steps), sum(step.transaction_control for step in steps)
    print(f"\n== One buyer's whole purchase under gunicorn, {one.purchases} in a row ==")
    print(f"  HTTP requests to the site: {one.site_requests / one.purchases:.0f} per purchase, "
          f"{one.webhooks / one.purchases:.0f} of them Stripe's webhook")  # fmt: skip
    print(f"  SQL queries:               {queries} per purchase, {control} of them BEGIN, COMMIT... (in process)")
    print(f"  wall time:                 p50 {percentile_ms(one.seconds, 50):.0f} ms per purchase")
    print(f"  server CPU:                {one.used.server / one.purchases:.1f} ms per purchase (gunicorn "
          f"{one.used.app / one.purchases:.1f}, postgres {one.used.postgres / one.purchases:.1f}, "
          f"task worker {one.used.worker / one.purchases:.1f})")  # fmt: skip
    if one.webhooks_refused:
        print(f"  webhooks not answered 200: {one.webhooks_refused}")


def print_loop(loop) -> None:
    used, buyers = loop.used, len(loop.results)
    others = used.machine_busy - used.server - used.here - loop.buyers_ms_per_purchase * loop.purchases
    print(f"\n== {buyers} buyers buying in a loop for {loop.seconds:.1f} s ==")
    print(f"  purchases/s:       {loop.per_second:.1f} ({loop.purchases} purchases)")
    p50, p99 = percentile_ms(loop.latencies, 50), percentile_ms(loop.latencies, 99)
    print(f"  purchase p50, p99: {p50:.0f} ms, {p99:.0f} ms")
    print(f"  server CPU:        {loop.per_purchase(used.server):.1f} ms per purchase (gunicorn "
          f"{loop.per_purchase(used.app):.1f}, postgres {loop.per_purchase(used.postgres):.1f}, "
          f"task worker {loop.per_purchase(used.worker):.1f})")  # fmt: skip
    print(f"  errors:            {len(loop.errors)}; webhooks not answered 200: {loop.webhooks_refused}")
    for error in loop.errors[:3]:
        print(f"    error: {error}")
    ours = loop.per_purchase(used.server + used.here) + loop.buyers_ms_per_purchase
    print(f"  the machine:       {os.cpu_count()} cores {used.machine_busy / used.machine:.0%} busy; per purchase, "
          f"the buyers used {loop.buyers_ms_per_purchase:.1f} ms CPU, this process (the Stripe double) "
          f"{loop.per_purchase(used.here):.1f} ms, other processes {loop.per_purchase(others):.1f} ms")  # fmt: skip
    print(f"  at {ours:.1f} ms of CPU per purchase in all (server, buyers, double), {os.cpu_count()} idle cores "
          f"could do at most {os.cpu_count() * 1000 / ours:.0f} purchases/s (an estimate)")  # fmt: skip


def print_memory(peak: memory.WorkerMemory) -> None:
    workers = ", ".join(f"{kib / 1024:.0f} MB" for kib in peak.peak_kib.values())
    print(f"\n== Peak resident memory (VmHWM) of each gunicorn worker, both servers ==\n  {workers}")


def programme_visits(rushes) -> list[float]:
    return [visit.seconds for rush in rushes for visit in rush.visits_during]


def targets(rushes, hang, one, loop, peak: memory.WorkerMemory, args: argparse.Namespace) -> list[tuple[str, bool]]:
    errors = sum(rush.count("error") + rush.count("try again") for rush in rushes)
    held = ", ".join(str(rush.seats.taken) for rush in rushes)
    exact = all(rush.seats.taken == rush.count("held") == args.capacity for rush in rushes)
    slowest = min(rush.per_second for rush in rushes)
    visits = programme_visits(rushes)
    programme_p99 = percentile_ms(visits, 99)
    pages_ms = max(visit.seconds for visits in hang.visits.values() for visit in visits) * 1000
    waited = max(answer.post_seconds for answer in hang.answers)
    told = hang.count("try again") == len(hang.answers)
    one_ms, loop_ms = one.used.server / one.purchases, loop.per_purchase(loop.used.server)
    return [
        (f"Every rush: {errors} errors, seats held {held} (no errors; exactly {args.capacity} each, none oversold)",
         errors == 0 and exact),
        (f"Reservations: {slowest:.0f}/s in the slowest rush (at least {MIN_RESERVATIONS_PER_SECOND:g})",
         slowest >= MIN_RESERVATIONS_PER_SECOND),
        (f"Programme page during the rushes: p99 {programme_p99:.0f} ms over {len(visits)} visits "
         f"(under {MAX_PROGRAMME_P99_MS:g})", bool(visits) and programme_p99 < MAX_PROGRAMME_P99_MS),
        (f"Stripe hanging, {hang.reached} reservations waiting on it: /healthz and the programme page in at most "
         f"{pages_ms:.0f} ms (under {MAX_PAGE_MS_WHILE_HANGING:g})",
         hang.reached == len(hang.answers) and pages_ms < MAX_PAGE_MS_WHILE_HANGING),
        (f"Stripe hanging: {hang.count('try again')} of {len(hang.answers)} buyers told to try again, within "
         f"{waited:.1f} s (under {MAX_TRY_AGAIN_SECONDS:g}); seats held afterwards: {hang.seats.taken} (none)",
         told and waited < MAX_TRY_AGAIN_SECONDS and hang.seats.taken == 0),
        (f"One buyer: {one_ms:.1f} ms server CPU per purchase (at most {MAX_CPU_MS:g})", one_ms <= MAX_CPU_MS),
        (f"{len(loop.results)} buyers: {loop_ms:.1f} ms server CPU per purchase (at most {MAX_CPU_MS:g})",
         loop_ms <= MAX_CPU_MS),
        (f"{len(loop.results)} buyers: {loop.per_second:.1f} purchases/s, {len(loop.errors)} errors "
         f"(at least {MIN_PURCHASES_PER_SECOND:g}, no errors)",
         loop.per_second >= MIN_PURCHASES_PER_SECOND and not loop.errors),
        (f"Worker memory: at most {peak.peak_mib:.0f} MB each (under {MAX_WORKER_MIB:g})",
         peak.peak_mib < MAX_WORKER_MIB),
    ]  # fmt: skip


def problems(rushes, hang, one, loop, args: argparse.Namespace) -> list[str]:
    """What went wrong, as opposed to merely slow: each a sentence. None: the figures can be trusted."""
    found = []
    for number, rush in enumerate(rushes, 1):
        if rush.count("error"):
            found.append(f"Rush {number}: {rush.count('error')} buyers got an error.")
        if rush.count("try again"):
            found.append(f"Rush {number}: {rush.count('try again')} buyers were told to try again (Stripe timed out).")
        if not rush.seats.taken == rush.count("held") == args.capacity:
            found.append(f"Rush {number}: {rush.count('held')} buyers were sent to pay and the database holds "
                         f"{rush.seats.taken} seats, for {args.capacity} seats.")  # fmt: skip
        if failed := [visit for visit in rush.visits if visit.status != 200]:
            found.append(f"Rush {number}: {len(failed)} visits of the programme page failed.")
        if failed := [visit for visit in rush.home_visits if visit.status != 200]:
            found.append(f"Rush {number}: {len(failed)} visits of the home page failed.")
    if hang.reached != len(hang.answers):
        found.append(f"Stripe hanging: only {hang.reached} of {len(hang.answers)} reservations were waiting on it.")
    if hang.count("try again") != len(hang.answers):
        details = [answer.detail or answer.outcome for answer in hang.answers if answer.outcome != "try again"]
        found.append(f"Stripe hanging: {len(details)} buyers were not told to try again: {details[:3]}")
    if hang.seats.taken:
        found.append(f"Stripe hanging: {hang.seats.taken} seats still held afterwards.")
    if failed := [visit for visits in hang.visits.values() for visit in visits if visit.status != 200]:
        found.append(f"Stripe hanging: {len(failed)} visits of /healthz or the programme page failed.")
    if one.webhooks_refused or loop.webhooks_refused:
        found.append(f"{one.webhooks_refused + loop.webhooks_refused} webhooks were not answered 200.")
    if loop.errors:
        found.append(f"{len(loop.errors)} looping purchases failed, e.g. {loop.errors[0]}")
    return found
