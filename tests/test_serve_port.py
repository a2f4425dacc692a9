"""`connector serve` binds its port before it prints the sandbox banner: a port already taken stops
it with a message saying so, not with a fresh key whose curls would reach the other server."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, ServeProcess


def test_a_taken_port_stops_serve_before_any_banner():
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    with ServeProcess(env=env, name="port-holder") as holder:
        second = subprocess.run([sys.executable, "-m", "connector", "serve", "--port", str(holder.port)], env=env,
                                cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert second.returncode == 2
    assert f"cannot listen on 127.0.0.1:{holder.port}" in second.stderr
    assert "API key:" not in second.stdout + second.stderr
    assert "SANDBOX MODE" in holder.output()  # the server that holds the port printed its own
