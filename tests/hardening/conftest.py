"""Hardening suites (issue 9). Each module sets SUITE (its row in the table);
a test marked `heavy` runs only under `make hardening`, the rest also run in
`make test`. At the end, a table of cases tried and passed per suite is
printed and written to .artifacts/hardening.json."""
import collections
import json
import os

import pytest

_results = collections.defaultdict(collections.Counter)
_ORDER = []
_FIGURES = []


@pytest.fixture(scope="module")
def stack():
    """The real local stack on free ports, once per module that asks (as
    tests/e2e/conftest.py's, which is session-scoped there)."""
    from devstack.__main__ import Stack, free_port
    local = Stack(free_port(), free_port(), env_extra={"POWERTOOLS_LOG_LEVEL": "WARNING"}, quiet=True)
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture
def report_figure():
    """A line for the end-of-run table (a figure a suite measured, e.g. load's req/s)."""
    return _FIGURES.append


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if item.module is None or not item.module.__name__.startswith("tests.hardening"):
        return
    suite = getattr(item.module, "SUITE", item.module.__name__.rsplit(".", 1)[-1])
    if suite not in _ORDER:
        _ORDER.append(suite)
    # one outcome per case: the call phase, or a setup error/skip
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _results[suite]["tried"] += 1
        _results[suite]["known bug" if hasattr(report, "wasxfail") else report.outcome] += 1


def pytest_terminal_summary(terminalreporter):
    if not _results:
        return
    columns = ("tried", "passed", "failed", "known bug", "skipped")
    rows = [(s, *(_results[s][c] for c in columns)) for s in _ORDER]
    rows.append(("all", *(sum(r[i] for r in rows) for i in range(1, len(columns) + 1))))
    tw = terminalreporter
    tw.section("hardening: cases tried and passed")
    width = max(len(r[0]) for r in rows + [("suite",)])
    tw.line("suite".ljust(width) + "".join(f"  {c:>9}" for c in columns))
    for name, *counts in rows:
        tw.line(name.ljust(width) + "".join(f"  {n:>9}" for n in counts))
    tw.line("(known bug: an xfail(strict) case naming a bug not fixed yet; it fails the run once fixed)")
    for figure in _FIGURES:
        tw.line(figure)
    os.makedirs(".artifacts", exist_ok=True)
    with open(os.path.join(".artifacts", "hardening.json"), "w") as f:
        json.dump({"suites": [dict(zip(("suite",) + columns, r)) for r in rows], "figures": _FIGURES}, f, indent=2)
