"""Lighthouse's mobile performance audit of every public page, served as README's run command serves it and as
production does; exit status 1 unless every page scores 100 and the programme page's first visit (the page and all
its assets, compressed) weighs under 30 KB.

Run from the project root (or `make bench-lighthouse`); it takes ten to fifteen minutes:

    .venv/bin/python bench/lighthouse.py [--mode dev|production] [--page PATH ...] [--runs 1] [--keep DIR]

To audit one page again (a 99 that may be the machine's noise), name it: --mode production --page /programme/ --runs 3.

It needs Node.js with npm and Chromium (CHROME_PATH, by default /usr/bin/chromium). Lighthouse comes from npm,
pinned in bench/lighthouse/package.json, a package folder of its own so that the test command's `npm ci` at the
project root never installs it (it is over 100 MB); the first run installs it there with `npm ci`.

Both modes use one SQLite database in a scratch folder (migrate, then manage.py load_demo), and the page cache in
local memory (REDIS_URL is ignored):

* dev: `manage.py runserver` with DJANGO_DEBUG=1, as `python3 dev.py run` serves the site (static files from
  the source folders, uncompressed).
* production: gunicorn with gunicorn.conf.py and the production settings (DJANGO_DEBUG unset, a random
  DJANGO_SECRET_KEY, DJANGO_SECURE_SSL_REDIRECT=0 since nothing terminates TLS here), static files collected
  into the scratch folder (bench/settings.py) and served by WhiteNoise, hashed and compressed.

The pages: home, the programme, its first session, the speakers, the first speaker, the organisations, the
ticket form, find-your-booking, every /info/ page the home page links to, and the 404 page (under DJANGO_DEBUG=1
Django's technical 404 page, as `dev.py run` shows it, not the site's). Each is fetched
once before it is audited (a visitor usually finds it in the page cache). Lighthouse runs with its defaults:
mobile form factor, simulated throttling (slow 4G, 4x CPU slowdown), performance category only. The table gives
the performance score, first contentful paint, largest contentful paint, total blocking time, cumulative layout
shift and the bytes transferred (Lighthouse's total-byte-weight: the page and everything it loaded). Each page is
audited --runs times (1 by default), and a page scoring below 100 is audited until it has had three: the run with
the median score is shown. Single runs are noisy on a shared machine: total blocking time is the page's main-thread
work times four, so whatever else the 2 cores run meanwhile slows it; the CPU column gives Lighthouse's reading of
the machine's speed for each row (BenchmarkIndex; Lighthouse warns of a slow CPU below 1000).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: import the project

from bench import server

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "bench/lighthouse"  # package.json and package-lock.json pinning Lighthouse
LIGHTHOUSE = TOOLS / "node_modules/.bin/lighthouse"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
    "--disable-sync --no-first-run"
)
MODES = ("dev", "production")
START_TIMEOUT = 30  # seconds for runserver to answer
AUDIT_TIMEOUT = 180  # seconds for one Lighthouse run
TARGET = 100
CONFIRM_RUNS = 3  # a page below TARGET is audited this many times in all, and the median run counts
RETRIES = 2  # runs of a page that Lighthouse could not complete, run again
METRICS = {  # Lighthouse audit id: column title
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
    "total-byte-weight": "bytes",
}


@dataclass(frozen=True)
class Audit:
    page: str
    mode: str
    score: int | None  # 0-100; None when Lighthouse could not audit the page
    metrics: dict[str, float]  # METRICS' audit ids: ms, ms, ms, unitless, bytes
    cpu: float = 0.0  # Lighthouse's BenchmarkIndex of the machine at the time: under 1000 it warns of a slow CPU
    runs: int = 1  # audits of the page this one is the median of
    error: str = ""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, help="audit one way of serving only (default: both)")
    parser.add_argument(
        "--page", action="append", metavar="PATH", help="audit this page only (repeatable), e.g. --page /programme/"
    )
    parser.add_argument("--runs", type=int, default=1, help="audits per page; the median score's run is shown")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep Lighthouse's JSON reports in DIR")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main() -> int:
    args = parse_args()
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    if not Path(chrome).exists():
        print(f"No Chromium at {chrome}: install it (apt-get install chromium) or set CHROME_PATH.", file=sys.stderr)
        return 1
    if not ensure_lighthouse():
        return 1
    audits: list[Audit] = []
    with tempfile.TemporaryDirectory(prefix="netroots-lighthouse-") as folder:
        scratch = Path(folder)
        reports = args.keep or scratch / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        env = base_environment(scratch, chrome)
        manage(env | {"DJANGO_DEBUG": "1"}, "migrate", "--no-input", "-v", "0")
        manage(env | {"DJANGO_DEBUG": "1"}, "load_demo")
        for mode in MODES:
            if args.mode and args.mode != mode:
                continue
            try:
                with serve(mode, env, scratch) as port:
                    pages = args.page or public_pages(port)
                    for page in pages:
                        audits.append(audit(port, page, mode, runs=args.runs, reports=reports))
                        print(format_row(audits[-1]), flush=True)
            except server.ServerError as error:
                print(f"The {mode} server failed: {error}", file=sys.stderr)
                return 1
    print_table(audits)
    light_enough = print_first_visit(audits)
    return 0 if all(audit.score == TARGET for audit in audits) and light_enough else 1


def ensure_lighthouse() -> bool:
    """Install the pinned Lighthouse into bench/lighthouse/node_modules (npm ci) unless it is there."""
    if LIGHTHOUSE.exists():
        return True
    if not shutil.which("npm"):
        print("Lighthouse comes from npm: install Node.js and npm.", file=sys.stderr)
        return False
    print("==> Installing Lighthouse from npm into bench/lighthouse/node_modules", flush=True)
    command = ["npm", "ci", "--no-audit", "--no-fund", "--silent"]
    return subprocess.run(command, cwd=TOOLS, check=False).returncode == 0


def base_environment(scratch: Path, chrome: str) -> dict[str, str]:
    """The shell's environment with the scratch database, the page cache in memory and no debug setting."""
    drop = {"DJANGO_DEBUG", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    return env | {
        "DATABASE_URL": f"sqlite:///{scratch / 'lh.sqlite3'}",  # an absolute path: sqlite:////tmp/...
        "CHROME_PATH": chrome,
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


@contextmanager
def serve(mode: str, env: dict[str, str], scratch: Path) -> Iterator[int]:
    """Serve the site in `mode` on a free loopback port until the block ends; yields the port."""
    log = scratch / f"{mode}.log"
    if mode == "dev":
        port = server.free_port()
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        with server.background("runserver", command, ROOT, env | {"DJANGO_DEBUG": "1"}, log):
            wait_until_up(port, log)
            yield port
        return
    production = env | {
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # the production settings with STATIC_ROOT in the scratch folder
        "BENCH_STATIC_ROOT": str(scratch / "static"),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    manage(production, "collectstatic", "--no-input", "-v", "0")
    with server.gunicorn(ROOT, production, workers=2, log_path=log) as running:
        yield running.port


def wait_until_up(port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            fetch(port, "/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise server.ServerError(f"runserver did not answer within {START_TIMEOUT} s:\n{server.log_tail(log)}")


def fetch(port: int, path: str) -> str:
    """The page's HTML; an HTTP error status is returned like any page (the 404 page is one of ours)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        return error.read().decode()


def public_pages(port: int) -> list[str]:
    """Every public page the brief names, finding the session, speaker and info pages through the site's links."""
    home, programme, speakers = fetch(port, "/"), fetch(port, "/programme/"), fetch(port, "/speakers/")
    first = {
        "session": first_link(programme, r"/programme/[\w-]+/"),
        "speaker": first_link(speakers, r"/speakers/[\w-]+/"),
    }
    missing = [name for name, path in first.items() if not path]
    if missing:
        raise server.ServerError(f"no link to a {' or '.join(missing)} page: is the demo programme loaded?")
    info = list(dict.fromkeys(re.findall(r'href="(/info/[\w-]+/)"', home)))
    return [
        "/", "/programme/", first["session"], "/speakers/", first["speaker"], "/organisations/",
        "/tickets/", "/tickets/find/", *info, "/no-such-page/",
    ]  # fmt: skip


def first_link(html: str, pattern: str) -> str:
    match = re.search(f'href="({pattern})"', html)
    return match.group(1) if match else ""


def audit(port: int, page: str, mode: str, *, runs: int, reports: Path) -> Audit:
    """Lighthouse's performance audit of one page: the run with the median score of `runs` runs, or of CONFIRM_RUNS
    when the first scores below the target (the machine's other work makes single runs noisy). A run that
    Lighthouse could not complete (its NO_NAVSTART and such, on a busy machine) is run again, up to RETRIES times."""
    fetch(port, page)  # into the page cache, as most visitors find it
    scored: list[Audit] = []
    failed: list[Audit] = []
    while len(failed) <= RETRIES and (len(scored) < runs or (len(scored) < CONFIRM_RUNS and scored[0].score != TARGET)):
        output = reports / f"{mode}-{slug(page)}-{len(scored) + len(failed)}.json"
        result = run_lighthouse(port, page, mode, output)
        (scored if result.score is not None else failed).append(result)
    if not scored:
        return failed[-1]
    scored.sort(key=lambda result: result.score)
    return replace(scored[(len(scored) - 1) // 2], runs=len(scored))  # the median, or the lower middle one


def run_lighthouse(port: int, page: str, mode: str, output: Path) -> Audit:
    command = [
        str(LIGHTHOUSE), f"http://127.0.0.1:{port}{page}", "--only-categories=performance", "--output=json",
        f"--output-path={output}", f"--chrome-flags={CHROME_FLAGS}", "--quiet",
        "--ignore-status-code",  # the 404 page is audited too
    ]  # fmt: skip
    done = subprocess.run(command, cwd=TOOLS, capture_output=True, text=True, timeout=AUDIT_TIMEOUT, check=False)
    if done.returncode != 0 or not output.exists():
        return Audit(page, mode, None, {}, error=(done.stderr.strip().splitlines() or ["no report"])[-1])
    report = json.loads(output.read_text())
    if report.get("runtimeError"):
        return Audit(page, mode, None, {}, error=report["runtimeError"].get("message", "runtime error"))
    score = report["categories"]["performance"]["score"]
    metrics = {name: report["audits"][name].get("numericValue", float("nan")) for name in METRICS}
    cpu = report["environment"]["benchmarkIndex"]
    return Audit(page, mode, round(score * 100) if score is not None else None, metrics, cpu=cpu)


def slug(page: str) -> str:
    return page.strip("/").replace("/", "-") or "home"


HEADER = (
    f"{'page':<30} {'mode':<10} {'score':>5} {'FCP s':>6} {'LCP s':>6} {'TBT ms':>7} {'CLS':>6} {'KB':>6} "
    f"{'runs':>4} {'CPU':>5}"
)


def format_row(audit: Audit) -> str:
    if audit.score is None:
        return f"{audit.page:<30} {audit.mode:<10} {'-':>5}  Lighthouse failed: {audit.error}"
    m = audit.metrics
    return (
        f"{audit.page:<30} {audit.mode:<10} {audit.score:>5} {m['first-contentful-paint'] / 1000:>6.2f} "
        f"{m['largest-contentful-paint'] / 1000:>6.2f} {m['total-blocking-time']:>7.0f} "
        f"{m['cumulative-layout-shift']:>6.3f} {m['total-byte-weight'] / 1000:>6.1f} {audit.runs:>4} {audit.cpu:>5.0f}"
    )


def print_table(audits: list[Audit]) -> None:
    print(f"\nLighthouse {lighthouse_version()}: mobile, simulated throttling (slow 4G, CPU 4x slower)")
    print("  KB: bytes transferred (/1000); runs: audits this row is the median of (3 when the first scored below")
    print(
        f"  {TARGET}); CPU: Lighthouse's BenchmarkIndex of this machine meanwhile (below 1000: busy or slow, it warns)"
    )
    print(HEADER)
    for audit in audits:
        print(format_row(audit))
    below = [audit for audit in audits if audit.score != TARGET]
    verdict = "PASS" if not below else "FAIL"
    print(f"\n{verdict}  {len(audits) - len(below)} of {len(audits)} audits score {TARGET} (target: every page)")


FIRST_VISIT_PAGE = "/programme/"
FIRST_VISIT_LIMIT = 30_000  # bytes, compressed, as served: bench/report.py's MAX_WEIGHT, measured by Lighthouse


def print_first_visit(audits: list[Audit]) -> bool:
    """Print the programme page's first-visit weight under production (Lighthouse loads with an empty cache): the
    page and every asset it loads, as transferred (compressed). False if it is FIRST_VISIT_LIMIT or more; True if
    under, or not audited this time."""
    for audit in audits:
        if audit.page == FIRST_VISIT_PAGE and audit.mode == "production" and audit.score is not None:
            weight = audit.metrics["total-byte-weight"]
            verdict = "under" if weight < FIRST_VISIT_LIMIT else "OVER"
            print(
                f"First visit to {FIRST_VISIT_PAGE} (production, all assets, compressed): {weight / 1000:.1f} KB, "
                f"{verdict} the {FIRST_VISIT_LIMIT / 1000:.0f} KB target"
            )
            return weight < FIRST_VISIT_LIMIT
    return True


def lighthouse_version() -> str:
    package = json.loads((TOOLS / "node_modules/lighthouse/package.json").read_text())
    return package["version"]


if __name__ == "__main__":
    sys.exit(main())
