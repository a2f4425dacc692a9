"""Oversized bodies get 413 problem+json before anything reads them, and no GitHub call."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests

from connector.app import create_app
from connector.config.settings import Settings, SettingsError
from connector.http.body_limit import BodyLimitMiddleware
from tests.conftest import API_KEY, OWNER, REPO, LiveServer


@pytest.mark.one_github_layout
def test_a_body_over_the_limit_is_refused_with_413(make_client, double):
    client = make_client(max_body_bytes=2048)

    response = client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO, "base": "x" * 4096},
                           headers={"Origin": "https://chatgpt.com"})

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"
    assert "2048 bytes" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == "https://chatgpt.com"
    assert double.requests == []


@pytest.mark.one_github_layout
def test_a_chunked_body_is_refused_without_a_github_call(make_settings, double):
    def chunks():
        yield b'{"owner": "octo-org", "repo": "webapp", "base": "'
        for _ in range(10):
            yield b"x" * 1024
        yield b'"}'

    with LiveServer(create_app(make_settings(max_body_bytes=4096))) as server:
        response = requests.post(f"{server.url}/chatgpt/prs/list", data=chunks(), timeout=10,
                                 headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"})

    assert 400 <= response.status_code < 500
    assert double.requests == []


def test_a_chunked_body_within_the_limit_is_read_like_any_other(make_settings, double):
    # Connexion alone would take a body without Content-Length for no body ("RequestBody is required").
    def chunks():
        yield b'{"owner": "octo-org", '
        yield b'"repo": "webapp", "state": "closed"}'

    with LiveServer(create_app(make_settings())) as server:
        response = requests.post(f"{server.url}/chatgpt/prs/list", data=chunks(), timeout=10,
                                 headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"})

    assert response.status_code == 200, response.text
    assert [(r.method, r.query.get("state")) for r in double.requests] == [("GET", "closed")]


def test_bytes_are_counted_as_they_arrive_when_no_length_is_declared():
    seen = []

    async def reader(scope, receive, send):
        while True:
            message = await receive()
            seen.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    messages = [{"type": "http.request", "body": b"x" * 600, "more_body": True} for _ in range(5)]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(BodyLimitMiddleware(reader, max_bytes=2000)({"type": "http", "headers": []}, receive, send))

    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["code"] == "payload_too_large"
    assert sum(seen) <= 2000  # the app never saw the bytes past the limit


def test_the_longest_legal_comment_fits_the_default_limit(client, double):
    number = double.add_pull(OWNER, REPO, title="x", head="x")
    body = json.dumps({"owner": OWNER, "repo": REPO, "number": number, "body": "🚀" * 65_536})  # ASCII-escaped

    response = client.post("/chatgpt/prs/comment", content=body, headers={"Content-Type": "application/json"})

    assert len(body) > 700_000
    assert response.status_code == 201


@pytest.mark.parametrize("value", ["12", "lots", str(128 * 1024 * 1024)])
def test_malformed_body_limits_fail_start_up(value):
    with pytest.raises(SettingsError, match="CONNECTOR_MAX_BODY_BYTES"):
        Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_MAX_BODY_BYTES": value})


@pytest.mark.one_github_layout
def test_the_default_limit_is_64_kib_except_where_legal_bodies_need_more(client, double):
    number = double.add_pull(OWNER, REPO, title="x", head="x")
    double.clear_requests()
    comment_over_the_maximum = {"owner": OWNER, "repo": REPO, "number": number, "body": "🚀" * 70_000}

    assert Settings().max_body_bytes == 64 * 1024
    assert client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO, "base": "x" * 70_000}).status_code == 413
    # Over GitHub's 65,536 characters but under the comment route's byte allowance: the schema says why.
    refused = client.post("/chatgpt/prs/comment", json=comment_over_the_maximum)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "$.body"
    assert client.post("/chatgpt/prs/comment", content=b"{" + b" " * 800_000 + b"}",
                       headers={"Content-Type": "application/json"}).status_code == 413
    assert double.requests == []


def test_the_largest_legal_dispatch_payload_fits_even_json_escaped(client, double):
    # 16,000 four-byte characters: 64,000 bytes of UTF-8 (under GitHub's 64 KB), sent as 192,000
    # bytes of surrogate-pair escapes.
    body = json.dumps({"owner": OWNER, "repo": REPO, "event_type": "deploy", "client_payload": {"n": "🚀" * 16_000}})

    response = client.post("/chatgpt/dispatch", content=body, headers={"Content-Type": "application/json"})

    assert len(body) > 3 * 64_000
    assert response.status_code == 202, response.text


def _raw_post(url: str, head: str, first_bytes: bytes) -> bytes:
    """Send ``head`` and the start of a body, then nothing more; what comes back before the close."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + first_bytes)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_that_trickles_in_too_slowly_gets_408_and_the_connection_closed(make_settings, double, monkeypatch,
                                                                                framing):
    from connector.http import body_limit

    monkeypatch.setattr(body_limit, "BODY_SECONDS", 0.5)
    length = "Content-Length: 200\r\n" if framing == "content-length" else "Transfer-Encoding: chunked\r\n"
    first = b'{"owner": "' if framing == "content-length" else b'b\r\n{"owner": "\r\n'
    with LiveServer(create_app(make_settings())) as server:
        answer = _raw_post(server.url, f"POST /chatgpt/prs/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}"
                                       f"\r\nContent-Type: application/json\r\n{length}", first)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"connection: close" in head.lower()
    assert json.loads(body)["code"] == "request_timeout"
    assert double.requests == []


def test_the_body_deadline_ends_with_the_body_so_a_long_answer_is_not_cut(make_settings, double, monkeypatch):
    from connector.api import runs as runs_api
    from connector.http import body_limit

    monkeypatch.setattr(body_limit, "BODY_SECONDS", 0.3)
    monkeypatch.setattr(runs_api, "POLL_SECONDS", 0.1)
    double.add_workflow(OWNER, REPO, "Deploy", types=["deploy"], jobs=["build"])
    with LiveServer(create_app(make_settings())) as server:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        requests.post(f"{server.url}/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "deploy"},
                      headers=headers, timeout=10)
        [run] = double.runs(OWNER, REPO)
        waited = requests.post(f"{server.url}/chatgpt/runs/get", headers=headers, timeout=10,
                               json={"owner": OWNER, "repo": REPO, "run_id": run["id"], "wait_seconds": 1})

    assert waited.status_code == 200, waited.text
