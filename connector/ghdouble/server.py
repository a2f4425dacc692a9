"""A fake GitHub REST server ("the double") for tests and the zero-setup sandbox mode.

Why a real HTTP server rather than mocks: the connector talks to GitHub through PyGithub,
and the things that break in production (auth headers, pagination ``Link`` headers,
rate-limit headers, retries, dropped connections, GitHub Enterprise ``/api/v3`` prefixes)
only show up on the wire. Every request is checked against GitHub's own OpenAPI schemas
(``schemas.py``) and recorded, so tests can assert both on what the connector sent and on
whether GitHub would have accepted it.

Stdlib only (``ThreadingHTTPServer``, HTTP/1.1 keep-alive, Content-Length everywhere).
"""

from __future__ import annotations

import itertools
import json as jsonlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .schemas import Operation, SchemaBook, load_schemas
from .state import Issue, Repo, State, Views

__all__ = ["GitHubDouble", "RecordedRequest"]

DOCS = "https://docs.github.com/rest"
RATE_LIMIT = 5000
_MAX_COMMENT = 65536


@dataclass
class RecordedRequest:
    """One request as the double saw it, plus whether GitHub's schema accepted it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    operation_id: str | None = None
    schema_errors: list[str] = field(default_factory=list)
    status: int = 0  # 0 when the connection was dropped on purpose


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int | None
    body: Any
    headers: dict[str, str]
    delay: float
    remaining: int
    drop: bool


def _error(status: int, message: str, doc: str | None = None, **extra: Any) -> _Reply:
    """GitHub's error shape; a ``None`` doc is filled with the operation's docs link later."""
    return _Reply(status, {"message": message, **extra, "documentation_url": doc})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GitHubDouble/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this long
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.double._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.double._connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def version_string(self) -> str:
        return self.server_version

    def _dispatch(self) -> None:
        self.server.double._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for idle keep-alive connections
    double: GitHubDouble


class GitHubDouble:
    """Fake api.github.com (or GHES with ``prefix="/api/v3"``) serving a small REST subset."""

    def __init__(self, token: str | None = "test-token", prefix: str = "", latency: float = 0.0,
                 *, viewer: str = "connector-bot") -> None:
        self.token, self.latency = token, latency
        self.prefix = ("/" + prefix.strip("/")) if prefix.strip("/") else ""
        self.state = State(viewer)
        self.schemas: SchemaBook = load_schemas()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        self._used = 0
        self._reset_at = int(time.time()) + 3600
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._routes: dict[str, Callable[[Repo, dict[str, str], dict[str, str], Any], _Reply]] = {
            "repos/create-dispatch-event": self._dispatch_event,
            "repos/get": lambda repo, *_: _Reply(200, self.views.repo(repo, full=True)),
            "pulls/list": self._list_pulls,
            "pulls/get": self._get_pull,
            "issues/get": self._get_issue,
            "issues/create-comment": self._create_comment,
            "issues/add-labels": self._add_labels,
            "issues/list-labels-for-repo": self._list_labels,
        }

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> GitHubDouble:
        if self._server is not None:
            raise RuntimeError("GitHubDouble already started")
        self._server = _Server((host, port), _Handler)
        self._server.double = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02},
                                        name="github-double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        server.shutdown()
        for conn in list(self._connections):  # wake threads parked on idle keep-alive sockets
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> GitHubDouble:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("GitHubDouble is not running; call start() first")
        host, port = self._server.server_address[:2]
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{host}:{port}{self.prefix}"

    @property
    def views(self) -> Views:
        return Views(self.state, self.url)

    # -- recording ---------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def calls(self, method: str | None = None, path: str | re.Pattern[str] | None = None
              ) -> list[RecordedRequest]:
        """Recorded requests by method (any case) and path (exact string or compiled regex)."""
        def path_ok(p: str) -> bool:
            if path is None:
                return True
            return bool(path.fullmatch(p)) if isinstance(path, re.Pattern) else p == path
        return [r for r in self.requests
                if (method is None or r.method == method.upper()) and path_ok(r.path)]

    def nonconforming(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.schema_errors]

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._used = 0
        self.state.clear()

    # -- state -----------------------------------------------------------------------------
    def add_repo(self, owner: str, name: str, *, private: bool = False,
                 labels: Iterable[str | Mapping[str, Any]] = ("bug", "enhancement", "documentation"),
                 default_branch: str = "main", description: str | None = None) -> None:
        self.state.add_repo(owner, name, private=private, labels=labels,
                            default_branch=default_branch, description=description)

    def add_pull(self, owner: str, name: str, *, title: str, user: str = "octocat",
                 state: str = "open", draft: bool = False, merged: bool = False,
                 labels: Iterable[str] = (), head: str = "feature", base: str = "main",
                 body: str | None = None) -> int:
        """Add a pull request and return its number; ``head="user:ref"`` makes it a fork PR."""
        return self.state.add_pull(owner, name, title=title, user=user, state=state, draft=draft,
                                   merged=merged, labels=labels, head=head, base=base, body=body)

    def add_issue(self, owner: str, name: str, *, title: str, user: str = "octocat",
                  state: str = "open", labels: Iterable[str] = (), body: str | None = None) -> int:
        return self.state.add_issue(owner, name, title=title, user=user, state=state,
                                    labels=labels, body=body)

    def _issue(self, owner: str, name: str, number: int) -> tuple[Repo, Issue]:
        repo = self.state.repo(owner, name)
        if number not in repo.issues:
            raise KeyError(f"no issue or pull request #{number} in {repo.full_name}")
        return repo, repo.issues[number]

    def dispatches(self, owner: str, name: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(d) for d in self.state.repo(owner, name).dispatches]

    def comments(self, owner: str, name: str, number: int) -> list[dict[str, Any]]:
        with self.state.lock:
            repo, issue = self._issue(owner, name, number)
            views = Views(self.state, self.url if self._server else "http://github-double.invalid")
            return [views.comment(repo, issue, c) for c in issue.comments]

    def labels_on(self, owner: str, name: str, number: int) -> list[str]:
        with self.state.lock:
            repo, issue = self._issue(owner, name, number)
            return [label.name for label in self.state.labels_of(repo, issue)]

    def repo_labels(self, owner: str, name: str) -> list[str]:
        with self.state.lock:
            labels = self.state.repo(owner, name).labels.values()
            return sorted((label.name for label in labels), key=str.lower)

    def suggestions(self, owner: str, name: str, number: int) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(s) for s in self._issue(owner, name, number)[1].suggestions]

    # -- fault injection -------------------------------------------------------------------
    def fail_next(self, method: str, path_pattern: str, *, status: int | None = None,
                  json: Any = None, headers: Mapping[str, str] | None = None, delay: float = 0.0,
                  times: int = 1, drop: bool = False) -> None:
        """Answer the next ``times`` matching requests with this instead ("*" = any method)."""
        fault = _Fault(method.upper(), re.compile(path_pattern), status, json,
                       {k.lower(): str(v) for k, v in (headers or {}).items()}, delay, times, drop)
        with self._lock:
            self._faults.append(fault)

    def rate_limit_primary(self, method: str, path_pattern: str, reset_in: int = 60,
                           *, times: int = 1) -> None:
        self.fail_next(method, path_pattern, status=403, times=times, json={
            "message": "API rate limit exceeded for user ID 1.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-used": str(RATE_LIMIT),
                     "x-ratelimit-reset": str(int(time.time()) + reset_in)})

    def rate_limit_secondary(self, method: str, path_pattern: str, retry_after: int = 30,
                             status: int = 403, *, times: int = 1) -> None:
        self.fail_next(method, path_pattern, status=status, times=times, json={
            "message": "You have exceeded a secondary rate limit. "
                       "Please wait a few minutes before you try again.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                                 "#about-secondary-rate-limits"},
            headers={"retry-after": str(retry_after)})

    def forbid(self, method: str, path_pattern: str, permission: str = "pull_requests=write",
               *, times: int = 1) -> None:
        self.fail_next(method, path_pattern, status=403, times=times, json={
            "message": "Resource not accessible by personal access token", "documentation_url": DOCS},
            headers={"x-accepted-github-permissions": permission})

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in ("*", method) and fault.pattern.fullmatch(path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- request handling ------------------------------------------------------------------
    def _authorized(self, header: str | None) -> bool:
        if self.token is None:
            return True
        scheme, _, value = (header or "").strip().partition(" ")
        return scheme.lower() in ("token", "bearer") and value.strip() == self.token

    @staticmethod
    def _read_body(h: BaseHTTPRequestHandler) -> bytes:
        if "chunked" in h.headers.get("transfer-encoding", "").lower():
            chunks = []
            while (size := int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)):
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
            while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return h.rfile.read(int(h.headers.get("content-length") or 0))

    def _handle(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        raw = self._read_body(h)
        path, routed = split.path, True
        if self.prefix:
            routed = path == self.prefix or path.startswith(self.prefix + "/")
            path = path[len(self.prefix):] if routed else path
        headers = {k.lower(): v for k, v in h.headers.items()}
        if "authorization" in headers:
            headers["authorization"] = "<redacted>"
        rec = RecordedRequest(h.command, path, dict(pairs), headers, None, raw)
        reply = self._decide(h, rec, routed)
        if reply is None:  # dropped on purpose
            with self._lock:
                self._requests.append(rec)
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if self.latency:
            time.sleep(self.latency)
        self._send(h, rec, reply)

    def _decide(self, h: _Handler, rec: RecordedRequest, routed: bool) -> _Reply | None:
        """Check and record the request, then pick the reply (``None`` = drop the connection)."""
        match = self.schemas.match(rec.method, rec.path) if routed else None
        op: Operation | None = None
        params: dict[str, str] = {}
        path_errors: list[str] = []
        bad_json = False
        if match is None:
            rec.schema_errors.append(f"no such route: {rec.method} {rec.path}")
        else:
            op, params = match
            rec.operation_id = op.id
            path_errors = self.schemas.check_path(op, params)
            if rec.raw_body.strip():
                try:
                    rec.body = jsonlib.loads(rec.raw_body)
                except ValueError:
                    bad_json = True
            rec.schema_errors.extend(path_errors)
            if bad_json:
                rec.schema_errors.append("Problems parsing JSON")
            else:
                rec.schema_errors.extend(self.schemas.check_request(
                    op, rec.query, rec.body, bool(rec.raw_body.strip())))
        doc = op.doc_url if op else DOCS
        if not self._authorized(h.headers.get("authorization")):
            return _error(401, "Bad credentials", DOCS)
        fault = self._take_fault(rec.method, rec.path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                return None
            if fault.status is not None:
                body = fault.body
                if body is None and fault.status not in (204, 304):
                    try:
                        phrase = HTTPStatus(fault.status).phrase
                    except ValueError:
                        phrase = "Error"
                    body = {"message": phrase, "documentation_url": doc}
                return _Reply(fault.status, body, dict(fault.headers))
        if op is None or path_errors:
            return _error(404, "Not Found", doc)
        if bad_json:
            return _error(400, "Problems parsing JSON", doc)
        if rec.schema_errors:
            return _error(422, "Invalid request.\n\n" + rec.schema_errors[0], doc)
        params = {k: unquote(v) for k, v in params.items()}
        repo = self.state.find(params["owner"], params["repo"])
        if repo is None:
            return _error(404, "Not Found", doc)
        try:
            reply = self._routes[op.id](repo, params, rec.query, rec.body)
        except Exception as exc:  # a bug in the double: make it loud, not a hung client
            rec.schema_errors.append(f"double crashed: {exc!r}")
            return _error(500, f"GitHub double error: {exc!r}", doc)
        if isinstance(reply.body, dict) and reply.body.get("documentation_url", doc) is None:
            reply.body["documentation_url"] = doc
        return reply

    def _send(self, h: _Handler, rec: RecordedRequest, reply: _Reply) -> None:
        payload = b"" if reply.body is None else jsonlib.dumps(reply.body).encode()
        with self._lock:
            self._used += 1
            remaining = max(RATE_LIMIT - self._used, 0)
            headers = {
                "x-github-request-id": f"DBL1:{next(self._ids):04X}",
                "x-github-api-version-selected": "2022-11-28",
                "x-github-media-type": "github.v3; format=json",
                "x-ratelimit-limit": str(RATE_LIMIT), "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-reset": str(self._reset_at), "x-ratelimit-used": str(RATE_LIMIT - remaining),
                "x-ratelimit-resource": "core",
            }
            if payload:
                headers["content-type"] = "application/json; charset=utf-8"
            headers.update(reply.headers)
            rec.status = reply.status
            self._requests.append(rec)  # before answering, so callers never see a gap
        h.send_response(reply.status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("content-length", str(len(payload)))
        h.end_headers()
        if payload and h.command != "HEAD":
            h.wfile.write(payload)

    # -- operations ------------------------------------------------------------------------
    def _dispatch_event(self, repo: Repo, _p: dict[str, str], _q: dict[str, str], body: Any) -> _Reply:
        with self.state.lock:
            repo.dispatches.append({"event_type": body["event_type"],
                                    "client_payload": body.get("client_payload")})
        return _Reply(204)

    def _page(self, items: list[Any], path: str, query: dict[str, str]) -> _Reply:
        per_page = min(max(int(query.get("per_page", 30)), 1), 100)
        page = max(int(query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        reply = _Reply(200, items[(page - 1) * per_page: page * per_page])
        if len(items) > per_page or page > 1:
            rest = [(k, v) for k, v in query.items() if k != "page"]
            link = lambda n: f"{self.url}{path}?{urlencode([*rest, ('page', n)])}"  # noqa: E731
            rels = []
            if page > 1:
                rels.append(f'<{link(page - 1)}>; rel="prev"')
            if page < last:
                rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
            if page > 1:
                rels.append(f'<{link(1)}>; rel="first"')
            reply.headers["link"] = ", ".join(rels)
        return reply

    def _list_pulls(self, repo: Repo, _p: dict[str, str], q: dict[str, str], _b: Any) -> _Reply:
        found = self.state.pulls(repo, state=q.get("state", "open"), head=q.get("head"),
                                 base=q.get("base"), sort=q.get("sort", "created"),
                                 direction=q.get("direction", "desc"))
        reply = self._page(found, f"/repos/{repo.full_name}/pulls", q)
        views = self.views
        with self.state.lock:
            reply.body = [views.pull(repo, issue) for issue in reply.body]
        return reply

    def _find_issue(self, repo: Repo, number: str) -> Issue | None:
        return repo.issues.get(int(number))

    def _get_pull(self, repo: Repo, p: dict[str, str], _q: dict[str, str], _b: Any) -> _Reply:
        issue = self._find_issue(repo, p["pull_number"])
        if issue is None or issue.pull is None:
            return _error(404, "Not Found")
        with self.state.lock:
            return _Reply(200, self.views.pull(repo, issue, full=True))

    def _get_issue(self, repo: Repo, p: dict[str, str], _q: dict[str, str], _b: Any) -> _Reply:
        issue = self._find_issue(repo, p["issue_number"])
        if issue is None:
            return _error(404, "Not Found")
        with self.state.lock:
            return _Reply(200, self.views.issue(repo, issue))

    def _create_comment(self, repo: Repo, p: dict[str, str], _q: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(repo, p["issue_number"])
        if issue is None:
            return _error(404, "Not Found")
        text = body["body"]
        problem = ("Body cannot be blank" if not text.strip() else
                   f"Body is too long (maximum is {_MAX_COMMENT} characters)"
                   if len(text) > _MAX_COMMENT else None)
        if problem:
            return _error(422, "Validation Failed", errors=[
                {"resource": "IssueComment", "code": "custom", "field": "body", "message": problem}])
        with self.state.lock:
            data = self.views.comment(repo, issue, self.state.add_comment(issue, text))
        return _Reply(201, data, {"location": data["url"]})

    def _add_labels(self, repo: Repo, p: dict[str, str], _q: dict[str, str], body: Any) -> _Reply:
        issue = self._find_issue(repo, p["issue_number"])
        if issue is None:
            return _error(404, "Not Found")
        items = body if isinstance(body, list) else body.get("labels", [])
        with self.state.lock:
            labels = self.state.add_labels(repo, issue, items)
            return _Reply(200, [self.views.label(repo, label) for label in labels])

    def _list_labels(self, repo: Repo, _p: dict[str, str], q: dict[str, str], _b: Any) -> _Reply:
        with self.state.lock:
            labels = sorted(repo.labels.values(), key=lambda label: label.name.lower())
            data = [self.views.label(repo, label) for label in labels]
        return self._page(data, f"/repos/{repo.full_name}/labels", q)
