"""Waits and streams hold no worker thread, share their GitHub reads per run, and count against
the caller's rate limit; the shared read itself (connector.state.shared_polls)."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from connector.api import runs as runs_api
from connector.app import create_app
from connector.errors import GitHubUnavailable
from connector.state.shared_polls import SharedPolls
from connector.types import Secret
from tests.conftest import API_KEY, OWNER, REPO, LiveServer

KEYS = [f"waiting-key-{n:02d}-0123456789abcdef" for n in range(15)]
RUN_READS = re.compile(rf"/repos/{OWNER}/{REPO}/actions/runs/\d+$")


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(runs_api, "POLL_SECONDS", 0.2)


def started_run(server, double) -> int:
    double.add_workflow(OWNER, REPO, "Deploy", types=["deploy"], jobs=["build"])
    dispatched = requests.post(f"{server.url}/chatgpt/dispatch", timeout=30, headers={"Authorization": f"Bearer {API_KEY}"},
                               json={"owner": OWNER, "repo": REPO, "event_type": "deploy", "request_id": "wait-1"})
    assert dispatched.status_code == 202, dispatched.text
    [run] = double.runs(OWNER, REPO)
    double.clear_requests()
    return run["id"]


def wait_on(server, run_id, key, seconds=4):
    return requests.post(f"{server.url}/chatgpt/runs/get", timeout=60, headers={"Authorization": f"Bearer {key}"},
                         json={"owner": OWNER, "repo": REPO, "run_id": run_id, "wait_seconds": seconds})


def test_sixty_waits_hold_no_worker_thread_and_share_one_read_per_poll(make_settings, double):
    """More waits than the 40 worker threads: an ordinary call is answered while all of them are
    still open, and they read the run together rather than each on its own."""
    settings = make_settings(api_keys=tuple(Secret(key) for key in [API_KEY, *KEYS]))
    with LiveServer(create_app(settings)) as server, ThreadPoolExecutor(60) as pool:
        run_id = started_run(server, double)
        waits = [pool.submit(wait_on, server, run_id, key) for key in KEYS for _ in range(4)]
        time.sleep(1.0)  # all sixty are waiting now
        ordinary = requests.post(f"{server.url}/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO},
                                 headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
        still_open = sum(not wait.done() for wait in waits)
        answers = [wait.result() for wait in waits]

    assert ordinary.status_code == 200, ordinary.text
    assert still_open == 60  # the ordinary call did not wait for a thread a wait was holding
    assert [answer.status_code for answer in answers] == [200] * 60
    reads = len(double.calls("GET", RUN_READS))
    # At most one shared read per poll (4 s / 0.2 s, the first reads included), not sixty per poll.
    assert reads <= 4 / 0.2 + 5, reads


def test_a_waits_reads_count_against_the_callers_rate_limit(make_settings, double):
    with LiveServer(create_app(make_settings(rate_limit=("5/minute",)))) as server:
        run_id = started_run(server, double)
        answer = wait_on(server, run_id, API_KEY, seconds=5)

    # The dispatch and the wait are two requests; the wait's reads (its first one too) three more.
    assert answer.status_code == 429, answer.text
    assert answer.json()["code"] == "rate_limited" and "retry-after" in answer.headers
    assert len(double.calls("GET", RUN_READS)) == 3


def test_a_refused_wait_costs_no_github_call(make_settings, double):
    from connector.http.wait_slots import PER_CALLER

    with LiveServer(create_app(make_settings())) as server, ThreadPoolExecutor(PER_CALLER + 3) as pool:
        run_id = started_run(server, double)
        waits = [pool.submit(wait_on, server, run_id, API_KEY, 2) for _ in range(PER_CALLER + 3)]
        answers = sorted(wait.result().status_code for wait in waits)

    assert answers == [200] * PER_CALLER + [429] * 3
    assert len(double.calls("GET", RUN_READS)) <= 2 / 0.2 + 2  # the admitted ones' shared reads only


def test_opening_a_stream_counts_as_a_request(make_settings, double):
    with LiveServer(create_app(make_settings(rate_limit=("2/minute",)))) as server:
        run_id = started_run(server, double)
        assert wait_on(server, run_id, API_KEY, seconds=0).status_code == 200
        stream = requests.get(f"{server.url}/v1/runs/{OWNER}/{REPO}/{run_id}/events", timeout=10,
                              headers={"Authorization": f"Bearer {API_KEY}"})

    assert stream.status_code == 429 and stream.json()["code"] == "rate_limited"


def test_watchers_share_a_read_under_way_and_a_fresh_one():
    polls, loads, release = SharedPolls(), [], threading.Event()

    def load():
        loads.append(1)
        release.wait(5)
        return {"status": "queued"}

    with ThreadPoolExecutor(10) as pool:
        readers = [pool.submit(polls.read, "run-1", load, fresh_for=60) for _ in range(10)]
        time.sleep(0.2)
        release.set()
        answers = [reader.result() for reader in readers]

    assert answers == [{"status": "queued"}] * 10 and len(loads) == 1
    assert polls.read("run-1", load, fresh_for=60) == {"status": "queued"} and len(loads) == 1
    assert polls.read("run-1", load, fresh_for=0) and len(loads) == 2  # stale: read again
    assert polls.read("run-2", load, fresh_for=60) and len(loads) == 3  # another run: its own read


def test_a_failed_read_reaches_its_waiters_and_is_not_kept():
    polls, calls = SharedPolls(), []

    def failing():
        calls.append(1)
        raise GitHubUnavailable("GitHub answered 502")

    with pytest.raises(GitHubUnavailable):
        polls.read("run-1", failing, fresh_for=60)
    assert polls.read("run-1", lambda: "fine", fresh_for=60) == "fine"  # tried again, not the kept failure


def test_the_shared_reads_are_bounded():
    polls = SharedPolls(size=3)
    for n in range(10):
        polls.read(f"run-{n}", lambda n=n: n, fresh_for=60)

    assert len(polls._reads) == 3
