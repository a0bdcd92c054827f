"""Figure 6: time to `import app` in a fresh interpreter (environment: only
AWS_DEFAULT_REGION) next to importing chalice and boto3 alone; median of 10
runs each, interleaved."""
import os
import statistics
import subprocess
import sys

GOAL = 1.5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMER = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def once(stmt):
    env = {"AWS_DEFAULT_REGION": "eu-west-2", "PATH": os.environ.get("PATH", "/usr/bin")}
    out = subprocess.run([sys.executable, "-c", TIMER.format(stmt=stmt)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def run(quick=False):
    n = 2 if quick else 10
    app_times, base_times = [], []
    for _ in range(n):
        app_times.append(once("import app"))
        base_times.append(once("import chalice, boto3"))
    app_s, base_s = statistics.median(app_times), statistics.median(base_times)
    ratio = app_s / base_s
    return [
        {"figure": "cold start: import app", "value": round(app_s * 1000, 1), "unit": "ms", "goal": None, "passed": None},
        {"figure": "cold start: import chalice, boto3", "value": round(base_s * 1000, 1), "unit": "ms", "goal": None,
         "passed": None},
        {"figure": "cold start ratio", "value": round(ratio, 2), "unit": "x", "goal": f"<= {GOAL}", "passed": ratio <= GOAL},
    ]
