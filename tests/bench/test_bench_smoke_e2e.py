"""Smoke test: the end-to-end import and local-stack throughput figures run
in quick mode and return well-formed rows. The import figure opens its own
mock_aws() (this test does not use the ``aws`` fixture, so nothing nests);
the throughput figure starts the real local stack on free loopback ports."""
import numbers

import pytest

KEYS = {"figure", "value", "unit", "goal", "passed"}


def check(rows):
    assert rows
    for row in rows:
        assert KEYS <= set(row), row
        assert isinstance(row["figure"], str) and row["figure"]
        assert isinstance(row["value"], numbers.Number) and not isinstance(row["value"], bool), row
        assert row["value"] > 0, row
        assert row["passed"] in (True, False, None)


def test_import_end_to_end_quick():
    from bench import fig_import_end_to_end
    rows = fig_import_end_to_end.run(quick=True)
    check(rows)
    assert any(r["figure"].startswith("import / baseline") for r in rows)


@pytest.mark.heavy  # (the import end to end above is the same path; `make bench` measures it whole)
def test_throughput_quick():
    from bench import fig_throughput
    rows = fig_throughput.run(quick=True)
    check(rows)
    assert any("list-pupils p99" in r["figure"] for r in rows)
    assert any("add-member p50" in r["figure"] for r in rows)
