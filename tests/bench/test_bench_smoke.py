"""A small run of the benchmark code, so `make bench` can't rot. Figures
from quick runs mean nothing; only the shape is checked. The slowest four
run under `make hardening` (and `make bench` runs them whole)."""
import pytest

SLOW = pytest.mark.heavy


@pytest.mark.parametrize("name", ["fig_validation", "fig_cold_start", "fig_sweep", "fig_requests", "fig_xlsx",
                                  pytest.param("fig_memory", marks=SLOW), pytest.param("fig_rollover", marks=SLOW),
                                  pytest.param("fig_held_diff", marks=SLOW), pytest.param("fig_bundle", marks=SLOW), pytest.param("fig_oneroster_bundle", marks=SLOW),
                                  pytest.param("fig_console", marks=SLOW)])
def test_quick_run_reports_figures(name):
    import importlib
    module = importlib.import_module(f"bench.{name}")
    rows = module.run(quick=True)
    assert rows
    for row in rows:
        assert {"figure", "value", "unit", "goal", "passed"} <= set(row)
        assert isinstance(row["value"], (int, float)) and row["value"] >= 0
