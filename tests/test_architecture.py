"""The code's shape, checked like behaviour: layers point one way, and no import hides inside a function."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["netroots", "events", "speakers", "tickets"]


def test_layers_point_one_way():
    """import-linter's contracts in pyproject.toml: netroots -> tickets -> events -> speakers, and no app
    imports the Stripe test double. Adding an upward import anywhere fails here (and in CI)."""
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.fail("lint-imports is missing: install requirements-dev.lock")
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _imports_inside_functions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    return found


def test_no_import_hides_inside_a_function():
    """A function-local import is how a cycle between modules gets hidden; the apps have none."""
    modules = [path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]
    assert modules
    assert [hit for path in modules for hit in _imports_inside_functions(path)] == []
