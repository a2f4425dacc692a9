"""A fake GitHub REST server ("the double") for tests and the zero-setup sandbox mode.

Why a real HTTP server rather than mocks: the connector talks to GitHub through PyGithub,
and the things that break in production (auth headers, pagination ``Link`` headers,
rate-limit headers, retries, dropped connections, GitHub Enterprise ``/api/v3`` prefixes)
only show up on the wire. Every request is checked against GitHub's own OpenAPI schemas
(``schemas.py``) and recorded, so tests can assert both on what the connector sent and on
whether GitHub would have accepted it.

This module is the one object tests hold: ``GitHubDouble`` starts and stops the server,
seeds and inspects state, injects faults and exposes the request log. The work is done
elsewhere: ``wire`` (HTTP), ``pipeline`` (GitHub's order of checks), ``routes`` (the
operations), ``graphql`` (``POST /graphql``, checked against GitHub's GraphQL schema), ``apps`` (GitHub App JWTs and installation tokens), ``users`` (people, their
permissions and user tokens), ``web_flow`` (github.com's ``/login/oauth``, where people sign in),
``actions`` (workflow runs a dispatch starts), ``hooks`` (webhooks about them), ``faults`` and
``records``. Stdlib HTTP (``ThreadingHTTPServer``, HTTP/1.1 keep-alive, Content-Length
everywhere); PyJWT, already installed with PyGithub, only for App JWTs.
"""

from __future__ import annotations

import json as jsonlib
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import versions, wire
from .actions import Actions, Change
from .actions_seeding import ActionsSeeding
from .apps import Apps
from .faults import FaultQueue, forbidden, primary_rate_limit, secondary_rate_limit
from .graphql import GraphQL
from .hooks import Delivery, Hooks
from .pipeline import decide
from .records import DOCS, RecordedRequest, Recorder
from .routes import Routes
from .run_views import hook_payload, run_view
from .schemas import SchemaBook, load_schemas
from .state import Issue, Repo, State
from .users import OAuthApp, People, UserToken
from .views import Views
from .web_flow import AUTHORIZE, WebFlow, is_web_path

__all__ = ["Delivery", "GitHubDouble", "RecordedRequest", "UserToken"]

_ZEN = "Design for failure."  # ping's "zen", one of GitHub's rotating sayings


class GitHubDouble(ActionsSeeding):
    """Fake api.github.com (or GHES with ``prefix="/api/v3"``) serving a small REST subset."""

    def __init__(self, token: str | None = "test-token", prefix: str = "", latency: float = 0.0,
                 *, viewer: str = "connector-bot", check_answers: bool = True) -> None:
        self.token, self.latency = token, latency
        # Its own answers are checked against GitHub's schemas too (several ms for a page of pull
        # requests); a benchmark's double, standing in for GitHub's speed, turns that off.
        self.check_answers = check_answers
        self.prefix = ("/" + prefix.strip("/")) if prefix.strip("/") else ""
        self.state = State(viewer)
        self.schemas: SchemaBook = load_schemas()
        self._lock = threading.RLock()  # one lock so reset() clears log, faults and App together
        self._recorder = Recorder(self._lock)
        self._faults = FaultQueue(self._lock)
        self.apps = Apps(self._lock)  # the GitHub App, its installations and issued tokens
        self.people = People(self._lock)  # people, the apps they sign in to, their user tokens
        self._web = WebFlow(self.people)  # github.com's /login/oauth
        self.actions = Actions(self.state, self._announce)  # workflows and their runs
        self._hooks = Hooks(self._lock)  # where run changes are delivered as webhooks
        # A classic token's scopes (e.g. "repo, workflow"), sent on GET /user as GitHub does;
        # None plays a fine-grained token, which has no scopes to report.
        self.oauth_scopes: str | None = None
        self._routes = Routes(self)
        self._graphql = GraphQL(self, self._faults)  # POST /graphql (graphql)
        self._server: wire.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> GitHubDouble:
        if self._server is not None:
            raise RuntimeError("GitHubDouble already started")
        self._server = wire.Server((host, port), self._handle)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02},
                                        name="github-double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop_storage()  # the job logs' storage host (actions_seeding), if it was started
        server = self._server
        if server is None:
            return
        server.shutdown()
        server.hang_up_all()
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
        host = host.decode() if isinstance(host, bytes) else host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{host}:{port}{self.prefix}"

    @property
    def views(self) -> Views:
        return Views(self.state, self.url)

    def _views(self) -> Views:
        """``views``, also before start() (URLs then point nowhere)."""
        return Views(self.state, self.url if self._server else "http://github-double.invalid")

    # -- recording ---------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        return self._recorder.snapshot()

    def clear_requests(self) -> None:
        self._recorder.clear()

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
            self._recorder.clear(quota=True)
            self._faults.clear()
            self.apps.clear()
            self.people.clear()
            self._hooks.clear()
            self.oauth_scopes = None
        self.actions.clear()
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

    def set_pull_details(self, owner: str, name: str, number: int, **details: Any) -> None:
        """Set a pull request's ``body`` and facts (``PullFacts.set``: author_association, additions,
        deletions, files, mergeable, merge_state_status, requested_reviewers, requested_teams)."""
        self.state.set_pull_details(owner, name, number, **details)

    def add_review(self, owner: str, name: str, number: int, login: str, state: str) -> None:
        """``login`` reviews: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED (see ``pull_facts``)."""
        self.state.add_review(owner, name, number, login, state)

    def add_check_run(self, owner: str, name: str, number: int, check: str, status: str = "completed",
                      conclusion: str | None = "success") -> None:
        """A check run on the head commit (the latest per name counts); no conclusion unless completed."""
        self.state.add_check(owner, name, number, check_run=check, state=status,
                             conclusion=conclusion if status.upper() == "COMPLETED" else None)

    def add_commit_status(self, owner: str, name: str, number: int, context: str, state: str,
                          description: str | None = None) -> None:
        """A commit status (success, pending, failure, error) on the head commit, latest per context."""
        self.state.add_check(owner, name, number, status_context=context, state=state, description=description)

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
            views = self._views()
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

    # -- GitHub Actions and webhooks -------------------------------------------------------
    def add_workflow(self, owner: str, repo: str, name: str, *, types: list[str] | None = None,
                     jobs: list[str] | None = None, run_name_from_request_id: bool = True,
                     dispatch_inputs: Mapping[str, Mapping[str, Any]] | None = None,
                     workflow_file: str | None = None, file_name: str | None = None) -> int:
        """A workflow run by ``repository_dispatch`` of ``types`` (``None`` = every type); its id.

        ``jobs`` are job names (default ``["build"]``), each with the steps "Set up job",
        "Run <job>" and "Complete job". With ``run_name_from_request_id`` a run is titled with
        the dispatch's ``client_payload.request_id`` (``run-name:``), else with ``name``.
        ``dispatch_inputs`` ({name: {type, required, default, options, description}}; ``{}``: no
        inputs) also makes it a ``workflow_dispatch`` workflow. ``workflow_file`` is the YAML text
        instead (its ``on:``, ``jobs:`` and ``run-name:`` then count); ``file_name`` names the
        file under ``.github/workflows/`` (default: from ``name``). See ``actions_seeding``.
        """
        return self.actions.add_workflow(self.state.repo(owner, repo), name, types=types, jobs=jobs,
                                         run_name_from_request_id=run_name_from_request_id,
                                         dispatch_inputs=dispatch_inputs, workflow_file=workflow_file,
                                         file_name=file_name).id

    def delay_run_starts(self, seconds: float) -> None:
        """From now on, runs appear ``seconds`` after their dispatch (GitHub takes a moment), so a
        dispatch is first seen with no run at all."""
        with self.actions.lock:
            self.actions.start_delay = seconds

    def runs(self, owner: str, repo: str) -> list[dict[str, Any]]:
        """The repository's workflow runs as GitHub renders them, newest first."""
        found = self.actions.runs_of(self.state.repo(owner, repo))
        with self.state.lock:
            views = self._views()
            return [run_view(run, views) for run in found]

    def advance_run(self, run_id: int, status: str, conclusion: str | None = None, *,
                    failing_step: str | None = None) -> None:
        """Move a run and its jobs to ``in_progress`` or ``completed`` (conclusion default
        "success"); completing a queued run passes through ``in_progress``. With
        ``failing_step`` (and conclusion "failure") that step fails in the first job that has
        it and the steps after it are skipped. Webhooks are sent before this returns."""
        self.actions.advance(run_id, status, conclusion, failing_step=failing_step)

    def auto_advance(self, after_seconds: float = 0.5, conclusion: str = "success") -> None:
        """Runs created from now on start after ``after_seconds`` and complete (with
        ``conclusion``) after twice that, on a timer, for tests that poll. reset() stops it."""
        self.actions.auto_advance(after_seconds, conclusion)

    def send_webhooks_to(self, url: str | None, secret: str | None) -> None:
        """Deliver ``workflow_run``/``workflow_job`` webhooks for every run change to ``url``,
        signed with ``secret`` (``None``: unsigned); ``url=None`` stops delivering."""
        self._hooks.target(url, secret)

    def send_ping(self) -> None:
        """Send the ``ping`` GitHub sends when a webhook is created (about the first repository)."""
        with self.state.lock:
            repo = next(iter(self.state.repos.values()), None)
            views, hook_id, url = self._views(), self._hooks.hook_id, self._hooks.url
            if url is None:
                raise RuntimeError("no webhook target; call send_webhooks_to() first")
            hooks_url = f"{views.api}/repos/{repo.full_name}/hooks" if repo else f"{views.api}/hooks"
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            payload: dict[str, Any] = {"zen": _ZEN, "hook_id": hook_id, "hook": {
                "type": "Repository", "id": hook_id, "name": "web", "active": True,
                "events": ["workflow_job", "workflow_run"],
                "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
                "created_at": created, "updated_at": created, "url": f"{hooks_url}/{hook_id}",
                "test_url": f"{hooks_url}/{hook_id}/test", "ping_url": f"{hooks_url}/{hook_id}/pings",
                "deliveries_url": f"{hooks_url}/{hook_id}/deliveries",
                "last_response": {"code": None, "status": "unused", "message": None}}}
            if repo is not None:
                payload["repository"] = views.repo(repo, full=True)
                payload["sender"] = views.user(repo.owner)
        self._hooks.deliver("ping", None, payload, repo.id if repo else hook_id)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery made (redeliveries included), oldest first."""
        return self._hooks.deliveries

    def redeliver(self, delivery: Delivery, *, body: bytes | None = None,
                  signature: str | None = None) -> int:
        """Resend ``delivery`` (same delivery id), optionally with another body or
        ``X-Hub-Signature-256``; the receiver's status back (``ConnectionError`` if unreachable)."""
        return self._hooks.redeliver(delivery, body=body, signature=signature)

    def _announce(self, changes: list[Change]) -> None:
        """Deliver the webhooks for run changes; called without the state lock held, so a
        receiver may call the double back while its delivery is in flight."""
        if not changes or not self._hooks.active:
            return
        for change in changes:
            with self.state.lock:
                payload = hook_payload(change, self._views())
            self._hooks.deliver(change.event, change.action, payload, change.run.repo.id)

    # -- GitHub App ------------------------------------------------------------------------
    def register_app(self, app_id: int, public_key_pem: str | bytes, *, slug: str = "connector-app",
                     name: str = "Connector", token_lifetime: int = 3600) -> None:
        """Accept JWTs signed for ``app_id`` (RS256, checked with this public key).

        Installation tokens issued afterwards expire ``token_lifetime`` seconds after issue.
        """
        self.apps.register(app_id, public_key_pem, slug=slug, name=name,
                           token_lifetime=token_lifetime)

    def install_app(self, account: str, repos: list[str] | None = None, *,
                    permissions: dict[str, str] | None = None,
                    installation_id: int | None = None) -> int:
        """Install the App on ``account``'s repositories ``repos`` (``None`` = all); its id back."""
        return self.apps.install(account, repos, permissions=permissions,
                                 installation_id=installation_id)

    def revoke_installation(self, installation_id: int) -> None:
        """Uninstall: the installation is no longer found and its tokens stop working."""
        self.apps.revoke(installation_id)

    def expire_installation_tokens(self) -> None:
        """Make every installation token issued so far expired, as if an hour had passed."""
        self.apps.expire_tokens()

    @property
    def issued_tokens(self) -> list[tuple[int, str, int]]:
        """``(installation_id, token, expires_at)`` per issued token, oldest first.

        ``expires_at`` is in epoch seconds; ``expire_installation_tokens`` moves it into the past.
        """
        return self.apps.issued

    # -- people and signing in with GitHub (users, web_flow) -----------------------------------
    def register_oauth_app(self, client_id: str, client_secret: str, callback_urls: Sequence[str], *,
                           name: str = "Connector", kind: Literal["github_app", "oauth_app"] = "github_app",
                           expiring: bool = True, installed_on: Iterable[str] | None = None) -> None:
        """A GitHub App's (or OAuth App's) client credentials and callback URLs.

        A GitHub App's user tokens expire and refresh unless ``expiring=False`` (an OAuth App's
        never do, as on GitHub), and reach only the repositories matching ``installed_on``
        ("owner/repo" or "owner/*"; ``None``: no limit), as its installations would.
        """
        self.people.register_app(OAuthApp(client_id, client_secret, tuple(callback_urls), name, kind, expiring,
                                          None if installed_on is None else tuple(installed_on)))

    def add_user(self, login: str, *, name: str | None = None, orgs: Iterable[str] = (),
                 permissions: Mapping[str, str] | None = None) -> None:
        """A person who can sign in; ``permissions`` maps "owner/repo" to read, triage, write,
        maintain or admin (public repositories are readable without one)."""
        self.people.add_user(login, self.state.user_id(login), name, orgs, permissions or {})

    def set_user_permission(self, login: str, full_name: str, level: str | None) -> None:
        """The person's role on "owner/repo" from now on (``None``: no access)."""
        self.people.set_permission(login, full_name, level)

    def add_to_org(self, login: str, org: str) -> None:
        self.people.join(login, org)

    def remove_from_org(self, login: str, org: str) -> None:
        """Out of the organisation, and so out of its teams."""
        self.people.leave(login, org)

    def add_to_team(self, login: str, team: str, *, role: str = "member") -> None:
        """An active member (or maintainer) of ``team`` ("org/team-slug"), and so of its organisation."""
        org, _, slug = team.partition("/")
        self.people.join_team(login, org, slug, role)

    def remove_from_team(self, login: str, team: str) -> None:
        org, _, slug = team.partition("/")
        self.people.leave_team(login, org, slug)

    def revoke_user_authorization(self, login: str) -> None:
        """The person revoked the app: their tokens answer 401, their refresh tokens bad_refresh_token."""
        self.people.revoke(login)

    def expire_user_tokens(self, login: str | None = None) -> None:
        """Access tokens (of ``login``, or everyone's) expire now; refresh tokens still work."""
        self.people.expire(login)

    @property
    def user_token_seconds(self) -> int:
        """How long user access tokens issued from now on live (GitHub: 8 hours); reset() restores it."""
        return self.people.user_token_seconds

    @user_token_seconds.setter
    def user_token_seconds(self, seconds: int) -> None:
        self.people.user_token_seconds = seconds

    @property
    def refresh_token_seconds(self) -> int:
        """How long refresh tokens issued from now on live (GitHub: 6 months); reset() restores it."""
        return self.people.refresh_token_seconds

    @refresh_token_seconds.setter
    def refresh_token_seconds(self, seconds: int) -> None:
        self.people.refresh_token_seconds = seconds

    def user_tokens(self, login: str) -> list[UserToken]:
        """Every token pair issued to ``login``, oldest first."""
        return self.people.tokens_of(login)

    def approve(self, authorize_url: str, login: str) -> str:
        """What a browser does on the Authorize page, without a browser: approve the flow of
        ``authorize_url`` (the full URL the client sent the browser to) as ``login``, and return
        the redirect's Location (``callback?code=..&state=..``, or ``callback?error=..``).

        Recorded like the page's form post (``oauth/authorize-approve``). Raises ``ValueError``
        when the URL is not this double's Authorize page or GitHub would answer with a page
        (unknown client_id or login) rather than a redirect.
        """
        parts = urlsplit(authorize_url)
        if parts.path != AUTHORIZE or (self._server is not None and parts.port != self._server.server_address[1]):
            raise ValueError(f"{parts.scheme}://{parts.netloc}{parts.path} is not this double's Authorize page "
                             f"({self._web_url()}{AUTHORIZE})")
        form = {**dict(parse_qsl(parts.query, keep_blank_values=True)), "login": login, "decision": "authorize"}
        rec = RecordedRequest("POST", AUTHORIZE, {}, {"content-type": "application/x-www-form-urlencoded"}, None,
                              urlencode(form).encode())
        self._web.read(rec)
        reply = self._web.answer(rec)
        self._recorder.web(rec, reply.status)
        if "location" not in reply.headers:
            raise ValueError(f"the Authorize page answered {reply.status}, not a redirect: {reply.note}")
        return reply.headers["location"]

    def _web_url(self) -> str:
        """github.com's counterpart: the host root, without the API's prefix."""
        return self.url.removesuffix(self.prefix) if self._server is not None else "http://github-double.invalid"

    # -- fault injection -------------------------------------------------------------------
    def fail_next(self, method: str, path_pattern: str, *, status: int | None = None,
                  json: Any = None, headers: Mapping[str, str] | None = None, delay: float = 0.0,
                  times: int = 1, drop: bool = False, after: bool = False, garble: bool = False) -> None:
        """Answer the next ``times`` matching requests with this instead ("*" = any method); with
        ``after``, apply each first (GitHub acted) and then send this; ``garble`` sends a body that
        is not JSON (with ``status``, default 200)."""
        self._faults.add(method, path_pattern, status=status, json=json, headers=headers,
                         delay=delay, times=times, drop=drop, after=after, garble=garble)

    def quota(self) -> dict[str, int]:
        return self._recorder.quota()

    def set_quota(self, remaining: int, reset_in: int = 3600) -> None:
        """Let the next answer's ``x-ratelimit-remaining`` be ``remaining`` (0: that call was the
        last one the quota allowed), resetting ``reset_in`` seconds from now."""
        self._recorder.set_quota(remaining, reset_in)

    def rate_limit_primary(self, method: str, path_pattern: str, reset_in: int = 60,
                           *, times: int = 1) -> None:
        canned = primary_rate_limit(reset_in)
        self.fail_next(method, path_pattern, status=canned.status, times=times,
                       json=canned.json, headers=canned.headers)

    def rate_limit_secondary(self, method: str, path_pattern: str, retry_after: int = 30,
                             status: int = 403, *, times: int = 1) -> None:
        canned = secondary_rate_limit(retry_after, status)
        self.fail_next(method, path_pattern, status=canned.status, times=times,
                       json=canned.json, headers=canned.headers)

    def forbid(self, method: str, path_pattern: str, permission: str = "pull_requests=write",
               *, times: int = 1) -> None:
        canned = forbidden(permission)
        self.fail_next(method, path_pattern, status=canned.status, times=times,
                       json=canned.json, headers=canned.headers)

    # -- request handling ------------------------------------------------------------------
    def _handle(self, h: wire.Handler) -> None:
        """Serve one request: read, decide (see ``pipeline``), record, answer or hang up."""
        rec, routed = wire.read_request(h, self.prefix)
        if is_web_path(rec.path) and (not self.prefix or not routed):  # github.com's pages, not the API
            self._serve_web(h, rec)
            return
        if self._graphql.serves(rec, routed):
            reply = self._graphql.answer(rec, h.headers.get("authorization"))
        else:
            reply = decide(rec, routed, h.headers.get("authorization"), token=self.token,
                           schemas=self.schemas, faults=self._faults, state=self.state,
                           routes=self._routes, apps=self.apps, people=self.people)
        if reply is None:  # dropped on purpose
            self._recorder.dropped(rec)
            wire.hang_up(h)
            return
        reply = versions.finish(rec, reply, self.schemas, check=self.check_answers)  # the version's shape, checked
        if self.latency:
            time.sleep(self.latency)
        raw = isinstance(reply.body, bytes)  # a garbled answer (fault injection), sent as it is
        payload = reply.body if raw else b"" if reply.body is None else jsonlib.dumps(reply.body).encode()
        headers = self._recorder.answered(rec, reply, has_payload=bool(payload) and not raw)
        wire.send(h, reply.status, headers, payload)

    def _serve_web(self, h: wire.Handler, rec: RecordedRequest) -> None:
        """github.com's web flow (``web_flow``): faults and latency apply as to the API, so a test
        can make the token endpoint slow, fail or hang up; no rate limit is counted."""
        self._web.read(rec)
        fault = self._faults.take(rec.method, rec.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            self._recorder.dropped(rec)
            wire.hang_up(h)
            return
        override = fault.reply(DOCS) if fault is not None else None
        if self.latency:
            time.sleep(self.latency)
        if override is not None:
            payload = b"" if override.body is None else jsonlib.dumps(override.body).encode()
            self._recorder.web(rec, override.status)
            wire.send(h, override.status, {"content-type": "application/json; charset=utf-8", **override.headers},
                      payload)
            return
        reply = self._web.answer(rec)
        self._recorder.web(rec, reply.status)
        wire.send(h, reply.status, reply.headers, reply.body)
