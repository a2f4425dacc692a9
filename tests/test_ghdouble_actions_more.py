"""The GitHub double's API versions, workflow_dispatch, re-runs, job logs on a separate storage host,
and runs from forks, over real loopback HTTP.

A client written against these must work against github.com, so the tests pin GitHub's observable
behaviour: which version answered and what it left out, GitHub's 422 messages for a dispatch,
the new attempt a re-run starts, and a log redirect to another host that must not see the token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from connector.ghdouble import GitHubDouble
from connector.ghdouble.schemas import load_schemas
from connector.ghdouble.versions import removed_fields
from tests.conftest import eventually
from tests.demo_double import AUTH, NAME, OWNER, demo_gh, demo_http, demo_shared  # noqa: F401 (fixtures)
from tests.test_ghdouble_runs import Receiver

V26 = {"X-GitHub-Api-Version": "2026-03-10"}
V22 = {"X-GitHub-Api-Version": "2022-11-28"}
SCHEMAS = load_schemas()

DEPLOY = """\
name: Deploy
run-name: Deploy ${{ inputs.environment }} (${{ inputs.request_id }})
on:
  workflow_dispatch:
    inputs:
      request_id:
        type: string
        required: true
      environment:
        type: choice
        options: [staging, production]
        default: staging
      dry_run:
        type: boolean
        default: false
      replicas:
        type: number
      target:
        type: environment
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: ./deploy.sh
"""



def url(gh: GitHubDouble, tail: str = "") -> str:
    return f"{gh.url}/repos/{OWNER}/{NAME}{tail}"


def conforms(gh: GitHubDouble, response: requests.Response, version: str = "2022-11-28") -> bool:
    rec = gh.requests[-1]
    assert rec.operation_id is not None and rec.response_errors == []
    body = response.json() if response.content else None
    assert SCHEMAS.check_response(rec.operation_id, response.status_code, body, version) == []
    return True


def deploy_workflow(gh: GitHubDouble) -> int:
    return gh.add_workflow(OWNER, NAME, "Deploy", workflow_file=DEPLOY, file_name="deploy.yml")


def dispatch(http: requests.Session, gh: GitHubDouble, workflow: int | str, headers: dict[str, str] | None = None,
             **body: Any) -> requests.Response:
    return http.post(url(gh, f"/actions/workflows/{workflow}/dispatches"), json=body, headers=headers)


# -- API versions ----------------------------------------------------------------------------------
def test_the_version_asked_for_is_recorded_and_answered_and_an_unknown_one_is_400(
        gh: GitHubDouble, http: requests.Session) -> None:
    plain = http.get(url(gh))
    dated = http.get(url(gh), headers=V26)
    unknown = http.get(url(gh), headers={"X-GitHub-Api-Version": "2021-01-01"})
    assert plain.headers["x-github-api-version-selected"] == "2022-11-28"
    assert dated.headers["x-github-api-version-selected"] == "2026-03-10"
    assert unknown.status_code == 400 and "X-GitHub-Api-Version" in unknown.json()["message"]
    assert [r.api_version for r in gh.requests] == [None, "2026-03-10", "2021-01-01"]
    # The version is read before credentials, as GitHub reads its headers.
    bad = requests.get(url(gh), headers={"Authorization": "token nope", "X-GitHub-Api-Version": "1999-01-01"})
    assert bad.status_code == 400


# The double's GET operations, each with a request showing the fields 2026-03-10 removed.
def _served_gets(gh: GitHubDouble, http: requests.Session) -> dict[str, str]:
    gh.add_workflow(OWNER, NAME, "CI", types=None)
    assert http.post(url(gh, "/dispatches"), json={"event_type": "go"}).status_code == 204
    run_id = gh.runs(OWNER, NAME)[0]["id"]
    return {"repos/get": url(gh), "pulls/get": url(gh, "/pulls/3"), "pulls/list": url(gh, "/pulls?state=all"),
            "issues/get": url(gh, "/issues/3"), "rate-limit/get": f"{gh.url}/rate_limit",
            "actions/list-workflow-runs-for-repo": url(gh, "/actions/runs"),
            "actions/get-workflow-run": url(gh, f"/actions/runs/{run_id}")}


def _has(node: Any, path: tuple[str, ...]) -> bool:
    head, rest = path[0], path[1:]
    if head == "*":
        return isinstance(node, list) and any(_has(item, rest) for item in node)
    return isinstance(node, dict) and head in node and (not rest or _has(node[head], rest))


def _has_null(node: Any, path: tuple[str, ...]) -> bool:
    head, rest = path[0], path[1:]
    if head == "*":
        return isinstance(node, list) and any(_has_null(item, rest) for item in node)
    if not isinstance(node, dict) or head not in node:
        return False
    return node[head] is None if not rest else _has_null(node[head], rest)


def test_2026_answers_lack_every_field_that_version_removed_and_2022_answers_keep_them(
        gh: GitHubDouble, http: requests.Session) -> None:
    shown: set[str] = set()
    for op_id, target in _served_gets(gh, http).items():
        paths = removed_fields(SCHEMAS, op_id, 200, "2026-03-10")
        assert paths, f"2026-03-10 removed nothing from {op_id}?"
        old, new = http.get(target, headers=V22), http.get(target, headers=V26)
        assert old.status_code == new.status_code == 200, op_id
        for path in paths:
            if path[-1] == "\0null":  # no longer nullable nor required: left out when null
                assert not _has_null(new.json(), path[:-1]), (op_id, path)
                continue
            assert not _has(new.json(), path), (op_id, path)
            if _has(old.json(), path):
                shown.add(f"{op_id}:{'.'.join(path)}")
        assert gh.requests[-1].api_version == "2026-03-10"
    # What the double renders under 2022-11-28 and 2026-03-10 takes away (derived from the schemas).
    assert {"pulls/get:merge_commit_sha", "pulls/get:assignee", "pulls/list:*.merge_commit_sha",
            "pulls/list:*.assignee", "issues/get:assignee", "rate-limit/get:rate", "repos/get:has_downloads",
            "pulls/get:head.repo.has_downloads", "actions/get-workflow-run:repository.has_downloads",
            "actions/list-workflow-runs-for-repo:workflow_runs.*.head_repository.has_downloads"} <= shown
    assert gh.nonconforming() == [] and gh.nonconforming_responses() == []
    issue = http.get(url(gh, "/issues/3"), headers=V26).json()  # an open pull request's issue
    assert "merged_at" not in issue["pull_request"] and "merged_at" in http.get(url(gh, "/issues/3")).json()[
        "pull_request"]


# -- workflow_dispatch --------------------------------------------------------------------------------
def test_a_dispatch_answers_204_and_starts_a_run_with_its_inputs_on_the_ref(
        gh: GitHubDouble, http: requests.Session) -> None:
    workflow = deploy_workflow(gh)
    gh.add_branch(OWNER, NAME, "release")
    r = dispatch(http, gh, workflow, ref="release", inputs={"request_id": "req-7", "dry_run": True})
    assert r.status_code == 204 and r.content == b""
    [run] = gh.runs(OWNER, NAME)
    assert (run["event"], run["head_branch"], run["display_title"]) == ("workflow_dispatch", "release",
                                                                         "Deploy staging (req-7)")
    assert run["actor"]["login"] == "connector-bot"
    assert gh.run_inputs(run["id"]) == {"request_id": "req-7", "dry_run": True, "environment": "staging"}
    by_event = {e: http.get(url(gh, f"/actions/runs?event={e}")).json()["total_count"]
                for e in ("workflow_dispatch", "repository_dispatch")}
    assert by_event == {"workflow_dispatch": 1, "repository_dispatch": 0}
    assert gh.nonconforming() == []


def test_return_run_details_answers_200_under_2022_and_2026_always_does(
        gh: GitHubDouble, http: requests.Session) -> None:
    workflow = deploy_workflow(gh)
    inputs = {"request_id": "r1"}
    details = dispatch(http, gh, workflow, ref="main", inputs=inputs, return_run_details=True)
    assert details.status_code == 200 and conforms(gh, details)
    body = details.json()
    assert body["run_url"] == url(gh, f"/actions/runs/{body['workflow_run_id']}")
    assert body["html_url"] == f"https://github.com/{OWNER}/{NAME}/actions/runs/{body['workflow_run_id']}"
    assert http.get(body["run_url"]).json()["event"] == "workflow_dispatch"
    assert dispatch(http, gh, workflow, ref="main", inputs=inputs, return_run_details=False).status_code == 204
    for extra in ({}, {"return_run_details": False}):
        dated = dispatch(http, gh, workflow, headers=V26, ref="main", inputs=inputs, **extra)
        assert dated.status_code == 200 and conforms(gh, dated, "2026-03-10")
    assert "204" not in SCHEMAS.operation("actions/create-workflow-dispatch", "2026-03-10").responses
    assert len(gh.runs(OWNER, NAME)) == 4


def test_an_older_enterprise_server_ignores_return_run_details(gh: GitHubDouble, http: requests.Session) -> None:
    workflow = deploy_workflow(gh)
    gh.dispatch_ignores_run_details = True
    for headers in (V22, V26):
        r = dispatch(http, gh, workflow, headers=headers, ref="main", inputs={"request_id": "x"},
                     return_run_details=True)
        assert r.status_code == 204 and r.content == b""
    assert len(gh.runs(OWNER, NAME)) == 2
    gh.reset()
    assert gh.dispatch_ignores_run_details is False


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"ref": "nope", "inputs": {"request_id": "1"}}, 422, "No ref found for: nope"),
    ({"ref": "main", "inputs": {"request_id": "1", "colour": "red"}}, 422, 'Unexpected inputs provided: ["colour"]'),
    ({"ref": "main", "inputs": {"environment": "production"}}, 422, "Required input 'request_id' not provided"),
    ({"ref": "main", "inputs": {"request_id": "1", "environment": "moon"}}, 422,
     "Provided value 'moon' for input 'environment' not in the list of allowed values"),
    ({"ref": "main", "inputs": {"request_id": "1", "dry_run": "maybe"}}, 422, "dry_run"),
    ({"ref": "main", "inputs": {"request_id": "1", "replicas": "many"}}, 422, "replicas"),
    ({"ref": "main", "inputs": {f"i{n}": "x" for n in range(26)}}, 422, "too many properties"),
    ({"inputs": {"request_id": "1"}}, 422, '"ref" wasn\'t supplied.'),
])
def test_a_dispatch_github_would_refuse_is_refused_with_its_message(
        gh: GitHubDouble, http: requests.Session, body: dict[str, Any], status: int, message: str) -> None:
    workflow = deploy_workflow(gh)
    r = dispatch(http, gh, "deploy.yml", **body)
    assert r.status_code == status and message in r.json()["message"], r.json()
    assert gh.runs(OWNER, NAME) == [] and workflow


def test_a_workflow_without_the_trigger_or_unknown_is_refused(gh: GitHubDouble, http: requests.Session) -> None:
    only_repository_dispatch = gh.add_workflow(OWNER, NAME, "Agent", types=["agent"])
    r = dispatch(http, gh, only_repository_dispatch, ref="main")
    assert (r.status_code, r.json()["message"]) == (422, "Workflow does not have 'workflow_dispatch' trigger")
    assert dispatch(http, gh, "missing.yml", ref="main").status_code == 404
    assert dispatch(http, gh, 999, ref="main").status_code == 404
    both = gh.add_workflow(OWNER, NAME, "Both", types=["agent"], dispatch_inputs={"note": {"required": False}})
    assert dispatch(http, gh, both, ref="main").status_code == 204
    assert http.post(url(gh, "/dispatches"), json={"event_type": "agent"}).status_code == 204
    assert sorted(r["event"] for r in gh.runs(OWNER, NAME)) == ["repository_dispatch", "repository_dispatch",
                                                               "workflow_dispatch"]


def test_the_workflow_file_at_the_ref_decides_which_inputs_a_dispatch_may_carry(
        gh: GitHubDouble, http: requests.Session) -> None:
    workflow = deploy_workflow(gh)
    newer = DEPLOY.replace("      target:\n", "      region:\n        type: string\n      target:\n")
    gh.add_branch(OWNER, NAME, "feature", {".github/workflows/deploy.yml": newer})
    inputs = {"request_id": "1", "region": "eu"}
    assert dispatch(http, gh, workflow, ref="main", inputs=inputs).json()["message"] == \
        'Unexpected inputs provided: ["region"]'
    assert dispatch(http, gh, workflow, ref="refs/heads/feature", inputs=inputs).status_code == 204
    assert gh.runs(OWNER, NAME)[0]["head_branch"] == "feature"


def test_get_content_serves_workflow_files_base64_at_a_ref(gh: GitHubDouble, http: requests.Session) -> None:
    deploy_workflow(gh)
    changed = DEPLOY.replace("./deploy.sh", "./deploy.sh --canary")
    gh.add_branch(OWNER, NAME, "canary", {".github/workflows/deploy.yml": changed})
    path = "/contents/.github/workflows/deploy.yml"
    main = http.get(url(gh, path))
    assert main.status_code == 200 and conforms(gh, main)
    body = main.json()
    assert (body["type"], body["encoding"], body["path"], body["name"]) == ("file", "base64",
                                                                           ".github/workflows/deploy.yml", "deploy.yml")
    assert all(len(line) <= 60 for line in body["content"].splitlines())
    assert base64.b64decode(body["content"]).decode() == DEPLOY and body["size"] == len(DEPLOY.encode())
    assert body["sha"] == hashlib.sha1(b"blob %d\0" % len(DEPLOY) + DEPLOY.encode()).hexdigest()
    canary = http.get(url(gh, path), params={"ref": "canary"}).json()
    assert base64.b64decode(canary["content"]).decode() == changed and canary["sha"] != body["sha"]
    listing = http.get(url(gh, "/contents/.github/workflows"))
    assert [e["name"] for e in listing.json()] == ["deploy.yml"] and conforms(gh, listing)
    missing, unknown = http.get(url(gh, "/contents/README.md")), http.get(url(gh, path), params={"ref": "nope"})
    assert (missing.status_code, unknown.status_code) == (404, 404)
    assert unknown.json()["message"] == "No commit found for the ref nope"


def test_workflows_are_listed_and_found_by_id_or_file_name(gh: GitHubDouble, http: requests.Session) -> None:
    workflow = deploy_workflow(gh)
    gh.add_workflow(OWNER, NAME, "CI")
    listed = http.get(url(gh, "/actions/workflows"))
    assert conforms(gh, listed) and listed.json()["total_count"] == 2
    by_id, by_name = http.get(url(gh, f"/actions/workflows/{workflow}")), http.get(url(gh, "/actions/workflows/deploy.yml"))
    assert by_id.json() == by_name.json() and by_id.json()["path"] == ".github/workflows/deploy.yml"
    assert conforms(gh, by_name) and http.get(url(gh, "/actions/workflows/nope.yml")).status_code == 404


# -- re-runs ---------------------------------------------------------------------------------------------
def _two_job_run(gh: GitHubDouble, http: requests.Session) -> int:
    gh.add_workflow(OWNER, NAME, "CI", jobs=["lint", "test"])
    assert http.post(url(gh, "/dispatches"), json={"event_type": "go"}).status_code == 204
    return int(gh.runs(OWNER, NAME)[0]["id"])


def test_a_run_not_completed_is_not_rerun(gh: GitHubDouble, http: requests.Session) -> None:
    run_id = _two_job_run(gh, http)
    for tail in ("/rerun", "/rerun-failed-jobs"):
        r = http.post(url(gh, f"/actions/runs/{run_id}{tail}"))
        assert (r.status_code, r.json()["message"]) == (403, "This workflow is already running")
    assert http.post(url(gh, "/actions/runs/1/rerun")).status_code == 404
    assert gh.run_attempt(run_id) == 1


def test_a_rerun_starts_a_new_attempt_and_announces_it(gh: GitHubDouble, http: requests.Session) -> None:
    receiver = Receiver(None)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        run_id = _two_job_run(gh, http)
        gh.advance_run(run_id, "completed", "success")
        first = {j["name"]: j["id"] for j in gh.jobs(run_id)}
        gh.send_webhooks_to(receiver.url, None)
        r = http.post(url(gh, f"/actions/runs/{run_id}/rerun"), json={"enable_debug_logging": False})
        assert (r.status_code, r.json()) == (201, {}) and conforms(gh, r)
        run = http.get(url(gh, f"/actions/runs/{run_id}")).json()
        assert (run["run_attempt"], run["status"], run["conclusion"]) == (2, "queued", None)
        assert run["previous_attempt_url"] == url(gh, f"/actions/runs/{run_id}/attempts/1")
        again = {j["name"]: j for j in gh.jobs(run_id)}
        assert {n: j["id"] != first[n] and j["run_attempt"] == 2 for n, j in again.items()} == {"lint": True, "test": True}
        eventually(lambda: len(receiver.received) == 3)
        events = [(json.loads(body)["action"], json.loads(body).get("workflow_run", {}).get("run_attempt"))
                  for _, body in receiver.received]
        assert events == [("requested", 2), ("queued", None), ("queued", None)]
        assert all(SCHEMAS.check_webhook(h["X-GitHub-Event"], json.loads(b)["action"], json.loads(b)) == []
                   for h, b in receiver.received)
    finally:
        gh.send_webhooks_to(None, None)
        receiver.shutdown()
        receiver.server_close()


def test_rerunning_failed_jobs_lists_both_attempts_and_refuses_when_none_failed(gh: GitHubDouble, http: requests.Session) -> None:
    run_id = _two_job_run(gh, http)
    gh.advance_run(run_id, "completed", "failure", failing_step="Run test")
    before = {j["name"]: j for j in gh.jobs(run_id)}
    assert {n: j["conclusion"] for n, j in before.items()} == {"lint": "failure", "test": "failure"}
    r = http.post(url(gh, f"/actions/runs/{run_id}/rerun-failed-jobs"))
    assert r.status_code == 201
    latest = http.get(url(gh, f"/actions/runs/{run_id}/jobs")).json()
    assert {j["status"] for j in latest["jobs"]} == {"queued"} and latest["total_count"] == 2
    gh.advance_run(run_id, "completed", "success")
    assert http.post(url(gh, f"/actions/runs/{run_id}/rerun-failed-jobs")).json()["message"] == \
        "This workflow run has no failed jobs to re-run"
    every = http.get(url(gh, f"/actions/runs/{run_id}/jobs"), params={"filter": "all"}).json()
    assert sorted((j["name"], j["run_attempt"], j["conclusion"]) for j in every["jobs"]) == [
        ("lint", 1, "failure"), ("lint", 2, "success"), ("test", 1, "failure"), ("test", 2, "success")]
    assert gh.nonconforming() == []


def test_failed_only_reruns_just_the_failed_and_cancelled_jobs(gh: GitHubDouble, http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "Matrix", jobs=["a", "b", "c"])
    assert http.post(url(gh, "/dispatches"), json={"event_type": "go"}).status_code == 204
    run_id = int(gh.runs(OWNER, NAME)[0]["id"])
    run = gh.actions.runs[run_id]
    gh.advance_run(run_id, "in_progress")
    with gh.actions.lock:  # jobs end one by one on GitHub: a succeeds, b fails, then the run is cancelled
        run.jobs[0].status, run.jobs[0].conclusion = "completed", "success"
        run.jobs[1].status, run.jobs[1].conclusion = "completed", "failure"
    assert http.post(url(gh, f"/actions/runs/{run_id}/cancel")).status_code == 202
    kept = gh.jobs(run_id)[0]
    assert http.post(url(gh, f"/actions/runs/{run_id}/rerun-failed-jobs")).status_code == 201
    after = {j["name"]: j for j in gh.jobs(run_id)}
    assert after["a"] == kept and after["a"]["conclusion"] == "success"
    assert (after["b"]["status"], after["c"]["status"], after["b"]["run_attempt"]) == ("queued", "queued", 2)
    assert gh.run_attempt(run_id) == 2


# -- one job and its log -------------------------------------------------------------------------------------
def _completed_job(gh: GitHubDouble, http: requests.Session, conclusion: str = "failure") -> int:
    run_id = _two_job_run(gh, http)
    gh.advance_run(run_id, "completed", conclusion, failing_step="Run test" if conclusion == "failure" else None)
    return int(next(j["id"] for j in gh.jobs(run_id) if j["name"] == "test"))


def test_get_job_answers_the_job_or_404(gh: GitHubDouble, http: requests.Session) -> None:
    job_id = _completed_job(gh, http)
    r = http.get(url(gh, f"/actions/jobs/{job_id}"))
    assert r.status_code == 200 and conforms(gh, r) and r.json()["conclusion"] == "failure"
    assert http.get(url(gh, "/actions/jobs/12345")).status_code == 404


def test_job_logs_redirect_to_another_host_that_never_sees_the_token(gh: GitHubDouble, http: requests.Session) -> None:
    job_id = _completed_job(gh, http)
    redirect = http.get(url(gh, f"/actions/jobs/{job_id}/logs"), allow_redirects=False)
    assert redirect.status_code == 302 and redirect.content == b""
    location = urlsplit(redirect.headers["location"])
    # Another host (127.0.0.2; another port of 127.0.0.1 where that cannot be bound).
    assert location.netloc != urlsplit(gh.url).netloc and location.hostname in ("127.0.0.2", "127.0.0.1")
    assert gh.storage_url == f"http://{location.netloc}"
    assert {"se", "sig", "sp", "sv"} <= dict(parse_qsl(location.query)).keys()
    followed = http.get(url(gh, f"/actions/jobs/{job_id}/logs"))  # requests drops Authorization across hosts
    assert followed.status_code == 200 and followed.headers["content-type"] == "text/plain"
    assert [r.status for r in gh.storage_requests] == [200]
    assert "authorization" not in gh.storage_requests[0].headers
    leaky = requests.get(redirect.headers["location"], headers=AUTH)  # what a careless client does
    assert leaky.status_code == 200 and gh.storage_requests[-1].headers["authorization"] == "<redacted>"


def test_the_default_log_looks_like_a_runners(gh: GitHubDouble, http: requests.Session) -> None:
    job_id = _completed_job(gh, http)
    text = http.get(url(gh, f"/actions/jobs/{job_id}/logs")).content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.removeprefix("\ufeff").splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z ", line) for line in lines)
    bodies = [line.split(" ", 1)[1] for line in lines]
    assert "##[group]Run make test" in bodies and "##[endgroup]" in bodies
    assert "##[error]Process completed with exit code 1." in bodies
    assert any("\x1b[36;1m" in b for b in bodies)
    assert lines == sorted(lines)  # timestamps only go forward


def test_the_storage_host_serves_ranges_and_can_ignore_them(gh: GitHubDouble, http: requests.Session) -> None:
    job_id = _completed_job(gh, http)
    line = "2025-01-01T00:00:00.0000000Z " + "x" * 100_000 + "\n"
    data = (line * 100).encode()  # 10 MB of 100k-character lines
    gh.set_job_log(job_id, data)

    def fetch(rng: str | None) -> requests.Response:
        location = http.get(url(gh, f"/actions/jobs/{job_id}/logs"), allow_redirects=False).headers["location"]
        return requests.get(location, headers={"Range": rng} if rng else {})

    whole = fetch(None)
    assert whole.status_code == 200 and whole.content == data and whole.headers["accept-ranges"] == "bytes"
    tail = fetch("bytes=-1000")
    assert (tail.status_code, tail.content) == (206, data[-1000:])
    assert tail.headers["content-range"] == f"bytes {len(data) - 1000}-{len(data) - 1}/{len(data)}"
    head = fetch("bytes=0-9")
    assert (head.status_code, head.content, head.headers["content-range"]) == (206, data[:10], f"bytes 0-9/{len(data)}")
    beyond = fetch(f"bytes={len(data)}-")
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"
    assert b"InvalidRange" in beyond.content
    gh.storage_ignores_range = True
    ignored = fetch("bytes=-1000")
    assert ignored.status_code == 200 and ignored.content == data
    assert all("authorization" not in r.headers for r in gh.storage_requests)
    assert [r.headers.get("range") for r in gh.storage_requests] == [None, "bytes=-1000", "bytes=0-9",
                                                                    f"bytes={len(data)}-", "bytes=-1000"]


def test_a_bad_or_expired_signature_is_403_like_blob_storage(gh: GitHubDouble, http: requests.Session) -> None:
    job_id = _completed_job(gh, http)
    good = gh.job_log_url(job_id)
    parts = urlsplit(good)
    query = dict(parse_qsl(parts.query))
    tampered = f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode({**query, 'sig': 'AAAA'})}"
    unsigned = f"{parts.scheme}://{parts.netloc}{parts.path}"
    for target in (tampered, unsigned):
        r = requests.get(target)
        assert r.status_code == 403 and b"<Code>AuthenticationFailed</Code>" in r.content
    gh.log_url_seconds = -1
    expired = requests.get(gh.job_log_url(job_id))
    assert expired.status_code == 403 and b"Signed expiry time" in expired.content
    assert requests.get(good).status_code == 200


def test_a_job_not_completed_has_no_log_blob_yet(gh: GitHubDouble, http: requests.Session) -> None:
    run_id = _two_job_run(gh, http)
    job_id = gh.jobs(run_id)[0]["id"]
    redirect = http.get(url(gh, f"/actions/jobs/{job_id}/logs"), allow_redirects=False)
    assert redirect.status_code == 302  # GitHub redirects even so; the blob is what is missing
    missing = requests.get(redirect.headers["location"])
    assert missing.status_code == 404 and b"<Code>BlobNotFound</Code>" in missing.content
    assert http.get(url(gh, "/actions/jobs/1/logs"), allow_redirects=False).status_code == 404
    gh.advance_run(run_id, "completed")
    assert requests.get(redirect.headers["location"]).status_code == 200


# -- forks ---------------------------------------------------------------------------------------------------
def test_a_run_from_a_fork_names_the_fork_as_its_head_repository(gh: GitHubDouble, http: requests.Session) -> None:
    workflow = gh.add_workflow(OWNER, NAME, "CI")
    run_id = gh.add_fork_run(OWNER, NAME, workflow, fork_owner="mallory", head_branch="patch-1")
    r = http.get(url(gh, f"/actions/runs/{run_id}"))
    assert conforms(gh, r)
    run = r.json()
    assert (run["event"], run["head_branch"], run["actor"]["login"]) == ("pull_request", "patch-1", "mallory")
    assert run["repository"]["full_name"] == f"{OWNER}/{NAME}" and run["repository"]["fork"] is False
    assert run["head_repository"]["full_name"] == f"mallory/{NAME}" and run["head_repository"]["fork"] is True
    assert run["head_repository_id"] == run["head_repository"]["id"] != run["repository"]["id"]
    listed = http.get(url(gh, "/actions/runs"), params={"event": "pull_request"}).json()
    assert [x["id"] for x in listed["workflow_runs"]] == [run_id]
