"""POST /chatgpt/prs/get — one pull request, read in one GitHub call (a GraphQL query).

Everything an assistant needs to talk about a pull request: its text, branches, labels, who is asked
to review and GitHub's review decision, whether it can merge, its size with the first file paths, and
the head commit's checks counted by outcome with the failing ones named. GitHub's text is cleaned and
capped like a list item's (the body to ``BODY_LIMIT``, marked in ``truncated``); under lockdown the
title and body of someone without write access are left out (``withheld``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import NotAPullRequest
from ..http.services import github, services
from ..policy import lockdown
from ..policy.untrusted import capped, visible
from .prs import BRANCH_LIMIT, LABELS_LIMIT, LOGIN_LIMIT, TITLE_LIMIT

__all__ = ["get_pull_request", "BODY_LIMIT"]

BODY_LIMIT = 4000
PATH_LIMIT = 200
FAILING_LIMIT = 20
_FAILED_CHECKS = frozenset({"FAILURE", "TIMED_OUT", "STARTUP_FAILURE", "ACTION_REQUIRED", "ERROR", "CANCELLED"})


def get_pull_request(body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any]:
    current = services()
    repo, number = current.repository(body, token_info), body["number"]
    repository = github(token_info).pull_request_details(repo, number, files=body["max_files"])
    pull = repository["issueOrPullRequest"]
    if pull.get("__typename") != "PullRequest":
        raise NotAPullRequest(f"#{number} in {repo.full_name} is an issue, not a pull request; list pull requests "
                              "to find the right number.")
    current.pulls.add(repo.full_name, number)  # a comment or label on it next is one call
    truncated: list[str] = []

    def text(field: str, value: str | None, limit: int, *, lines: bool = False) -> str | None:
        if value is None:
            return None
        clean, cut = capped(value, limit, lines=lines)
        if cut:
            truncated.append(field)
        return clean

    def listed(field: str, values: list[str], limit: int, total: int) -> list[str]:
        if total > len(values) or len(values) > limit:
            truncated.append(field)
        return values[:limit]

    author = (pull.get("author") or {}).get("login")
    association = str(pull.get("authorAssociation") or "NONE")
    withheld = lockdown.withholds(current.settings.lockdown, bool(repository.get("isPrivate")), association)
    labels = pull.get("labels") or {}
    reviewers = pull.get("reviewRequests") or {}
    files = pull.get("files") or {}
    answer: dict[str, Any] = {
        "repository": repo.full_name,
        "number": pull["number"],
        "title": "" if withheld else text("title", pull.get("title") or "", TITLE_LIMIT),
        "body": None if withheld else text("body", pull.get("body") or None, BODY_LIMIT, lines=True),
        "state": "open" if pull.get("state") == "OPEN" else "closed",
        "draft": bool(pull.get("isDraft")),
        "merged": bool(pull.get("merged")),
        "author": text("author", author, LOGIN_LIMIT),
        "author_association": association,
        "head": text("head", pull.get("headRefName") or "", BRANCH_LIMIT),
        "base": text("base", pull.get("baseRefName") or "", BRANCH_LIMIT),
        "labels": listed("labels", [visible(n["name"]) for n in labels.get("nodes") or []], LABELS_LIMIT,
                         labels.get("totalCount", 0)),
        "requested_reviewers": listed("requested_reviewers", [_reviewer(n) for n in reviewers.get("nodes") or []
                                                              if n.get("requestedReviewer")], 10,
                                      reviewers.get("totalCount", 0)),
        "review_decision": (pull.get("reviewDecision") or "").lower() or None,
        "mergeable": str(pull.get("mergeable") or "UNKNOWN").lower(),
        "merge_state": str(pull.get("mergeStateStatus") or "UNKNOWN").lower(),
        "additions": pull.get("additions") or 0,
        "deletions": pull.get("deletions") or 0,
        "changed_files": pull.get("changedFiles") or 0,
        "files": listed("files", [capped(n["path"], PATH_LIMIT)[0] for n in files.get("nodes") or []],
                        body["max_files"], files.get("totalCount", 0)),
        "checks": _checks(pull),
        "html_url": pull.get("url"),
        "created_at": pull.get("createdAt"),
        "updated_at": pull.get("updatedAt"),
    }
    if truncated:
        answer["truncated"] = sorted(set(truncated), key=truncated.index)
    if withheld:
        answer["withheld"] = ["title", "body"]
    return answer


def _reviewer(node: dict[str, Any]) -> str:
    who = node["requestedReviewer"]
    if who.get("__typename") == "Team":
        return f"team:{visible(str(who.get('slug') or ''))}"
    return visible(str(who.get("login") or ""))


def _checks(pull: dict[str, Any]) -> dict[str, Any]:
    commits = (pull.get("commits") or {}).get("nodes") or []
    rollup = (commits[-1].get("commit") or {}).get("statusCheckRollup") if commits else None
    if not rollup:
        return {"state": None, "total": 0, "counts": {}, "failing": []}
    contexts = rollup.get("contexts") or {}
    counts: Counter[str] = Counter()
    failing: list[str] = []
    for node in contexts.get("nodes") or []:
        if node.get("__typename") == "CheckRun":
            outcome = str(node.get("conclusion") or node.get("status") or "PENDING")
            name = node.get("name")
        else:
            outcome, name = str(node.get("state") or "PENDING"), node.get("context")
        counts[outcome.lower()] += 1
        if outcome in _FAILED_CHECKS and len(failing) < FAILING_LIMIT:
            failing.append(capped(str(name or ""), 100)[0])
    return {"state": str(rollup.get("state") or "").lower() or None, "total": contexts.get("totalCount", 0),
            "counts": dict(counts), "failing": failing}
