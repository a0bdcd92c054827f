"""The packaged prod template, built once for every module here."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    """(path of sam.json, the template): infra.build + chalice package, as `make package STAGE=prod`."""
    out = tmp_path_factory.mktemp("package")
    env = dict(os.environ, AWS_DEFAULT_REGION="eu-west-2")
    env.pop("AWS_ENDPOINT_URL", None)
    subprocess.run([sys.executable, "-m", "infra.build", "prod", str(out / "merge.json")], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    subprocess.run([os.path.join(BIN, "chalice"), "package", "--stage", "prod", "--merge-template",
                    str(out / "merge.json"), str(out / "dist")], cwd=ROOT, env=env, check=True, capture_output=True)
    path = out / "dist" / "sam.json"
    return path, json.loads(path.read_text())
