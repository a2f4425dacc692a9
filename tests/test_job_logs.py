"""get_job_logs: the end of each log, cleaned and masked, read from GitHub's storage host without
credentials and without reading more than the tail; rerun_workflow_run beside it."""

from __future__ import annotations

import re

import pytest

from connector.api import runs as runs_api
from connector.api.job_logs import ANSWER_BUDGET
from connector.github import logs as logs_module
from connector.policy.log_text import LINE_LIMIT
from tests.conftest import GITHUB_TOKEN, OWNER, REPO, keys_file_with

STAMP = "2026-12-02T07:40:10.1234567Z "


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(runs_api, "POLL_SECONDS", 0.05)


@pytest.fixture
def failed_run(client, double):
    """A dispatched run that failed at its `test` job's main step (the double fails every job of a
    failed run)."""
    double.add_workflow(OWNER, REPO, "CI", types=["ci"], jobs=["build", "test"])
    assert client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "ci"}).status_code == 202
    [run] = double.runs(OWNER, REPO)
    double.advance_run(run["id"], "completed", "failure", failing_step="Run test")
    double.clear_requests()
    return run["id"]


def job_ids(double, run_id):
    return {job["name"]: job["id"] for job in double.jobs(run_id)}


def logs(client, **body):
    return client.post("/chatgpt/runs/logs", json={"owner": OWNER, "repo": REPO, **body})


def test_a_runs_failed_jobs_come_with_the_end_of_their_logs(client, double, failed_run):
    ids = job_ids(double, failed_run)
    double.set_job_log(ids["test"], "".join(f"{STAMP}\x1b[36;1mline {n}\x1b[0m\n" for n in range(500))
                       + f"{STAMP}##[error]Process completed with exit code 1.\n")

    response = logs(client, run_id=failed_run, tail_lines=3)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert [job["name"] for job in answer["jobs"]] == ["build", "test"] and answer["jobs_total"] == 2
    job = answer["jobs"][1]
    assert job["conclusion"] == "failure"
    assert job["log"].split("\n") == ["line 498", "line 499", "##[error]Process completed with exit code 1."]
    assert job["lines"] == 3 and job["truncated"] is True
    assert job["failed_step"] == "Run test"


def test_failed_only_leaves_out_the_jobs_that_succeeded(client, double):
    double.add_workflow(OWNER, REPO, "CI", types=["ci"], jobs=["build", "test"])
    client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "ci"})
    [run] = double.runs(OWNER, REPO)
    double.advance_run(run["id"], "completed", "success")

    failed = logs(client, run_id=run["id"]).json()
    every = logs(client, run_id=run["id"], failed_only=False).json()

    assert (failed["jobs"], failed["jobs_total"]) == ([], 0)
    assert [job["name"] for job in every["jobs"]] == ["build", "test"]
    assert all(job["log"] for job in every["jobs"])


def test_one_job_by_its_id(client, double, failed_run):
    ids = job_ids(double, failed_run)
    double.set_job_log(ids["build"], f"{STAMP}compiled\n")

    answer = logs(client, job_id=ids["build"]).json()

    assert answer["run_id"] == failed_run
    assert [(job["name"], job["log"], job["truncated"]) for job in answer["jobs"]] == [("build", "compiled", False)]


def test_the_storage_host_never_sees_github_credentials_and_is_asked_for_the_tail_only(client, double, failed_run):
    ids = job_ids(double, failed_run)
    double.set_job_log(ids["test"], (f"{STAMP}" + "x" * 99 + "\n").encode() * 100_000)  # 13 MB

    response = logs(client, job_id=ids["test"], tail_lines=10)

    assert response.status_code == 200, response.text
    [seen] = double.storage_requests
    assert "authorization" not in {name.lower() for name in seen.headers}
    assert seen.headers.get("range") == f"bytes=-{logs_module.TAIL_BYTES}"
    assert response.json()["jobs"][0]["lines"] == 10
    api_calls = [r for r in double.requests if r.path.endswith("/logs")]
    assert api_calls and all(r.headers.get("authorization") for r in api_calls)  # GitHub itself got the token


def test_a_storage_host_that_ignores_range_is_streamed_keeping_only_the_end(client, double, failed_run):
    ids = job_ids(double, failed_run)
    double.storage_ignores_range = True
    double.set_job_log(ids["test"], "".join(f"{STAMP}row {n}\n" for n in range(200_000)))

    [job] = logs(client, job_id=ids["test"], tail_lines=2).json()["jobs"]

    assert job["log"] == "row 199998\nrow 199999"


def test_a_log_too_big_to_stream_is_refused_not_read_forever(client, double, failed_run, monkeypatch):
    ids = job_ids(double, failed_run)
    double.storage_ignores_range = True
    monkeypatch.setattr(logs_module, "MAX_STREAMED_BYTES", 1_000_000)
    double.set_job_log(ids["test"], b"y" * 2_000_000)

    response = logs(client, job_id=ids["test"])

    assert response.status_code == 502 and "read it on GitHub" in response.json()["detail"]


def test_huge_lines_are_capped_and_the_answer_stays_small(client, double, failed_run):
    ids = job_ids(double, failed_run)
    double.set_job_log(ids["test"], "".join(f"{STAMP}{'z' * 100_000}\n" for _ in range(3)))
    double.set_job_log(ids["build"], "".join(f"{STAMP}{'w' * 400}\n" for _ in range(2000)))

    response = logs(client, run_id=failed_run, failed_only=False, tail_lines=1000)

    answer = response.json()
    assert len(response.text) < ANSWER_BUDGET + 5_000
    for job in answer["jobs"]:
        assert all(len(line) <= LINE_LIMIT for line in job["log"].split("\n"))
    assert answer["jobs"][0]["truncated"] is True  # build: 2,000 lines did not fit its share


def test_credentials_in_a_log_are_masked(client, double, failed_run):
    ids = job_ids(double, failed_run)
    leaked = "ghs_" + "Q" * 36
    double.set_job_log(ids["test"], f"{STAMP}token={GITHUB_TOKEN} app={leaked}\n")

    [job] = logs(client, job_id=ids["test"]).json()["jobs"]

    assert job["log"] == "token=[redacted] app=[redacted]"


def test_a_job_that_has_not_finished_is_not_read(client, double):
    double.add_workflow(OWNER, REPO, "CI", types=["ci"], jobs=["build"])
    client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "ci"})
    [run] = double.runs(OWNER, REPO)
    double.clear_requests()

    [job] = logs(client, run_id=run["id"], failed_only=False).json()["jobs"]

    assert job["log"] is None and "not finished" in job["withheld"]
    assert double.storage_requests == []


def test_lockdown_withholds_a_fork_runs_log_on_a_public_repository(make_client, double):
    workflow = double.add_workflow(OWNER, REPO, "PR checks", types=["ci"], jobs=["test"])
    run_id = double.add_fork_run(OWNER, REPO, workflow, fork_owner="outsider")
    double.advance_run(run_id, "completed", "failure")
    double.clear_requests()

    locked = logs(make_client(lockdown="public"), run_id=run_id).json()["jobs"][0]
    open_ = logs(make_client(lockdown="off"), run_id=run_id).json()["jobs"][0]

    assert locked["log"] is None and "fork" in locked["withheld"]
    assert open_["log"] and "withheld" not in open_
    assert len(double.storage_requests) == 1  # only the unlocked request read it


def test_an_unknown_job_is_not_found(client, double):
    response = logs(client, job_id=987654321)

    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_exactly_one_of_job_id_and_run_id(client, double):
    for body in ({}, {"job_id": 1, "run_id": 2}, {"job_id": None}):
        response = logs(client, **body)
        assert response.status_code == 400, body
    assert double.requests == []


# -- rerun_workflow_run -------------------------------------------------------------------------


def test_rerunning_the_failed_jobs_starts_a_new_attempt_once_per_request_id(client, double, failed_run):
    body = {"owner": OWNER, "repo": REPO, "run_id": failed_run, "failed_only": True, "request_id": "rr-1"}

    first = client.post("/chatgpt/runs/rerun", json=body)
    again = client.post("/chatgpt/runs/rerun", json=body)

    assert first.status_code == 202, first.text
    assert first.json() == {"ok": True, "rerun_requested": True, "run_id": failed_run, "repository": f"{OWNER}/{REPO}",
                            "failed_only": True}
    assert again.headers["idempotent-replayed"] == "true"
    assert double.run_attempt(failed_run) == 2
    assert len(double.calls("POST", re.compile(r".*/rerun-failed-jobs$"))) == 1
    assert {job["status"] for job in double.jobs(failed_run)} == {"queued"}


def test_a_dry_run_reports_the_run_and_reruns_nothing(client, double, failed_run):
    response = client.post("/chatgpt/runs/rerun", json={"owner": OWNER, "repo": REPO, "run_id": failed_run,
                                                        "dry_run": True})

    assert response.status_code == 200
    would = response.json()["would"]
    assert (would["action"], would["run_status"], would["run_conclusion"]) == ("rerun", "completed", "failure")
    assert double.run_attempt(failed_run) == 1


def test_a_run_still_going_cannot_be_rerun(client, double):
    double.add_workflow(OWNER, REPO, "CI", types=["ci"], jobs=["build"])
    client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "ci"})
    [run] = double.runs(OWNER, REPO)

    response = client.post("/chatgpt/runs/rerun", json={"owner": OWNER, "repo": REPO, "run_id": run["id"]})

    assert 400 <= response.status_code < 500, response.text
    assert double.run_attempt(run["id"]) == 1


def test_rerunning_needs_the_runs_write_scope(make_client, double, failed_run, tmp_path):
    key = "reader-key-0123456789"
    client = make_client(keys_file=keys_file_with(tmp_path / "keys.toml", "reader", key, ["runs:read", "runs:cancel"]))

    response = client.post("/chatgpt/runs/rerun", json={"owner": OWNER, "repo": REPO, "run_id": failed_run},
                           headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 403 and response.json()["required_scope"] == "runs:write"
    assert double.requests == []
