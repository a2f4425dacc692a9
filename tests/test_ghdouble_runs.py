"""Workflow runs in the GitHub double: what a dispatch starts, how clients follow it, and webhooks.

A connector that dispatches work and then follows the run it started depends on details these
tests pin: the run is findable by its ``request_id`` title, the runs list filters and pages
like GitHub's, jobs and steps tell where a run failed, and each state change arrives as a
signed webhook whose payload matches GitHub's own schema.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import github
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.ghdouble import Delivery, GitHubDouble, seed_demo
from connector.ghdouble.schemas import load_schemas
from tests.conftest import eventually
from tests.demo_double import AUTH, NAME, OWNER, demo_gh, demo_http, demo_shared  # noqa: F401 (fixtures)

SECRET = "hook-secret"


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint that checks ``X-Hub-Signature-256`` like a careful receiver does."""

    def __init__(self, secret: str | None) -> None:
        self.secret, self.received = secret, []
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/github/webhook"


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.received.append((dict(self.headers), body))
        status = 204
        if self.server.secret is not None:
            expected = "sha256=" + hmac.new(self.server.secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers.get("x-hub-signature-256", "")):
                status = 401
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(SECRET)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def repo_url(gh: GitHubDouble, tail: str = "") -> str:
    return f"{gh.url}/repos/{OWNER}/{NAME}{tail}"


def dispatch(http: requests.Session, gh: GitHubDouble, event_type: str = "agent",
             **payload: Any) -> None:
    r = http.post(repo_url(gh, "/dispatches"), json={"event_type": event_type, "client_payload": payload})
    assert r.status_code == 204


def conforms(gh: GitHubDouble, response: requests.Response) -> bool:
    op_id = gh.requests[-1].operation_id
    assert op_id is not None
    assert load_schemas().check_response(op_id, response.status_code, response.json()) == []
    return True


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- a dispatch starts runs ------------------------------------------------------------------
def test_runs_can_appear_a_moment_after_their_dispatch_and_reset_cancels_them(
        gh: GitHubDouble, http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "Deploy")
    gh.delay_run_starts(0.2)

    dispatch(http, gh, "deploy", request_id="late-1")
    assert gh.runs(OWNER, NAME) == []
    assert [r["display_title"] for r in eventually(lambda: gh.runs(OWNER, NAME))] == ["late-1"]

    dispatch(http, gh, "deploy", request_id="late-2")
    gh.reset()
    time.sleep(0.4)
    assert gh.actions.runs == {}


def test_dispatch_starts_a_run_titled_with_the_request_id_only_in_listening_workflows(
        gh: GitHubDouble, http: requests.Session) -> None:
    agent = gh.add_workflow(OWNER, NAME, "Agent", types=["agent"])
    gh.add_workflow(OWNER, NAME, "Deploy", types=["deploy"])
    catch_all = gh.add_workflow(OWNER, NAME, "Audit", run_name_from_request_id=False)
    before = datetime.now(UTC).replace(microsecond=0)

    dispatch(http, gh, "agent", request_id="req-1")

    runs = gh.runs(OWNER, NAME)
    assert [(r["name"], r["display_title"], r["workflow_id"]) for r in runs] == [
        ("Audit", "Audit", catch_all), ("Agent", "req-1", agent)]
    run = runs[1]
    assert (run["event"], run["status"], run["conclusion"]) == ("repository_dispatch", "queued", None)
    assert (run["head_branch"], run["run_number"], run["run_attempt"]) == ("main", 1, 1)
    assert run["html_url"] == f"https://github.com/{OWNER}/{NAME}/actions/runs/{run['id']}"
    assert run["url"] == repo_url(gh, f"/actions/runs/{run['id']}")
    created = datetime.fromisoformat(run["created_at"].replace("Z", "+00:00"))
    assert before <= created <= datetime.now(UTC) and run["updated_at"] == run["created_at"]
    assert gh.dispatches(OWNER, NAME) == [{"event_type": "agent", "client_payload": {"request_id": "req-1"}}]

    dispatch(http, gh, "agent", request_id="req-2")
    dispatch(http, gh, "unheard-of", request_id="req-3")
    newest = gh.runs(OWNER, NAME)
    assert [(r["name"], r["display_title"], r["run_number"]) for r in newest] == [
        ("Audit", "Audit", 3),  # Audit listens for every type, Agent and Deploy not this one
        ("Audit", "Audit", 2), ("Agent", "req-2", 2), ("Audit", "Audit", 1), ("Agent", "req-1", 1)]
    assert newest[2]["id"] > run["id"]


def test_a_run_without_request_id_is_titled_with_the_workflow_name(gh: GitHubDouble,
                                                                   http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "Agent", types=["agent"])
    dispatch(http, gh, "agent", ref="main")
    assert [r["display_title"] for r in gh.runs(OWNER, NAME)] == ["Agent"]


# -- reading runs ----------------------------------------------------------------------------
def test_list_runs_filters_by_event_status_branch_and_created(gh: GitHubDouble,
                                                              http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "Agent", types=["agent"])
    for n in range(4):
        dispatch(http, gh, request_id=f"req-{n}")
    oldest, second, third, _ = reversed([r["id"] for r in gh.runs(OWNER, NAME)])
    gh.advance_run(oldest, "completed", "success")
    gh.advance_run(second, "completed", "failure")
    gh.advance_run(third, "in_progress")

    def titles(**params: str) -> list[str]:
        r = http.get(repo_url(gh, "/actions/runs"), params=params)
        assert r.status_code == 200 and conforms(gh, r)
        assert r.json()["total_count"] == len(r.json()["workflow_runs"])
        return [run["display_title"] for run in r.json()["workflow_runs"]]

    assert titles() == ["req-3", "req-2", "req-1", "req-0"]
    assert titles(event="repository_dispatch") == titles()
    assert titles(event="push") == []
    assert titles(status="queued") == ["req-3"]
    assert titles(status="in_progress") == ["req-2"]
    assert titles(status="completed") == ["req-1", "req-0"]
    assert titles(status="success") == ["req-0"] and titles(status="failure") == ["req-1"]
    assert titles(branch="main") == titles() and titles(branch="feature") == []
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert titles(created=f">={hour_ago}") == titles()
    assert titles(created=f">={in_an_hour}") == []
    assert titles(created=f"<{hour_ago}") == []
    assert titles(created=f"{hour_ago}..{in_an_hour}", status="completed") == ["req-1", "req-0"]
    assert titles(created=datetime.now(UTC).strftime("%Y-%m-%d")) == titles()

    bad = http.get(repo_url(gh, "/actions/runs"), params={"created": "yesterday"})
    assert bad.status_code == 422
    assert gh.nonconforming() == []


def test_list_runs_pages_newest_first_with_githubs_link_header(gh: GitHubDouble,
                                                               http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "Agent", types=["agent"])
    for n in range(5):
        dispatch(http, gh, request_id=f"req-{n}")

    first = http.get(repo_url(gh, "/actions/runs"), params={"per_page": 2})
    assert first.json()["total_count"] == 5
    assert [r["display_title"] for r in first.json()["workflow_runs"]] == ["req-4", "req-3"]
    base = repo_url(gh, "/actions/runs")
    assert first.headers["link"] == (f'<{base}?per_page=2&page=2>; rel="next", '
                                     f'<{base}?per_page=2&page=3>; rel="last"')
    last = http.get(first.links["last"]["url"])
    assert [r["display_title"] for r in last.json()["workflow_runs"]] == ["req-0"]
    assert set(last.links) == {"prev", "first"} and conforms(gh, last)


def test_get_run_and_its_jobs_and_their_404s(gh: GitHubDouble, http: requests.Session) -> None:
    gh.add_repo(OWNER, "elsewhere")
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"], jobs=["build", "test"])
    dispatch(http, gh, request_id="req-1")
    [listed] = gh.runs(OWNER, NAME)

    got = http.get(repo_url(gh, f"/actions/runs/{listed['id']}"))
    assert got.status_code == 200 and conforms(gh, got) and got.json() == listed

    jobs = http.get(repo_url(gh, f"/actions/runs/{listed['id']}/jobs"))
    assert jobs.status_code == 200 and conforms(gh, jobs)
    assert jobs.json()["total_count"] == 2
    build, test = jobs.json()["jobs"]
    assert (build["name"], test["name"]) == ("build", "test")
    assert (build["run_id"], build["status"], build["conclusion"]) == (listed["id"], "queued", None)
    assert build["workflow_name"] == "CI" and build["runner_name"] is None
    assert [(s["number"], s["name"], s["status"]) for s in test["steps"]] == [
        (1, "Set up job", "queued"), (2, "Run test", "queued"), (3, "Complete job", "queued")]

    for tail in (f"/actions/runs/{listed['id'] + 1000}", f"/actions/runs/{listed['id'] + 1000}/jobs"):
        assert http.get(repo_url(gh, tail)).status_code == 404
    elsewhere = f"{gh.url}/repos/{OWNER}/elsewhere/actions/runs/{listed['id']}"
    assert http.get(elsewhere).status_code == 404  # a run is found only under its own repository
    assert http.post(f"{elsewhere}/cancel").status_code == 404
    assert gh.nonconforming() == []


# -- the life cycle ----------------------------------------------------------------------------
def jobs_of(gh: GitHubDouble, http: requests.Session, run_id: int) -> dict[str, dict[str, Any]]:
    r = http.get(repo_url(gh, f"/actions/runs/{run_id}/jobs"))
    assert conforms(gh, r)
    return {job["name"]: job for job in r.json()["jobs"]}


def test_advance_moves_the_run_and_its_jobs_and_names_the_failing_step(
        gh: GitHubDouble, http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"], jobs=["build", "test"])
    dispatch(http, gh, request_id="req-1")
    run_id = gh.runs(OWNER, NAME)[0]["id"]

    gh.advance_run(run_id, "in_progress")
    assert (gh.runs(OWNER, NAME)[0]["status"], gh.runs(OWNER, NAME)[0]["conclusion"]) == ("in_progress", None)
    started = jobs_of(gh, http, run_id)["test"]
    assert (started["status"], started["runner_name"]) == ("in_progress", "GitHub Actions 2")
    assert [s["status"] for s in started["steps"]] == ["in_progress", "queued", "queued"]

    gh.advance_run(run_id, "completed", "failure", failing_step="Run test")
    run = http.get(repo_url(gh, f"/actions/runs/{run_id}")).json()
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    jobs = jobs_of(gh, http, run_id)
    assert {name: (j["status"], j["conclusion"]) for name, j in jobs.items()} == {
        "build": ("completed", "failure"), "test": ("completed", "failure")}
    assert [(s["name"], s["status"], s["conclusion"]) for s in jobs["test"]["steps"]] == [
        ("Set up job", "completed", "success"), ("Run test", "completed", "failure"),
        ("Complete job", "completed", "skipped")]
    assert jobs["test"]["completed_at"] is not None
    assert [s["conclusion"] for s in jobs["build"]["steps"]] == ["success", "failure", "skipped"]


def test_completing_a_queued_run_passes_through_in_progress(gh: GitHubDouble,
                                                             http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    dispatch(http, gh, request_id="req-1")
    run_id = gh.runs(OWNER, NAME)[0]["id"]
    gh.advance_run(run_id, "completed")
    assert gh.runs(OWNER, NAME)[0]["conclusion"] == "success"
    steps = jobs_of(gh, http, run_id)["build"]["steps"]
    assert [(s["status"], s["conclusion"]) for s in steps] == [("completed", "success")] * 3


def test_advance_refuses_moves_github_would_never_make(gh: GitHubDouble, http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    dispatch(http, gh, request_id="req-1")
    run_id = gh.runs(OWNER, NAME)[0]["id"]
    with pytest.raises(KeyError):
        gh.advance_run(run_id + 1000, "in_progress")
    for status, conclusion, step in (("queued", None, None), ("in_progress", "success", None),
                                     ("completed", "nope", None), ("completed", "success", "Run build"),
                                     ("completed", "failure", "No such step")):
        with pytest.raises(ValueError):
            gh.advance_run(run_id, status, conclusion, failing_step=step)
    gh.advance_run(run_id, "completed", "success")
    with pytest.raises(ValueError, match="already completed"):
        gh.advance_run(run_id, "completed", "failure")


def test_cancel_answers_202_then_409_once_completed(gh: GitHubDouble, http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"], jobs=["build", "test"])
    dispatch(http, gh, request_id="req-1")
    run_id = gh.runs(OWNER, NAME)[0]["id"]
    gh.advance_run(run_id, "in_progress")

    cancelled = http.post(repo_url(gh, f"/actions/runs/{run_id}/cancel"))
    assert cancelled.status_code == 202 and cancelled.json() == {} and conforms(gh, cancelled)
    run = http.get(repo_url(gh, f"/actions/runs/{run_id}")).json()
    assert (run["status"], run["conclusion"]) == ("completed", "cancelled")
    assert {j["conclusion"] for j in jobs_of(gh, http, run_id).values()} == {"cancelled"}

    again = http.post(repo_url(gh, f"/actions/runs/{run_id}/cancel"))
    assert again.status_code == 409 and conforms(gh, again)
    assert again.json()["message"] == "Cannot cancel a workflow run that is completed."
    assert again.json()["documentation_url"].startswith("https://docs.github.com/")
    assert gh.nonconforming() == []


def test_auto_advance_completes_runs_on_a_timer(gh: GitHubDouble, http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    gh.auto_advance(0.05, conclusion="failure")
    dispatch(http, gh, request_id="req-1")
    eventually(lambda: gh.runs(OWNER, NAME)[0]["status"] == "completed")
    assert gh.runs(OWNER, NAME)[0]["conclusion"] == "failure"


# -- clients -----------------------------------------------------------------------------------
def test_pygithub_follows_runs_through_its_own_api(gh: GitHubDouble, http: requests.Session) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"], jobs=["build", "test"])
    client = github.Github(base_url=gh.url, auth=github.Auth.Token("test-token"), per_page=2, lazy=True,
                           retry=None, seconds_between_requests=0, seconds_between_writes=0)
    repo = client.get_repo(f"{OWNER}/{NAME}")
    for n in range(3):
        repo.create_repository_dispatch("agent", {"request_id": f"req-{n}"})
    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")

    runs = repo.get_workflow_runs(event="repository_dispatch", status="queued", created=f">={since}")
    assert runs.totalCount == 3
    assert [r.display_title for r in runs] == ["req-2", "req-1", "req-0"]  # across two pages
    mine = next(r for r in runs if r.display_title == "req-1")
    gh.advance_run(mine.id, "completed", "failure", failing_step="Run test")

    again = repo.get_workflow_run(mine.id)
    assert (again.status, again.conclusion, again.event) == ("completed", "failure", "repository_dispatch")
    failed = [(job.name, step.name) for job in again.jobs() for step in job.steps
              if step.conclusion == "failure"]
    assert ("test", "Run test") in failed
    assert repo.get_workflow_run(runs[0].id).cancel() is True
    assert gh.nonconforming() == []


def test_an_installation_token_reads_runs_only_where_installed(gh: GitHubDouble,
                                                                http: requests.Session) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    gh.register_app(7, key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    installation = gh.install_app(OWNER, [NAME])
    gh.add_repo(OWNER, "not-installed")
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    dispatch(http, gh, request_id="req-1")
    now = int(time.time())
    app_jwt = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": "7"}, key, algorithm="RS256")
    token = requests.post(f"{gh.url}/app/installations/{installation}/access_tokens",
                          headers={"Authorization": f"Bearer {app_jwt}"}).json()["token"]
    as_installation = {"Authorization": f"token {token}"}

    listed = requests.get(repo_url(gh, "/actions/runs"), headers=as_installation)
    assert listed.status_code == 200 and listed.json()["total_count"] == 1
    run_id = listed.json()["workflow_runs"][0]["id"]
    assert requests.post(repo_url(gh, f"/actions/runs/{run_id}/cancel"),
                         headers=as_installation).status_code == 202
    hidden = requests.get(f"{gh.url}/repos/{OWNER}/not-installed/actions/runs", headers=as_installation)
    assert hidden.status_code == 404


# -- webhooks ----------------------------------------------------------------------------------
def test_every_run_change_is_delivered_signed_and_as_githubs_schema_describes(
        gh: GitHubDouble, http: requests.Session, receiver: Receiver) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"], jobs=["build", "test"])
    gh.send_webhooks_to(receiver.url, SECRET)
    gh.send_ping()
    dispatch(http, gh, request_id="req-1")
    run_id = gh.runs(OWNER, NAME)[0]["id"]
    gh.advance_run(run_id, "in_progress")
    gh.advance_run(run_id, "completed", "failure", failing_step="Run build")

    sent = gh.deliveries
    assert [(d.event, d.action) for d in sent] == [
        ("ping", None),
        ("workflow_run", "requested"), ("workflow_job", "queued"), ("workflow_job", "queued"),
        ("workflow_run", "in_progress"), ("workflow_job", "in_progress"), ("workflow_job", "in_progress"),
        ("workflow_job", "completed"), ("workflow_job", "completed"), ("workflow_run", "completed")]
    assert [d.status for d in sent] == [204] * len(sent)  # the receiver accepted every signature
    assert [body for _, body in receiver.received] == [d.body for d in sent]
    repo_id = requests.get(repo_url(gh), headers=AUTH).json()["id"]
    for delivery, (headers, body) in zip(sent, receiver.received, strict=True):
        assert hmac.compare_digest(headers["X-Hub-Signature-256"], sign(body))
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"].startswith("GitHub-Hookshot/")
        assert headers["X-GitHub-Event"] == delivery.event
        assert headers["X-GitHub-Delivery"] == delivery.delivery_id == str(uuid.UUID(delivery.delivery_id))
        assert headers["X-GitHub-Hook-ID"] == str(sent[0].headers["X-GitHub-Hook-ID"])
        assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(repo_id)
        assert headers["X-GitHub-Hook-Installation-Target-Type"] == "repository"
        payload = json.loads(body)
        assert payload.get("action") == delivery.action
        assert load_schemas().check_webhook(delivery.event, delivery.action, payload) == []
    assert len({d.delivery_id for d in sent}) == len(sent)

    run_payloads = [json.loads(d.body)["workflow_run"] for d in sent if d.event == "workflow_run"]
    assert [(r["id"], r["status"], r["conclusion"]) for r in run_payloads] == [
        (run_id, "queued", None), (run_id, "in_progress", None), (run_id, "completed", "failure")]
    assert {r["display_title"] for r in run_payloads} == {"req-1"}
    build_done = json.loads(sent[7].body)["workflow_job"]
    assert (build_done["name"], build_done["conclusion"]) == ("build", "failure")
    assert [s["conclusion"] for s in build_done["steps"]] == ["success", "failure", "skipped"]


def test_the_schema_check_would_catch_a_wrong_payload(gh: GitHubDouble, http: requests.Session,
                                                      receiver: Receiver) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    gh.send_webhooks_to(receiver.url, SECRET)
    dispatch(http, gh, request_id="req-1")
    payload = json.loads(gh.deliveries[0].body)
    del payload["workflow_run"]["head_sha"]
    errors = load_schemas().check_webhook("workflow_run", "requested", payload)
    assert any("head_sha" in e for e in errors)
    assert load_schemas().check_webhook("workflow_run", "completed", json.loads(gh.deliveries[0].body))


def test_redeliver_replays_and_sends_a_tampered_body_as_given(gh: GitHubDouble, http: requests.Session,
                                                              receiver: Receiver) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    gh.send_webhooks_to(receiver.url, SECRET)
    dispatch(http, gh, request_id="req-1")
    original: Delivery = gh.deliveries[0]
    tampered = original.body.replace(b'"req-1"', b'"req-9"')
    assert tampered != original.body

    assert gh.redeliver(original) == 204
    assert gh.redeliver(original, body=tampered) == 401  # the old signature no longer matches
    assert gh.redeliver(original, body=tampered, signature=sign(tampered)) == 204
    assert gh.redeliver(original, signature=sign(original.body, "wrong-secret")) == 401

    replays = receiver.received[-4:]
    assert {h["X-GitHub-Delivery"] for h, _ in replays} == {original.delivery_id}
    assert [body for _, body in replays] == [original.body, tampered, tampered, original.body]
    assert replays[1][0]["X-Hub-Signature-256"] == original.headers["X-Hub-Signature-256"]
    assert [d.status for d in gh.deliveries[-4:]] == [204, 401, 204, 401]


def test_without_a_secret_deliveries_are_unsigned_and_none_stops_them(
        gh: GitHubDouble, http: requests.Session) -> None:
    unsigned = Receiver(None)
    threading.Thread(target=unsigned.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
        gh.send_webhooks_to(unsigned.url, None)
        dispatch(http, gh, request_id="req-1")
        assert len(unsigned.received) == 2
        assert not any(k.lower().startswith("x-hub-signature") for k in unsigned.received[0][0])
        gh.send_webhooks_to(None, None)
        gh.advance_run(gh.runs(OWNER, NAME)[0]["id"], "in_progress")
        assert len(unsigned.received) == len(gh.deliveries) == 2
    finally:
        unsigned.shutdown()
        unsigned.server_close()


def test_an_unreachable_receiver_is_recorded_and_does_not_break_the_dispatch(
        gh: GitHubDouble, http: requests.Session) -> None:
    closed = Receiver(None)
    url = closed.url
    closed.server_close()  # nothing listens on that port any more
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    gh.send_webhooks_to(url, SECRET)
    dispatch(http, gh, request_id="req-1")
    assert [d.status for d in gh.deliveries] == [None, None]
    with pytest.raises(ConnectionError):
        gh.redeliver(gh.deliveries[0])


def test_a_receiver_may_call_the_double_back_while_its_delivery_is_in_flight(
        gh: GitHubDouble, http: requests.Session) -> None:
    seen: list[str] = []

    class CallsBack(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if "workflow_run" in payload:
                run = requests.get(payload["workflow_run"]["url"], headers=AUTH, timeout=2).json()
                seen.append(run["status"])
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), CallsBack)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
        gh.send_webhooks_to(f"http://127.0.0.1:{server.server_address[1]}/", None)
        dispatch(http, gh, request_id="req-1")
        gh.advance_run(gh.runs(OWNER, NAME)[0]["id"], "completed")
        assert seen == ["queued", "completed", "completed"]  # state is final before any webhook
    finally:
        server.shutdown()
        server.server_close()


def test_auto_advance_delivers_from_the_timer_thread(gh: GitHubDouble, http: requests.Session,
                                                     receiver: Receiver) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    gh.send_webhooks_to(receiver.url, SECRET)
    gh.auto_advance(0.05)
    dispatch(http, gh, request_id="req-1")
    eventually(lambda: len(gh.deliveries) >= 6)
    assert [(d.event, d.action) for d in gh.deliveries] == [
        ("workflow_run", "requested"), ("workflow_job", "queued"),
        ("workflow_run", "in_progress"), ("workflow_job", "in_progress"),
        ("workflow_job", "completed"), ("workflow_run", "completed")]
    assert json.loads(gh.deliveries[-1].body)["workflow_run"]["conclusion"] == "success"


def test_reset_forgets_workflows_runs_deliveries_and_stops_timers_and_webhooks(
        gh: GitHubDouble, http: requests.Session, receiver: Receiver) -> None:
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    gh.send_webhooks_to(receiver.url, SECRET)
    gh.auto_advance(0.2)
    dispatch(http, gh, request_id="req-1")
    assert gh.deliveries and gh.runs(OWNER, NAME)

    gh.reset()
    seed_demo(gh)
    assert gh.deliveries == [] and gh.runs(OWNER, NAME) == []
    gh.add_workflow(OWNER, NAME, "CI", types=["agent"])
    dispatch(http, gh, request_id="req-2")
    time.sleep(0.5)  # the old timers would have fired by now
    [run] = gh.runs(OWNER, NAME)
    assert run["status"] == "queued" and gh.deliveries == []
    assert len(receiver.received) == 2
