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
        _results[suite][report.outcome] += 1


def pytest_terminal_summary(terminalreporter):
    if not _results:
        return
    rows = [(s, _results[s]["tried"], _results[s]["passed"], _results[s]["failed"], _results[s]["skipped"])
            for s in _ORDER]
    tw = terminalreporter
    tw.section("hardening: cases tried and passed")
    width = max(len(r[0]) for r in rows + [("suite",)])
    tw.line(f"{'suite'.ljust(width)}  {'tried':>6}  {'passed':>6}  {'failed':>6}  {'skipped':>7}")
    for name, tried, passed, failed, skipped in rows:
        tw.line(f"{name.ljust(width)}  {tried:>6}  {passed:>6}  {failed:>6}  {skipped:>7}")
    total = [sum(r[i] for r in rows) for i in range(1, 5)]
    tw.line(f"{'all'.ljust(width)}  {total[0]:>6}  {total[1]:>6}  {total[2]:>6}  {total[3]:>7}")
    os.makedirs(".artifacts", exist_ok=True)
    with open(os.path.join(".artifacts", "hardening.json"), "w") as f:
        json.dump([{"suite": r[0], "tried": r[1], "passed": r[2], "failed": r[3], "skipped": r[4]} for r in rows],
                  f, indent=2)
