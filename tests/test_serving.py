"""`connector serve` for production: several workers behind one port, metrics added up across them
on a port of their own, a graceful shutdown that finishes the write in flight, and forwarded headers
believed from CONNECTOR_TRUSTED_PROXIES only."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import API_KEY, GITHUB_TOKEN, LOG_DIR, OWNER, REPO, ROOT, ServeProcess, eventually, free_port

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def production_env(double, **more: str) -> dict[str, str]:
    return {"GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_API_URL": double.url, "CONNECTOR_API_KEY": API_KEY,
            "CONNECTOR_ALLOWED_REPOS": f"{OWNER}/{REPO}", "PUBLIC_BASE_URL": "https://connector.example.com",
            "CONNECTOR_MCP": "false", **more}


def list_prs(url: str) -> requests.Response:
    return requests.post(f"{url}/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO}, headers=AUTH, timeout=30)


def workers_of(process: subprocess.Popen) -> list[int]:
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(process.pid)], capture_output=True, text=True)
    return [int(pid) for pid in children.stdout.split()]


def test_several_workers_share_one_port_and_their_metrics_add_up(double):
    metrics_port = free_port()
    env = production_env(double, CONNECTOR_METRICS_PORT=str(metrics_port))
    with ServeProcess("--workers", "2", env=env, name="workers") as server:
        # uvicorn's supervisor also starts a resource tracker; the workers are the python children.
        answers = [list_prs(server.url).status_code for _ in range(20)]
        scraped = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        workers = workers_of(server.process)

    assert answers == [200] * 20
    assert len(workers) >= 2
    counted = sum(sample.value for family in text_string_to_metric_families(scraped) for sample in family.samples
                  if sample.name == "connector_requests_total"
                  and sample.labels == {"operation": "list_pull_requests", "status": "200"})
    assert counted == 20


@pytest.mark.one_github_layout
def test_the_sandbox_refuses_several_workers(double):
    process = subprocess.run([sys.executable, "-m", "connector", "serve", "--port", str(free_port()), "--workers", "2"],
                             env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                             capture_output=True, text=True, timeout=60)

    assert process.returncode == 2
    assert "serves one worker" in process.stderr


def test_sigterm_lets_the_write_in_flight_finish(double):
    # GitHub takes 3 s to take this dispatch; SIGTERM arrives while the connector waits for it.
    double.fail_next("POST", f"/repos/{OWNER}/{REPO}/dispatches", delay=3.0)
    with ServeProcess(env=production_env(double), name="graceful") as server:
        answer: list[requests.Response] = []
        sending = threading.Thread(target=lambda: answer.append(requests.post(
            f"{server.url}/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "deploy"},
            headers=AUTH, timeout=30)))
        sent_before = len(double.sent)
        sending.start()
        # SIGTERM once the dispatch has reached GitHub, well inside its 3 s.
        eventually(lambda: f"POST /repos/{OWNER}/{REPO}/dispatches" in double.sent[sent_before:])
        stopping = time.monotonic()
        returncode = server.stop(signal.SIGTERM)
        stopped_after = time.monotonic() - stopping
        sending.join(timeout=30)

    assert answer and answer[0].status_code == 202, answer
    assert returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    assert stopped_after >= 1.0  # it waited for GitHub's answer rather than dropping the request
    assert len(double.calls("POST", f"/repos/{OWNER}/{REPO}/dispatches")) == 1


@pytest.mark.one_github_layout
def test_forwarded_addresses_are_believed_only_from_trusted_proxies(double):
    audit = LOG_DIR / f"serving-audit-{uuid.uuid4().hex}.log"
    forwarded = {**AUTH, "X-Forwarded-For": "203.0.113.9"}
    for trusted in ("127.0.0.1/32", ""):
        env = production_env(double, CONNECTOR_AUDIT_LOG=str(audit), CONNECTOR_TRUSTED_PROXIES=trusted)
        with ServeProcess(env=env, name="proxied") as server:
            requests.post(f"{server.url}/chatgpt/prs/list", json={"owner": OWNER}, headers=forwarded, timeout=10)

    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [line["client_ip"] for line in lines] == ["203.0.113.9", "127.0.0.1"]


@pytest.mark.one_github_layout
def test_the_audit_log_goes_to_stdout_by_default(double):
    with ServeProcess(env=production_env(double), name="stdout-audit") as server:
        requests.post(f"{server.url}/chatgpt/prs/list", json={"owner": OWNER}, headers=AUTH, timeout=10)
        deadline = time.monotonic() + 5
        while '"operation":"list_pull_requests"' not in server.output() and time.monotonic() < deadline:
            time.sleep(0.05)

    [line] = [json.loads(text) for text in server.output().splitlines() if text.startswith('{"time"')]
    assert (line["operation"], line["status"], line["code"]) == ("list_pull_requests", 400, "validation_error")
