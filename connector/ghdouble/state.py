"""In-memory GitHub: repositories, issues/pull requests, labels, comments and dispatches.

Kept separate from the HTTP layer so tests can set up and inspect state directly, and so
the JSON shapes (which must match GitHub's schemas, see ``schemas.py``) live in one place.
Everything is guarded by one re-entrant lock because the HTTP server is threaded.

Behaviours copied from github.com on purpose: issues and pull requests share one number
sequence per repository; owner/repo/label names are case-insensitive but answered in the
stored casing; IDs, SHAs and timestamps are deterministic so tests can compare them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .pull_facts import PullFacts

__all__ = ["DEFAULT_LABELS", "HTML", "Comment", "Issue", "Label", "Pull", "Repo", "State", "head_sha"]

HTML = "https://github.com"
_EPOCH = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)

# GitHub's default label set (color, description), used when a seeded label name matches.
DEFAULT_LABELS: dict[str, tuple[str, str]] = {
    "bug": ("d73a4a", "Something isn't working"),
    "documentation": ("0075ca", "Improvements or additions to documentation"),
    "duplicate": ("cfd3d7", "This issue or pull request already exists"),
    "enhancement": ("a2eeef", "New feature or request"),
    "good first issue": ("7057ff", "Good for newcomers"),
    "help wanted": ("008672", "Extra attention is needed"),
    "invalid": ("e4e669", "This doesn't seem right"),
    "question": ("d876e3", "Further information is requested"),
    "wontfix": ("ffffff", "This will not be worked on"),
}


def node_id(kind: str, number: int) -> str:
    """GitHub's legacy global node id, e.g. ``MDU6SXNzdWUx`` == b64("05:Issue1")."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def _sha(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


def head_sha(repo: Repo, issue: Issue) -> str:
    """The pull request's head commit (deterministic, as every SHA of the double)."""
    assert issue.pull is not None
    return _sha(repo.full_name, issue.number, issue.pull.head_ref)


@dataclass
class Label:
    id: int
    name: str
    color: str
    description: str | None
    default: bool


@dataclass
class Comment:
    id: int
    user: str
    body: str
    created_at: str


@dataclass
class Pull:
    head_owner: str
    head_ref: str
    base_ref: str
    draft: bool = False
    merged_at: str | None = None
    facts: PullFacts = field(default_factory=PullFacts)  # reviews, checks, size (pull_facts)


@dataclass
class Issue:
    number: int
    id: int
    title: str
    user: str
    state: str
    created_at: str
    updated_at: str
    closed_at: str | None = None
    body: str | None = None
    labels: list[str] = field(default_factory=list)  # lower-case keys into Repo.labels
    comments: list[Comment] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    pull: Pull | None = None


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    private: bool
    default_branch: str
    description: str | None
    created_at: str
    labels: dict[str, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    dispatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class State:
    """The mutable world. All public methods take the lock; callers never need to."""

    def __init__(self, viewer: str = "connector-bot") -> None:
        self.lock = threading.RLock()
        self.viewer = viewer
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.repos: dict[tuple[str, str], Repo] = {}
            self._users: dict[str, int] = {}
            self._ids = {k: itertools.count(start) for k, start in
                         (("repo", 700_000_001), ("issue", 2_000_000_001),
                          ("label", 6_000_000_001), ("comment", 1_900_000_001), ("user", 1))}
            self._clock = itertools.count()
            self.user_id(self.viewer)

    def tick(self) -> str:
        """Next deterministic timestamp (one minute apart), as GitHub formats them."""
        moment = _EPOCH + timedelta(minutes=next(self._clock))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def user_id(self, login: str) -> int:
        with self.lock:
            key = login.lower()
            if key not in self._users:
                self._users[key] = next(self._ids["user"])
            return self._users[key]

    def find(self, owner: str, name: str) -> Repo | None:
        with self.lock:
            return self.repos.get((owner.lower(), name.lower()))

    def repo(self, owner: str, name: str) -> Repo:
        found = self.find(owner, name)
        if found is None:
            raise KeyError(f"no repository {owner}/{name} in the double")
        return found

    def add_repo(self, owner: str, name: str, *, private: bool = False,
                 labels: Iterable[str | Mapping[str, Any]] = ("bug", "enhancement", "documentation"),
                 default_branch: str = "main", description: str | None = None) -> Repo:
        with self.lock:
            if self.find(owner, name) is not None:
                raise ValueError(f"repository {owner}/{name} already exists")
            self.user_id(owner)
            repo = Repo(next(self._ids["repo"]), owner, name, private, default_branch,
                        description, self.tick())
            self.repos[(owner.lower(), name.lower())] = repo
            for spec in labels:
                spec = {"name": spec} if isinstance(spec, str) else dict(spec)
                self.ensure_label(repo, spec["name"], spec.get("color"), spec.get("description"))
            return repo

    def ensure_label(self, repo: Repo, name: str, color: str | None = None,
                     description: str | None = None) -> Label:
        """The repo's label called ``name``, created like GitHub does when it is unknown."""
        with self.lock:
            key = name.lower()
            if key not in repo.labels:
                known = DEFAULT_LABELS.get(key)
                repo.labels[key] = Label(
                    id=next(self._ids["label"]), name=name,
                    color=color or (known[0] if known else "ededed"),
                    description=description if description is not None else (known[1] if known else None),
                    default=known is not None)
            return repo.labels[key]

    def _new_issue(self, repo: Repo, title: str, user: str, state: str, labels: Iterable[str],
                   body: str | None) -> Issue:
        if state not in ("open", "closed"):
            raise ValueError("state must be 'open' or 'closed'")
        self.user_id(user)
        created = self.tick()
        issue = Issue(number=len(repo.issues) + 1, id=next(self._ids["issue"]), title=title,
                      user=user, state=state, created_at=created, updated_at=created,
                      closed_at=self.tick() if state == "closed" else None, body=body)
        if issue.closed_at:
            issue.updated_at = issue.closed_at
        issue.labels = [self.ensure_label(repo, n).name.lower() for n in labels]
        repo.issues[issue.number] = issue
        return issue

    def add_issue(self, owner: str, name: str, *, title: str, user: str = "octocat",
                  state: str = "open", labels: Iterable[str] = (), body: str | None = None) -> int:
        with self.lock:
            return self._new_issue(self.repo(owner, name), title, user, state, labels, body).number

    def add_pull(self, owner: str, name: str, *, title: str, user: str = "octocat",
                 state: str = "open", draft: bool = False, merged: bool = False,
                 labels: Iterable[str] = (), head: str = "feature", base: str = "main",
                 body: str | None = None) -> int:
        """Add a PR; ``head`` may be ``"user:ref"`` for a PR from a fork."""
        if merged and state != "closed":
            state = "closed"  # a merged pull request is always closed on GitHub
        with self.lock:
            repo = self.repo(owner, name)
            head_owner, _, head_ref = head.rpartition(":")
            issue = self._new_issue(repo, title, user, state, labels, body)
            issue.pull = Pull(head_owner or repo.owner, head_ref, base, draft,
                              merged_at=issue.closed_at if merged else None)
            self.user_id(issue.pull.head_owner)
            return issue.number

    def pull(self, owner: str, name: str, number: int) -> tuple[Repo, Issue, Pull]:
        """Pull request ``number`` (KeyError if there is none, or it is a plain issue)."""
        repo = self.repo(owner, name)
        issue = repo.issues.get(number)
        if issue is None or issue.pull is None:
            raise KeyError(f"no pull request #{number} in {repo.full_name}")
        return repo, issue, issue.pull

    def set_pull_details(self, owner: str, name: str, number: int, *, body: str | None = None,
                         **facts: Any) -> None:
        """Set the body and any of ``PullFacts.set``'s facts of pull request ``number``."""
        with self.lock:
            _, issue, pull = self.pull(owner, name, number)
            pull.facts.set(**facts)
            issue.body = body if body is not None else issue.body
            issue.updated_at = self.tick()

    def add_review(self, owner: str, name: str, number: int, login: str, state: str) -> None:
        with self.lock:
            _, issue, pull = self.pull(owner, name, number)
            self.user_id(login)
            issue.updated_at = self.tick()
            pull.facts.review(login, state, issue.updated_at)

    def add_check(self, owner: str, name: str, number: int, *, check_run: str | None = None,
                  status_context: str | None = None, state: str, conclusion: str | None = None,
                  description: str | None = None) -> None:
        """A check run (``state`` is its status) or a commit status on the head commit."""
        with self.lock:
            facts = self.pull(owner, name, number)[2].facts
            if check_run is not None:
                facts.check_run(check_run, state, conclusion, self.tick())
            if status_context is not None:
                facts.status(status_context, state, description, self.tick())

    def add_labels(self, repo: Repo, issue: Issue, items: Iterable[Any]) -> list[Label]:
        """Apply labels (creating unknown ones) or park ``suggest: true`` items; all labels back."""
        with self.lock:
            for item in items:
                if isinstance(item, Mapping) and item.get("suggest") is True:
                    issue.suggestions.append(dict(item))
                    continue
                name = item["name"] if isinstance(item, Mapping) else str(item)
                key = self.ensure_label(repo, name).name.lower()
                if key not in issue.labels:
                    issue.labels.append(key)
            issue.updated_at = self.tick()
            return self.labels_of(repo, issue)

    def labels_of(self, repo: Repo, issue: Issue) -> list[Label]:
        with self.lock:
            return sorted((repo.labels[k] for k in issue.labels), key=lambda label: label.name.lower())

    def add_comment(self, issue: Issue, body: str, author: str | None = None) -> Comment:
        """A comment by ``author`` (a user token's person), or by the viewer (the token's bot)."""
        with self.lock:
            comment = Comment(next(self._ids["comment"]), author or self.viewer, body, self.tick())
            issue.comments.append(comment)
            issue.updated_at = comment.created_at
            return comment

    def pulls(self, repo: Repo, *, state: str = "open", head: str | None = None,
              base: str | None = None, sort: str = "created", direction: str = "desc") -> list[Issue]:
        with self.lock:
            found = [i for i in repo.issues.values() if i.pull is not None
                     and (state == "all" or i.state == state)
                     and (base is None or i.pull.base_ref == base)
                     and (head is None or _head_matches(i.pull, head))]
            keys = {"created": lambda i: (i.created_at, i.number),
                    "updated": lambda i: (i.updated_at, i.number),
                    "popularity": lambda i: (len(i.comments), i.number),
                    "long-running": lambda i: (i.created_at, i.number)}
            descending = direction != "asc"
            if sort == "long-running":  # "desc" means longest-running, i.e. oldest, first
                descending = not descending
            found.sort(key=keys[sort], reverse=descending)
            return found


def _head_matches(pull: Pull, head: str) -> bool:
    owner, sep, ref = head.partition(":")
    if not sep:
        return pull.head_ref == head
    return owner.lower() == pull.head_owner.lower() and ref == pull.head_ref
