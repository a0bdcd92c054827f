"""The console stays light (issue 20): what a browser downloads for it,
index.html and every file it names, is under 150 KB uncompressed, and each
script is still valid JavaScript once minified."""
import os
import re
import shutil
import subprocess

import pytest

from chalicelib.console.routes import STATIC, served

BUDGET = 150 * 1024


def console_files():
    html = served("index.html")
    return ["index.html"] + re.findall(r'(?:src|href)="assets/([^"]+)"', html)


def test_the_console_is_under_150_kb_uncompressed():
    files = console_files()
    assert len(files) > 10 and "groups.js" in files and "console.css" in files
    assert set(files[1:]) == {f for f in os.listdir(STATIC) if f != "index.html"}, "a file no page loads"
    total = sum(len(served(f).encode("utf-8")) for f in files)
    print(f"console: {total / 1024:.1f} KB as served, "
          f"{sum(os.path.getsize(os.path.join(STATIC, f)) for f in files) / 1024:.1f} KB of sources")
    assert total < BUDGET


@pytest.mark.parametrize("name", [f for f in sorted(os.listdir(STATIC)) if f.endswith(".js")])
def test_each_minified_script_is_valid_javascript(name, tmp_path):
    node = shutil.which("node")
    assert node, "node is installed by make test (the axe target)"
    path = tmp_path / name
    path.write_text(served(name), encoding="utf-8")
    checked = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert len(served(name)) < os.path.getsize(os.path.join(STATIC, name))
