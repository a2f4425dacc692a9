"""The only module that talks to GitHub about repositories (``connector.github.credentials`` gets the
tokens it uses, ``connector.ops.doctor`` reads identity and permissions).

One PyGithub client per app, built once, with three of PyGithub's script-friendly defaults changed
on purpose (see the README's design notes):

* no client-side throttling (``seconds_between_requests``/``seconds_between_writes``): the client is
  shared by every request of a worker, so PyGithub's per-client pacing would serialise all users'
  writes to one a second. GitHub's own secondary rate limit is passed back as ``429`` instead.
* retries only for reads, once, on a 5xx or a failed connection; never for writes (a POST retried
  after a 502 can post a second comment), never on 403/429 (PyGithub's ``GithubRetry`` would sleep
  60 s, past ChatGPT's 45 s timeout).
* requests go through PyGithub's ``requester`` for the five endpoints used, because its object API
  would cost extra round trips (``add_to_labels`` returns nothing, ``get_pulls`` hides the ``Link``
  header and takes ``per_page`` only per client) or swallow errors (``create_repository_dispatch``
  returns ``False`` instead of raising).

Every failure leaves this module as a :mod:`connector.errors` exception.
"""

from __future__ import annotations

import copy
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests
from github import Auth, Github, GithubException
from requests.utils import parse_header_links
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from ..config.settings import Settings
from ..errors import (
    ConnectorError,
    GitHubForbidden,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubTimeout,
    GitHubUnavailable,
    GitHubValidation,
    GitHubWriteTimeout,
    Misconfigured,
    Unauthorized,
)
from ..types import Repository, Secret
from . import writes
from .actions_calls import ActionsCalls
from .credentials import AppCredentials, Credentials, TokenCredentials
from .logs import log_storage_session
from .masking import masked
from .pull_query import PullRequestQuery
from .quota import GitHubQuota, QuotaReading, SharedBlocks
from .users import UserCredentials

# What calls about the signed-in user (GET /user), not about a repository, are filed under.
_NO_REPOSITORY = Repository("-", "-")

__all__ = ["GitHub", "GitHubAnswer", "Repository", "github_client", "read_retry", "translate"]

USER_AGENT = "github-chatgpt-connector/0.1 (+PyGithub)"
DEFAULT_API_VERSION = "2022-11-28"
_NUMBER = re.compile(r"/\d+(?=/|$)")

# At DEBUG, PyGithub logs every response body: installation tokens (an App's access-token reply)
# and comment bodies would reach the log. Nothing below INFO from it, whatever the root level.
logging.getLogger("github.Requester").setLevel(logging.INFO)


def read_retry() -> Retry:
    """Retry a GET once after a 5xx or a refused connection; never anything else."""
    return Retry(
        total=1,
        connect=1,
        read=0,
        status=1,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=frozenset({500, 502, 503, 504}),
        backoff_factor=0,
        raise_on_status=False,
        respect_retry_after_header=False,
    )


def github_client(settings: Settings, listener: Callable[[GitHubAnswer], None] | None = None,
                  clock: Callable[[], float] = time.time) -> GitHub | None:
    """The client for the credentials the settings name (a token or a GitHub App), if any;
    ``listener`` hears of every answer GitHub gives it. With Redis, what GitHub says about its
    rate limits is shared with every process (connector.github.quota), looked up by ``clock``."""
    shared = SharedBlocks(settings.redis_url.reveal()) if settings.redis_url is not None else None
    if settings.github_token is not None:
        return GitHub(base_url=settings.github_api_url, token=settings.github_token, timeout=settings.github_timeout,
                      listener=listener, quota=GitHubQuota(clock=clock, shared=shared),
                      api_version=settings.github_api_version)
    if settings.github_app_id is not None and settings.github_app_private_key is not None:
        credentials = AppCredentials(
            app_id=settings.github_app_id, private_key=settings.github_app_private_key,
            installation_id=settings.github_app_installation_id, base_url=settings.github_api_url,
            timeout=settings.github_timeout, user_agent=USER_AGENT, retry=read_retry(),
        )
        return GitHub(base_url=settings.github_api_url, credentials=credentials, timeout=settings.github_timeout,
                      listener=listener, quota=GitHubQuota(clock=clock, shared=shared),
                      api_version=settings.github_api_version)
    return None


_LAST_TOKEN: ContextVar[str | None] = ContextVar("github_last_token", default=None)


class _TokenOfTheCall(Auth.Auth):
    """PyGithub auth whose token is chosen per call (with a GitHub App, each repository's
    installation has its own). Going through PyGithub's Auth keeps its masking of the header in
    debug logs, which passing an Authorization header by hand would lose."""

    def __init__(self) -> None:
        self._current: ContextVar[str] = ContextVar("github_token")

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._current.get()

    @property
    def _masked_token(self) -> str:
        return "token (removed)"

    @contextmanager
    def using(self, token: str) -> Iterator[None]:
        reset = self._current.set(token)
        try:
            yield
        finally:
            self._current.reset(reset)


@dataclass(frozen=True)
class GitHubAnswer:
    """What a listener hears of each GitHub answer (for metrics and the audit log)."""

    endpoint: str  # "GET /repos/{owner}/{repo}/pulls": a template, so metrics stay few
    status: int  # 200 for any success: PyGithub does not tell 200 from 201 or 204
    github_request_id: str | None
    quota_bucket: str
    quota: QuotaReading | None


class GitHub(ActionsCalls, PullRequestQuery):
    def __init__(self, *, base_url: str, timeout: int, token: Secret | None = None,
                 credentials: Credentials | None = None, pool_size: int = 16,
                 listener: Callable[[GitHubAnswer], None] | None = None, quota: GitHubQuota | None = None,
                 api_version: str = DEFAULT_API_VERSION) -> None:
        if credentials is None:
            if token is None:
                raise ValueError("give either a token or credentials")
            credentials = TokenCredentials(token)
        elif token is not None:
            raise ValueError("give either a token or credentials, not both")
        self._timeout = timeout
        self.api_version = api_version
        self._quota = quota or GitHubQuota()
        self._listener = listener
        self._credentials: Credentials = credentials
        self._auth = _TokenOfTheCall()
        self._client = Github(
            auth=self._auth,
            base_url=base_url,
            timeout=timeout,
            user_agent=USER_AGENT,
            retry=read_retry(),
            pool_size=pool_size,
            seconds_between_requests=None,
            seconds_between_writes=None,
            api_version=api_version,  # sent as X-GitHub-Api-Version on every call
        )
        self._storage = log_storage_session(USER_AGENT)

    # -- operations --------------------------------------------------------------------------

    def dispatch(self, repo: Repository, event_type: str, client_payload: dict[str, Any]) -> None:
        with self._translated(repo, write="the event"):
            self._call(repo, "POST", f"{repo.path}/dispatches",
                       input={"event_type": event_type, "client_payload": client_payload})

    def get_repository(self, repo: Repository) -> dict[str, Any]:
        with self._translated(repo):
            _, data = self._call(repo, "GET", repo.path)
        return data

    def get_issue(self, repo: Repository, number: int) -> dict[str, Any]:
        """The issue or pull request ``number`` (GitHub's issues API answers for both)."""
        with self._translated(repo, number=number):
            _, data = self._call(repo, "GET", f"{repo.path}/issues/{number}")
        return data

    def list_pulls(self, repo: Repository, query: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
        """One page of pull requests and the number of the next page (``None`` on the last)."""
        with self._translated(repo):
            headers, data = self._call(repo, "GET", f"{repo.path}/pulls", parameters=query)
        return data, _next_page(headers)

    def create_comment(self, repo: Repository, number: int, body: str) -> dict[str, Any]:
        with self._translated(repo, number=number, write="the comment"):
            _, data = self._call(repo, "POST", f"{repo.path}/issues/{number}/comments", input={"body": body})
        return data

    def add_labels(self, repo: Repository, number: int, labels: list[str], *, suggest: bool = False
                   ) -> list[dict[str, Any]]:
        """Add labels (or, with ``suggest``, store them as suggestions for a person to accept);
        GitHub answers with every label now on the issue."""
        items: list[Any] = [{"name": name, "suggest": True} for name in labels] if suggest else labels
        with self._translated(repo, number=number, write="the labels"):
            _, data = self._call(repo, "POST", f"{repo.path}/issues/{number}/labels", input={"labels": items})
        return data

    def list_runs(self, repo: Repository, query: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
        """One page of workflow runs, newest first, and the number of the next page."""
        with self._translated(repo):
            headers, data = self._call(repo, "GET", f"{repo.path}/actions/runs", parameters=query)
        return data["workflow_runs"], _next_page(headers)

    def get_run(self, repo: Repository, run_id: int) -> dict[str, Any]:
        with self._translated(repo, run_id=run_id):
            _, data = self._call(repo, "GET", f"{repo.path}/actions/runs/{run_id}")
        return data

    def list_jobs(self, repo: Repository, run_id: int, *, per_page: int = 20) -> tuple[list[dict[str, Any]], int]:
        """The first ``per_page`` jobs of the run's latest attempt, and how many it has."""
        with self._translated(repo, run_id=run_id):
            _, data = self._call(repo, "GET", f"{repo.path}/actions/runs/{run_id}/jobs",
                                 parameters={"per_page": per_page})
        return data["jobs"], data["total_count"]

    def cancel_run(self, repo: Repository, run_id: int) -> None:
        with self._translated(repo, run_id=run_id, write="the cancellation"):
            self._call(repo, "POST", f"{repo.path}/actions/runs/{run_id}/cancel")

    def list_label_names(self, repo: Repository, *, max_pages: int = 10) -> list[str]:
        """Names of the repository's labels (up to 1,000: 10 pages of 100)."""
        names: list[str] = []
        page: int | None = 1
        with self._translated(repo):
            while page is not None and page <= max_pages:
                headers, data = self._call(repo, "GET", f"{repo.path}/labels", parameters={"per_page": 100, "page": page})
                names.extend(label["name"] for label in data)
                page = _next_page(headers)
        return names

    # -- the signed-in person -------------------------------------------------------------------

    def as_user(self, credentials: Credentials) -> GitHub:
        """This client acting with ``credentials`` (a signed-in person's): the same connection
        pool, quota book and listener; only whose token each call carries differs."""
        view = copy.copy(self)
        view._credentials = credentials
        return view

    def authenticated_user(self) -> dict[str, Any]:
        """``GET /user``: who the credentials' token belongs to."""
        with self._translated(_NO_REPOSITORY):
            _, data = self._call(_NO_REPOSITORY, "GET", "/user")
        return data

    def is_org_member(self, org: str) -> bool:
        """Whether the token's user is an active member of ``org`` (``GET /user/memberships/orgs/{org}``:
        GitHub answers 404 to a non-member, and 403 when the org's policy hides it from this app)."""
        return self._active_membership(f"/user/memberships/orgs/{quote(org, safe='')}")

    def is_team_member(self, org: str, team_slug: str, login: str) -> bool:
        """Whether ``login`` is an active member of the team (``GET /orgs/{org}/teams/{team_slug}/
        memberships/{username}``: 404 when they are not, or when the team is hidden from the token)."""
        return self._active_membership(
            "/orgs/{}/teams/{}/memberships/{}".format(*(quote(part, safe="") for part in (org, team_slug, login))))

    def _active_membership(self, url: str) -> bool:
        """A membership GitHub answers with ``state: active``; its 404 or 403 is "not a member"."""
        try:
            with self._translated(_NO_REPOSITORY):
                _, data = self._call(_NO_REPOSITORY, "GET", url)
        except (GitHubNotFound, GitHubForbidden):
            return False
        return data.get("state") == "active"

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    def _call(self, repo: Repository, verb: str, url: str, *, reading: bool = False, **kwargs: Any
              ) -> tuple[dict[str, Any], Any]:
        """One call to GitHub; ``reading`` marks a POST that only reads (a GraphQL query)."""
        token = self._credentials.token_for(repo)
        _LAST_TOKEN.set(token)  # masked out of GitHub's error text, should it quote it
        bucket = self._credentials.quota_bucket(repo)
        self._quota.check(bucket)  # GitHub said it would refuse: answer 429 without asking again
        try:
            with self._auth.using(token):
                return self._observed(bucket, repo, verb, url, reading=reading, **kwargs)
        except GithubException as exc:
            # GitHub did not act on a request it refused with 401, so even a write may go again,
            # once, when the credentials have a newer token (an App installation's was revoked).
            if exc.status != 401 or not self._credentials.forget(repo, token):
                raise
        token = self._credentials.token_for(repo)
        _LAST_TOKEN.set(token)
        with self._auth.using(token):
            return self._observed(bucket, repo, verb, url, reading=reading, **kwargs)

    @staticmethod
    def known_secrets() -> list[str]:
        """The token this request's last GitHub call was made with (a person's, or an installation's),
        to mask out of text GitHub sends back."""
        token = _LAST_TOKEN.get()
        return [token] if token else []

    def _observed(self, bucket: str, repo: Repository, verb: str, url: str, *, reading: bool = False,
                  **kwargs: Any) -> tuple[dict[str, Any], Any]:
        """One request, whose answer's rate-limit headers (and, for the listener, status and
        request id) are noted whether GitHub accepted it or not."""
        write = verb != "GET" and not reading
        if write:
            writes.sending()
        try:
            headers, data = self._client.requester.requestJsonAndCheck(verb, url, **kwargs)
        except GithubException as exc:
            self._note(bucket, repo, verb, url, exc.status, exc.headers or {})
            if write:
                writes.answered(exc.status)
            raise
        except requests.RequestException as exc:
            if write and _refused_before_sending(exc):
                writes.not_sent()
            raise
        self._note(bucket, repo, verb, url, 200, headers)
        if write:
            writes.answered(200)
        content_type = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")
        if data is not None and "json" not in content_type:  # PyGithub wraps such a body as {"data": ...}
            raise GitHubUnavailable(f"GitHub's answer could not be read ({content_type or 'no content type'}, "
                                    "not JSON); try again in a moment.")
        return headers, data

    def _note(self, bucket: str, repo: Repository, verb: str, url: str, status: int, headers: dict[str, Any]) -> None:
        lowered = {str(name).lower(): str(value) for name, value in headers.items()}
        reading = self._quota.observe(bucket, status, lowered)
        if self._listener is not None:
            path = urlsplit(url).path if "://" in url else url  # the GraphQL endpoint is absolute
            endpoint = f"{verb} " + _NUMBER.sub("/{n}", path.replace(repo.path, "/repos/{owner}/{repo}", 1))
            self._listener(GitHubAnswer(endpoint, status, lowered.get("x-github-request-id"), bucket, reading))

    @contextmanager
    def _translated(self, repo: Repository, *, number: int | None = None, run_id: int | None = None,
                    write: str | None = None, missing: str | None = None) -> Iterator[None]:
        try:
            yield
        except GithubException as exc:
            person = self._credentials if isinstance(self._credentials, UserCredentials) else None
            if person is not None and exc.status == 401:  # renewed once already (_call): the sign-in is over
                raise Unauthorized(f"GitHub no longer accepts the sign-in of @{person.login} (revoked or expired); "
                                   "sign in again.", token_error="invalid_token") from None
            raise translate(exc, repo, number=number, run_id=run_id, missing=missing,
                            whose=person.whose if person is not None else None,
                            known=self.known_secrets()) from None
        except requests.RequestException as exc:
            if not _is_timeout(exc):
                # requests' messages can carry the URL but never the Authorization header.
                raise GitHubUnavailable(
                    f"The connection to GitHub failed ({type(exc).__name__}); try again in a moment."
                ) from None
            if write and not _refused_before_sending(exc):  # it went out: GitHub may have applied it
                raise GitHubWriteTimeout(f"GitHub did not answer within {self._timeout} s; {write} may or may "
                                         "not have been saved; check on GitHub before trying again.") from None
            raise GitHubTimeout(f"GitHub did not answer within {self._timeout} s; try again in a moment.") from None


def _refused_before_sending(exc: requests.RequestException) -> bool:
    """A connection that was refused (or never set up) carried nothing: GitHub cannot have acted."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _is_timeout(exc: requests.RequestException) -> bool:
    # With read retries disabled, urllib3 reports a read timeout as MaxRetryError(reason=
    # ReadTimeoutError), which requests re-raises as ConnectionError rather than Timeout.
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, NewConnectionError):  # a subclass of ConnectTimeoutError, but a refusal
        return False
    return isinstance(reason, (ReadTimeoutError, ConnectTimeoutError, TimeoutError))


def translate(exc: GithubException, repo: Repository, *, number: int | None = None, run_id: int | None = None,
              now: Callable[[], float] = time.time, whose: str | None = None, known: Iterable[str] = (),
              missing: str | None = None) -> ConnectorError:
    """Map one GitHub error response to the connector's error for it; ``whose`` names a signed-in
    person whose token was refused, instead of the connector's; ``missing`` is what a 404 means
    (else a run, a pull request or the repository). GitHub's own text is relayed with
    credentials masked: token-shaped strings, and ``known`` (the token the call was made with)."""
    status = exc.status
    headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
    data = exc.data if isinstance(exc.data, dict) else {}
    message = masked(str(data.get("message") or ""), known)
    request_id = headers.get("x-github-request-id")

    if status in (403, 429):
        limited = _rate_limit(headers, message, now())
        if limited is not None:
            return limited
    if status == 401:
        return Misconfigured(
            "GitHub rejected the connector's credentials (a bad, expired or revoked token, or a removed "
            "App installation); the operator has to replace GITHUB_TOKEN or check the App.",
            github_request_id=request_id,
        )
    if status == 403:
        permission = headers.get("x-accepted-github-permissions")
        if permission and whose is not None:
            detail = (f"{whose} lacks the permission {permission} on {repo.full_name} (GitHub's own permissions "
                      "apply to what you do through the connector); ask a repository admin for it.")
        elif permission:
            detail = (f"The connector's GitHub token lacks the permission {permission} on {repo.full_name}; "
                      "the operator has to grant it.")
        else:
            detail = f"GitHub refused the request on {repo.full_name}: {message or 'forbidden'}."
        return GitHubForbidden(detail, required_permission=permission, github_request_id=request_id)
    if status in (404, 410):
        if missing is not None:
            detail = missing
        elif run_id is not None:
            detail = (f"Workflow run {run_id} was not found in {repo.full_name}; list workflow runs (or ask for "
                      "the dispatch's status) to find the right id.")
        elif number is None:
            detail = (f"Repository {repo.full_name} was not found, or the connector's GitHub token cannot "
                      "see it; check owner and repo.")
        else:
            detail = (f"Pull request #{number} was not found in {repo.full_name} (or the repository is not "
                      "visible to the connector); list pull requests to find the right number.")
        return GitHubNotFound(detail, github_request_id=request_id)
    if 400 <= status < 500:
        reasons = masked("; ".join(
            str(error.get("message") or error.get("code") or error) if isinstance(error, dict) else str(error)
            for error in data.get("errors", []) or []
        ), known)
        detail = f"GitHub refused the values: {message or 'validation failed'}"
        return GitHubValidation(detail + (f" ({reasons})." if reasons else "."), github_request_id=request_id)
    return GitHubUnavailable(
        f"GitHub answered {status} (a server-side problem); try again in a moment.",
        github_request_id=request_id,
    )


def _rate_limit(headers: dict[str, str], message: str, now: float) -> GitHubRateLimited | None:
    retry_after = headers.get("retry-after")
    if retry_after is not None and retry_after.isdigit():
        return GitHubRateLimited(
            f"GitHub's secondary rate limit was hit; wait {retry_after} s before trying again.",
            retry_after=int(retry_after),
        )
    if headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "")
        wait = max(1, int(reset) - int(now)) if reset.isdigit() else 60
        return GitHubRateLimited(
            f"The connector's GitHub API quota is used up; it resets in {wait} s.", retry_after=wait
        )
    if "rate limit" in message.lower():
        return GitHubRateLimited("GitHub's rate limit was hit; wait a minute before trying again.", retry_after=60)
    return None


def _next_page(headers: dict[str, Any]) -> int | None:
    link = next((value for key, value in headers.items() if key.lower() == "link"), None)
    if not link:
        return None
    for entry in parse_header_links(link):
        if entry.get("rel") == "next":
            page = parse_qs(urlsplit(entry.get("url", "")).query).get("page", [])
            if page and page[0].isdigit():
                return int(page[0])
    return None
