#!/usr/bin/env python3
"""Netroots for developers, with nothing but Python 3.11+ installed.

    python3 dev.py run     serve the site with the demo programme on http://127.0.0.1:8000, with a task
                           worker, the scheduler of periodic tasks and the Stripe test double
    python3 dev.py test    run every test (extra arguments go to pytest)

Both make a virtual environment in .venv and install requirements-dev.lock into it the first
time (and again whenever the lock file changes).
"""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
LOCK = ROOT / "requirements-dev.lock"
STAMP = VENV / ".installed-lock-sha256"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*args: str | Path, env: dict | None = None) -> None:
    subprocess.run([str(arg) for arg in args], cwd=ROOT, env=env, check=True)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Netroots needs Python 3.11 or newer.")
    if not PYTHON.exists():
        say("Creating the virtual environment in .venv")
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        say("Installing dependencies from requirements-dev.lock (first run only)")
        run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", LOCK)
        STAMP.write_text(digest)


def ensure_axe() -> None:
    """axe-core (the accessibility checker the browser tests inject) comes from npm when npm exists."""
    if (ROOT / "node_modules/axe-core/axe.min.js").exists() or not shutil.which("npm"):
        return
    say("Installing axe-core from npm for the accessibility tests")
    run("npm", "ci", "--no-audit", "--no-fund", "--silent")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_stripe_double(env: dict) -> subprocess.Popen | None:
    """Without real Stripe keys, payments go to the local Stripe test double and its test payment page."""
    if env.get("STRIPE_SECRET_KEY"):
        return None
    port = free_port()
    env.update(
        {
            "STRIPE_SECRET_KEY": "sk_test_local_double",  # test keys for a server on this machine only
            "STRIPE_WEBHOOK_SECRET": "whsec_local_double",
            "STRIPE_API_BASE": f"http://127.0.0.1:{port}",
        }
    )
    say(f"No STRIPE_SECRET_KEY: payments go to the Stripe test double on http://127.0.0.1:{port}")
    webhook = f"{env['SITE_URL']}/stripe/webhook/"
    secret = env["STRIPE_WEBHOOK_SECRET"]
    command = [PYTHON, "-m", "stripe_double", "--port", port, "--webhook-url", webhook, "--webhook-secret", secret]
    return subprocess.Popen([str(arg) for arg in command], cwd=ROOT, env=env)


def serve() -> None:
    env = {**os.environ}
    env.setdefault("DJANGO_DEBUG", "1")
    env.setdefault("SITE_URL", "http://127.0.0.1:8000")
    manage = (PYTHON, "manage.py")
    run(*manage, "migrate", "--no-input", "-v", "0", env=env)
    run(*manage, "load_demo", env=env)
    children = [child for child in [start_stripe_double(env)] if child]
    # As in production: a task worker runs the background work (emails, refunds), the scheduler enqueues the
    # periodic tasks (releasing expired holds, ...). See README, "Production".
    say("Starting a task worker and the scheduler of periodic tasks")
    children.append(subprocess.Popen([str(PYTHON), *manage[1:], "db_worker", "--no-reload"], cwd=ROOT, env=env))
    children.append(subprocess.Popen([str(PYTHON), *manage[1:], "run_scheduler"], cwd=ROOT, env=env))
    say("Netroots is at http://127.0.0.1:8000 (admin: /admin/). Emails print here. Ctrl+C stops it.")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that `kill` also stops the children
    try:
        children.append(subprocess.Popen([str(PYTHON), "manage.py", "runserver", "127.0.0.1:8000"], cwd=ROOT, env=env))
        children[-1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=10)


def test(pytest_args: list[str]) -> None:
    ensure_axe()
    os.chdir(ROOT)
    os.execv(PYTHON, [str(PYTHON), "-m", "pytest", *pytest_args])


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in {"run", "test"}:
        sys.exit(__doc__)
    ensure_venv()
    serve() if command == "run" else test(sys.argv[2:])


if __name__ == "__main__":
    main()
