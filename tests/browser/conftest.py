"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Chromium comes from the system (`apt-get install -y chromium`, or CHROMIUM_PATH); Playwright's own
browser download is not used. Without Chromium these tests skip, unless REQUIRE_BROWSER=1 (CI),
where a missing browser is a failure.
"""

import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in this thread; the ORM calls in fixtures are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]  # the WCAG 2.2 AA rules
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(what: str, how: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} is missing and REQUIRE_BROWSER=1: {how}")
    pytest.skip(f"{what} not found; {how}")


@pytest.fixture(scope="session")
def browser():
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        _missing(
            "Chromium", "install it (`sudo apt-get install -y chromium`) or set CHROMIUM_PATH to run browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, transactional_db):
    """The live server's address, with the demo programme loaded."""
    call_command("load_demo", stdout=io.StringIO())
    return live_server.url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_errors.append(msg.text))
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        _missing("axe-core", "run `npm ci` in the project folder (python3 dev.py test does it when npm exists)")
    return AXE.read_text()


def axe_violations(page, axe_source: str, *, min_passes: int = 11) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the page as loaded now, one line each ("id: help (n times)"). Fails the
    test if axe did not run (fewer than `min_passes` rules passed)."""
    page.evaluate(axe_source)  # evaluate() is not subject to the page's CSP; a <script> tag would be
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    assert len(result["passes"]) >= min_passes, f"axe did not run on {page.url}"
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])}x)" for v in result["violations"]]
