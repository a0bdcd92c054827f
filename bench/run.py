"""Run every benchmark module and report: figure, value, goal, pass.

Each module `bench/fig_*.py` has `run(quick=False) -> list of dicts` with keys
figure, value, unit, goal (text), passed (bool or None when there is no goal).
Ratios are measured side by side in one run, so they hold on a noisy machine.
"""
import importlib
import json
import os
import pkgutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def modules():
    for info in sorted(pkgutil.iter_modules([HERE]), key=lambda m: m.name):
        if info.name.startswith("fig_"):
            yield importlib.import_module(f"bench.{info.name}")


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    quick = "--quick" in argv
    only = [a for a in argv if not a.startswith("--")]
    results = []
    for module in modules():
        if only and not any(o in module.__name__ for o in only):
            continue
        started = time.time()
        for row in module.run(quick=quick):
            row.setdefault("unit", "")
            results.append(row)
            print(f"  {row['figure']}: {row['value']} {row['unit']} (goal {row.get('goal') or '-'})", flush=True)
        print(f"[{module.__name__} took {time.time() - started:.0f}s]", flush=True)
    width = max([len(r["figure"]) for r in results] + [6])
    print()
    print(f"{'figure':<{width}}  {'value':>14}  {'goal':<24}  pass")
    for r in results:
        value = f"{r['value']:.3g}" if isinstance(r["value"], float) else str(r["value"])
        passed = "-" if r.get("passed") is None else ("yes" if r["passed"] else "NO")
        print(f"{r['figure']:<{width}}  {value + ' ' + r['unit']:>14}  {str(r.get('goal') or '-'):<24}  {passed}")
    if not quick:
        with open(os.path.join(HERE, "results.json"), "w") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
