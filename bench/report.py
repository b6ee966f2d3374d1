"""Print a Measurement as a table, then the performance targets with PASS or FAIL."""

from dataclasses import dataclass

from bench.measure import Measurement, Row

MIN_STATIC_RATIO = 0.7  # the programme page serves at least 70% of the same-size static file's requests/s
MAX_CPU_MS = 5.0  # server CPU per request
MAX_QUERIES = 8  # SQL queries for a page with the page cache cold
MAX_WEIGHT = 30_000  # bytes transferred by a first visit to the programme page, assets included

HEADER = (
    f"{'':<12} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'bytes/resp':>11} {'SQL cold/warm':>14} "
    f"{'checks c/w':>11} {'cold ms':>8} {'CPU ms/req':>11} {'Redis ms/req':>13} {'errors':>7}"
)
LEGEND = (
    "  SQL: queries per request, with the page cache cleared (cold) and straight after (warm); checks: connection\n"
    "  health checks (CONN_HEALTH_CHECKS), a database round trip each. CPU: gunicorn workers and PostgreSQL;\n"
    "  Redis: the Redis server's (shared: anyone else's use of it meanwhile counts too)."
)


@dataclass(frozen=True)
class Target:
    description: str
    passed: bool


def print_measurement(measurement: Measurement) -> None:
    print(f"\n== {measurement.programme.capitalize()} programme: {measurement.sessions} published sessions, "
          f"page cache {measurement.cache} ==")  # fmt: skip
    print(HEADER)
    for row in measurement.rows:
        print(_format_row(row))
    print("\n".join(f"  {row.label}: {row.path}" for row in measurement.rows))
    print(LEGEND)
    print(f"  Programme page against the static file of its size: {static_ratio(measurement):.0%} of its requests/s "
          f"(target: at least {MIN_STATIC_RATIO:.0%}).")  # fmt: skip
    print("\nFirst visit to the programme page (Accept-Encoding: br, gzip), bytes transferred:")
    for path, response in measurement.weight.items():
        print(f"  {response.transferred:>9,}  {response.content_encoding or 'identity':<8} {response.status}  {path}")
    print(f"  {page_weight(measurement):>9,}  in all")
    machine = measurement.machine
    print(f"\nWhile loading, the cores were {machine.busy:.0%} busy; processes other than the servers, the load "
          f"generator and this one used {machine.others_cores:.2f} cores' worth (steady figures need ~0).")  # fmt: skip


def print_targets(measurement: Measurement) -> None:
    print(f"\nTargets, {measurement.programme} programme:")
    for target in targets(measurement):
        print(f"  {'PASS' if target.passed else 'FAIL'}  {target.description}")


def targets(measurement: Measurement) -> list[Target]:
    pages = [row for row in measurement.rows if row.probe]
    return [
        _throughput_target(measurement),
        *(Target(f"{row.label}: {row.probe.warm_queries} SQL queries and {row.probe.warm_checks} health checks "
                 "on a cache hit (none)", row.probe.warm_queries == row.probe.warm_checks == 0) for row in pages),
        *(Target(f"{row.label}: {row.cpu_ms:.2f} ms server CPU per request (at most {MAX_CPU_MS:g})",
                 row.cpu_ms <= MAX_CPU_MS) for row in pages),
        *(Target(f"{row.label}: {row.probe.cold_queries} SQL queries, cache cold (at most {MAX_QUERIES})",
                 row.probe.cold_queries <= MAX_QUERIES) for row in pages),
        Target(f"Programme page weight: {page_weight(measurement):,} bytes on a first visit (under {MAX_WEIGHT:,})",
               page_weight(measurement) < MAX_WEIGHT),
    ]  # fmt: skip


def page_weight(measurement: Measurement) -> int:
    return sum(response.transferred for response in measurement.weight.values())


def static_ratio(measurement: Measurement) -> float:
    programme, static = measurement.row("Programme").load, measurement.row("Static file").load
    return programme.per_second / static.per_second if static.per_second else 0.0


def _throughput_target(measurement: Measurement) -> Target:
    programme, static = measurement.row("Programme").load, measurement.row("Static file").load
    return Target(
        f"Programme page: {programme.per_second:.0f} req/s, {static_ratio(measurement):.0%} of the static file's "
        f"{static.per_second:.0f} (at least {MIN_STATIC_RATIO:.0%})",
        static_ratio(measurement) >= MIN_STATIC_RATIO,
    )


def _format_row(row: Row) -> str:
    load, probe = row.load, row.probe
    per_response = load.transferred // load.requests if load.requests else 0
    queries = f"{probe.cold_queries} / {probe.warm_queries}" if probe else "-"
    checks = f"{probe.cold_checks} / {probe.warm_checks}" if probe else "-"
    cold_ms = f"{probe.cold_ms:.0f}" if probe else "-"
    return (
        f"{row.label:<12} {load.per_second:>8.0f} {load.latency_ms(50):>7.1f} {load.latency_ms(99):>7.1f} "
        f"{per_response:>11,} {queries:>14} {checks:>11} {cold_ms:>8} {row.cpu_ms:>11.2f} {row.redis_ms:>13.2f} "
        f"{load.errors:>7}"
    )
