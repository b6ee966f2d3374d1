"""The Stripe test double stands apart from the site: its own process, no Django, and never imported by the apps."""

import ast
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_APPS = ("netroots", "events", "speakers", "tickets")


def test_it_imports_neither_django_nor_netroots():
    check = (
        "import sys, stripe_double, stripe_double.__main__\n"
        f"apps = ('django', *{PRODUCTION_APPS!r})\n"
        "print([m for m in sys.modules if m.split('.')[0] in apps])\n"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_no_production_app_imports_it():
    importers = []
    for app in PRODUCTION_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                if any(name.split(".")[0] == "stripe_double" for name in names):
                    importers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert importers == []


def test_python_m_stripe_double_serves_until_sigterm():
    command = [sys.executable, "-m", "stripe_double", "--port", "0", "--webhook-secret", "whsec_standalone"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as double:
        try:
            banner = double.stdout.readline()
            assert banner.startswith("Stripe test double on http://127.0.0.1:"), banner
            base_url = banner.split()[4].rstrip(";")
            request = urllib.request.Request(  # noqa: S310 - our own loopback server
                f"{base_url}/v1/checkout/sessions/cs_test_nope", headers={"Authorization": "Bearer sk_test_x"}
            )
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with pytest.raises(urllib.error.HTTPError) as refused:
                opener.open(request, timeout=5)
            with refused.value as response:
                assert (response.code, json.loads(response.read())["error"]["code"]) == (404, "resource_missing")
            double.send_signal(signal.SIGTERM)
            assert double.wait(timeout=10) == 0
        finally:
            if double.poll() is None:
                double.kill()


def test_python_m_stripe_double_latency_answers_api_calls_that_much_later():
    command = [sys.executable, "-m", "stripe_double", "--port", "0", "--latency", "0.5"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as double:
        try:
            banner = double.stdout.readline()
            assert banner.rstrip().endswith("API answers 0.5 s late"), banner
            base_url = banner.split()[4].rstrip(";")
            request = urllib.request.Request(  # noqa: S310 - our own loopback server
                f"{base_url}/v1/checkout/sessions/cs_test_nope", headers={"Authorization": "Bearer sk_test_x"}
            )
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            began = time.monotonic()
            with pytest.raises(urllib.error.HTTPError) as refused:
                opener.open(request, timeout=5)
            refused.value.close()
            assert time.monotonic() - began >= 0.5
            assert refused.value.code == 404
        finally:
            double.send_signal(signal.SIGTERM)
            double.wait(timeout=10)
