"""An installed connector (a wheel, not this checkout) carries everything it reads at start-up."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_serves_the_spec_without_the_checkout(tmp_path):
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                    str(source)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("*.whl"))
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    env = {**os.environ, "PYTHONPATH": str(installed), "CONNECTOR_EVENTS_FILE": str(ROOT / "examples" / "events.yaml")}

    # From an empty directory, so only the wheel's copy of the package can be imported.
    result = subprocess.run([sys.executable, "-m", "connector", "spec", "--base-url", "https://c.example"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr[-2000:]
    document = json.loads(result.stdout)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "https://c.example"}]
    assert (installed / "connector" / "openapi.yaml").read_text() == (ROOT / "openapi.yaml").read_text()
    assert not (installed / "connector" / "openapi.yaml").is_symlink()
