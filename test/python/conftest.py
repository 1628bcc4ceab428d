"""Shared fixtures of the Python tests, and a results file for the vitest test that runs them.

The fixtures (trained checkpoints, their exports, charrnn's eval figures and step outputs) are
made by test/export-python.test.ts, which runs pytest with CHARRNN_EXPORT_FIXTURES pointing to
their manifest and reads back CHARRNN_PYTEST_RESULTS: every test's outcome, message and the
figures it recorded with record_property. Run them with: npx vitest run test/export-python.test.ts
"""

import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "examples", "pytorch"))

_results = {}


@pytest.fixture(scope="session")
def manifest():
    path = os.environ.get("CHARRNN_EXPORT_FIXTURES")
    if not path:
        pytest.skip("no fixtures: run through `npx vitest run test/export-python.test.ts`")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pytest_runtest_logreport(report):
    name = report.nodeid.split("::", 1)[-1]
    r = _results.setdefault(name, {"outcome": "passed", "message": "", "properties": {}})
    if report.failed:
        r["outcome"] = "failed"
        r["message"] += f"[{report.when}] {report.longreprtext[-3000:]}\n"
    elif report.skipped and r["outcome"] == "passed":
        r["outcome"] = "skipped"
        r["message"] += str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
    r["properties"].update(dict(report.user_properties))


def pytest_sessionfinish(session):
    out = os.environ.get("CHARRNN_PYTEST_RESULTS")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            json.dump(_results, f, indent=1)
