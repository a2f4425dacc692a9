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
from urllib.parse import quote

__all__ = ["DEFAULT_LABELS", "Comment", "Issue", "Label", "Pull", "Repo", "State", "Views"]

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

    def add_comment(self, issue: Issue, body: str) -> Comment:
        with self.lock:
            comment = Comment(next(self._ids["comment"]), self.viewer, body, self.tick())
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


class Views:
    """Renders state as GitHub's JSON, with API URLs pointing at the double (``api``)."""

    def __init__(self, state: State, api: str) -> None:
        self.state, self.api = state, api.rstrip("/")

    def user(self, login: str) -> dict[str, Any]:
        uid, u = self.state.user_id(login), f"{self.api}/users/{login}"
        return {
            "login": login, "id": uid, "node_id": node_id("User", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4", "gravatar_id": "",
            "url": u, "html_url": f"{HTML}/{login}", "followers_url": f"{u}/followers",
            "following_url": f"{u}/following{{/other_user}}", "gists_url": f"{u}/gists{{/gist_id}}",
            "starred_url": f"{u}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{u}/subscriptions",
            "organizations_url": f"{u}/orgs", "repos_url": f"{u}/repos",
            "events_url": f"{u}/events{{/privacy}}", "received_events_url": f"{u}/received_events",
            "type": "User", "user_view_type": "public", "site_admin": False,
        }

    def repo(self, repo: Repo, *, full: bool = False, owner: str | None = None) -> dict[str, Any]:
        owner = owner or repo.owner
        fork = owner.lower() != repo.owner.lower()
        rid = repo.id + (self.state.user_id(owner) * 1000 if fork else 0)
        full_name, u = f"{owner}/{repo.name}", f"{self.api}/repos/{owner}/{repo.name}"
        html = f"{HTML}/{full_name}"
        open_count = sum(1 for i in repo.issues.values() if i.state == "open")
        data: dict[str, Any] = {
            "id": rid, "node_id": node_id("Repository", rid), "name": repo.name,
            "full_name": full_name, "private": repo.private, "owner": self.user(owner),
            "html_url": html, "description": repo.description, "fork": fork, "url": u,
            "created_at": repo.created_at, "updated_at": repo.created_at, "pushed_at": repo.created_at,
            "git_url": f"git://github.com/{full_name}.git", "ssh_url": f"git@github.com:{full_name}.git",
            "clone_url": f"{html}.git", "svn_url": html, "homepage": None, "size": 108,
            "stargazers_count": 0, "watchers_count": 0, "language": "Python", "has_issues": True,
            "has_projects": True, "has_downloads": True, "has_wiki": True, "has_pages": False,
            "has_discussions": False, "forks_count": 0, "mirror_url": None, "archived": False,
            "disabled": False, "open_issues_count": open_count, "license": None,
            "allow_forking": True, "is_template": False, "web_commit_signoff_required": False,
            "topics": [], "visibility": "private" if repo.private else "public", "forks": 0,
            "open_issues": open_count, "watchers": 0, "default_branch": repo.default_branch,
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
        }
        for key, tail in (("forks", "/forks"), ("keys", "/keys{/key_id}"),
                          ("collaborators", "/collaborators{/collaborator}"), ("teams", "/teams"),
                          ("hooks", "/hooks"), ("issue_events", "/issues/events{/number}"),
                          ("events", "/events"), ("assignees", "/assignees{/user}"),
                          ("branches", "/branches{/branch}"), ("tags", "/tags"),
                          ("blobs", "/git/blobs{/sha}"), ("git_tags", "/git/tags{/sha}"),
                          ("git_refs", "/git/refs{/sha}"), ("trees", "/git/trees{/sha}"),
                          ("statuses", "/statuses/{sha}"), ("languages", "/languages"),
                          ("stargazers", "/stargazers"), ("contributors", "/contributors"),
                          ("subscribers", "/subscribers"), ("subscription", "/subscription"),
                          ("commits", "/commits{/sha}"), ("git_commits", "/git/commits{/sha}"),
                          ("comments", "/comments{/number}"), ("issue_comment", "/issues/comments{/number}"),
                          ("contents", "/contents/{+path}"), ("compare", "/compare/{base}...{head}"),
                          ("merges", "/merges"), ("archive", "/{archive_format}{/ref}"),
                          ("downloads", "/downloads"), ("issues", "/issues{/number}"),
                          ("pulls", "/pulls{/number}"), ("milestones", "/milestones{/number}"),
                          ("notifications", "/notifications{?since,all,participating}"),
                          ("labels", "/labels{/name}"), ("releases", "/releases{/id}"),
                          ("deployments", "/deployments")):
            data[f"{key}_url"] = u + tail
        if full:
            data.update({"network_count": 0, "subscribers_count": 0, "temp_clone_token": "",
                         "allow_squash_merge": True, "allow_merge_commit": True,
                         "allow_rebase_merge": True, "allow_auto_merge": False,
                         "delete_branch_on_merge": False, "allow_update_branch": False})
        return data

    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        return {"id": label.id, "node_id": node_id("Label", label.id),
                "url": f"{self.api}/repos/{repo.full_name}/labels/{quote(label.name)}",
                "name": label.name, "color": label.color, "default": label.default,
                "description": label.description}

    def _labels(self, repo: Repo, issue: Issue) -> list[dict[str, Any]]:
        return [self.label(repo, label) for label in self.state.labels_of(repo, issue)]

    def pull(self, repo: Repo, issue: Issue, *, full: bool = False) -> dict[str, Any]:
        pr = issue.pull
        assert pr is not None
        n, api = issue.number, f"{self.api}/repos/{repo.full_name}"
        head_sha, html = _sha(repo.full_name, n, pr.head_ref), f"{HTML}/{repo.full_name}/pull/{n}"
        merge_sha = _sha(repo.full_name, n, "merge") if pr.merged_at else None

        def side(owner: str, ref: str, sha: str) -> dict[str, Any]:
            return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": self.user(owner),
                    "repo": self.repo(repo, owner=owner)}

        data: dict[str, Any] = {
            "url": f"{api}/pulls/{n}", "id": issue.id, "node_id": node_id("PullRequest", issue.id),
            "html_url": html, "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{n}", "number": n, "state": issue.state, "locked": False,
            "title": issue.title, "user": self.user(issue.user), "body": issue.body,
            "created_at": issue.created_at, "updated_at": issue.updated_at,
            "closed_at": issue.closed_at, "merged_at": pr.merged_at, "merge_commit_sha": merge_sha,
            "assignee": None, "assignees": [], "requested_reviewers": [], "requested_teams": [],
            "labels": self._labels(repo, issue), "milestone": None, "draft": pr.draft,
            "commits_url": f"{api}/pulls/{n}/commits",
            "review_comments_url": f"{api}/pulls/{n}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{n}/comments", "statuses_url": f"{api}/statuses/{head_sha}",
            "head": side(pr.head_owner, pr.head_ref, head_sha),
            "base": side(repo.owner, pr.base_ref, _sha(repo.full_name, pr.base_ref)),
            "_links": {k: {"href": v} for k, v in (
                ("self", f"{api}/pulls/{n}"), ("html", html), ("issue", f"{api}/issues/{n}"),
                ("comments", f"{api}/issues/{n}/comments"),
                ("review_comments", f"{api}/pulls/{n}/comments"),
                ("review_comment", f"{api}/pulls/comments{{/number}}"),
                ("commits", f"{api}/pulls/{n}/commits"), ("statuses", f"{api}/statuses/{head_sha}"))},
            "author_association": self._association(repo, issue.user),
            "auto_merge": None, "active_lock_reason": None,
        }
        if full:
            is_open = issue.state == "open"
            data.update({
                "merged": pr.merged_at is not None, "mergeable": True if is_open else None,
                "rebaseable": True if is_open else None,
                "mergeable_state": ("draft" if pr.draft else "clean") if is_open else "unknown",
                "merged_by": self.user(repo.owner) if pr.merged_at else None,
                "comments": len(issue.comments), "review_comments": 0,
                "maintainer_can_modify": False, "commits": 1, "additions": 10, "deletions": 2,
                "changed_files": 1,
            })
        return data

    def issue(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        n, api = issue.number, f"{self.api}/repos/{repo.full_name}"
        kind = "pull" if issue.pull else "issues"
        data: dict[str, Any] = {
            "url": f"{api}/issues/{n}", "repository_url": api,
            "labels_url": f"{api}/issues/{n}/labels{{/name}}", "comments_url": f"{api}/issues/{n}/comments",
            "events_url": f"{api}/issues/{n}/events", "html_url": f"{HTML}/{repo.full_name}/{kind}/{n}",
            "id": issue.id, "node_id": node_id("Issue", issue.id), "number": n, "title": issue.title,
            "user": self.user(issue.user), "labels": self._labels(repo, issue), "state": issue.state,
            "locked": False, "assignee": None, "assignees": [], "milestone": None,
            "comments": len(issue.comments), "created_at": issue.created_at,
            "updated_at": issue.updated_at, "closed_at": issue.closed_at,
            "closed_by": self.user(repo.owner) if issue.closed_at else None,
            "author_association": self._association(repo, issue.user), "active_lock_reason": None,
            "body": issue.body, "timeline_url": f"{api}/issues/{n}/timeline",
            "performed_via_github_app": None,
            "state_reason": "completed" if issue.closed_at and not issue.pull else None,
            "reactions": self._reactions(f"{api}/issues/{n}/reactions"),
        }
        if issue.pull:
            html = f"{HTML}/{repo.full_name}/pull/{n}"
            data["draft"] = issue.pull.draft
            data["pull_request"] = {"url": f"{api}/pulls/{n}", "html_url": html,
                                    "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
                                    "merged_at": issue.pull.merged_at}
        return data

    def comment(self, repo: Repo, issue: Issue, comment: Comment) -> dict[str, Any]:
        api, kind = f"{self.api}/repos/{repo.full_name}", "pull" if issue.pull else "issues"
        return {
            "id": comment.id, "node_id": node_id("IssueComment", comment.id),
            "url": f"{api}/issues/comments/{comment.id}",
            "html_url": f"{HTML}/{repo.full_name}/{kind}/{issue.number}#issuecomment-{comment.id}",
            "body": comment.body, "user": self.user(comment.user),
            "created_at": comment.created_at, "updated_at": comment.created_at,
            "issue_url": f"{api}/issues/{issue.number}",
            "author_association": self._association(repo, comment.user),
            "performed_via_github_app": None,
            "reactions": self._reactions(f"{api}/issues/comments/{comment.id}/reactions"),
        }

    @staticmethod
    def _association(repo: Repo, login: str) -> str:
        return "OWNER" if login.lower() == repo.owner.lower() else "CONTRIBUTOR"

    @staticmethod
    def _reactions(url: str) -> dict[str, Any]:
        counts = dict.fromkeys(("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0)
        return {"url": url, "total_count": 0, **counts}
