"""POST /chatgpt/prs/* — list pull requests, comment on one, add labels to one."""

from __future__ import annotations

from typing import Any

from ..errors import NotAPullRequest
from ..http.auth import acts_as_person
from ..http.services import github, services
from ..policy import lockdown
from ..policy.rules import allowed_labels, comment_body, existing_labels
from ..policy.untrusted import capped, visible
from ..types import Repository
from .replies import dry_run_reply

__all__ = ["list_pull_requests", "comment_on_pull_request", "add_labels_to_pull_request"]

_LIST_FILTERS = ("state", "sort", "direction", "per_page", "page", "base", "head")


def list_pull_requests(body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any]:
    repo = services().repository(body, token_info)
    query = {name: body[name] for name in _LIST_FILTERS if body.get(name) is not None}
    pulls, next_page = github(token_info).list_pulls(repo, query)
    lockdown_mode = services().settings.lockdown
    return {
        "repository": repo.full_name,
        "pull_requests": [_summary(pull, lockdown_mode) for pull in pulls],
        "page": body["page"],
        "next_page": next_page,
    }


def comment_on_pull_request(body: dict[str, Any], token_info: dict[str, Any]) -> tuple[dict[str, Any], int]:
    settings = services().settings
    repo, number = services().repository(body, token_info), body["number"]
    footer = f"<sub>Posted by an assistant through the GitHub connector ({_on_behalf_of(token_info)}).</sub>"
    text = comment_body(body["body"], max_mentions=settings.max_mentions,
                        footer=footer if settings.comment_footer else None)
    _check_pull_request(token_info, repo, number)
    if body["dry_run"]:
        return dry_run_reply(action="comment", repository=repo.full_name, number=number,
                             body_characters=len(text))
    comment = github(token_info).create_comment(repo, number, text)
    return {"ok": True, "comment_id": comment["id"], "html_url": comment["html_url"]}, 201


def add_labels_to_pull_request(body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any] | tuple[dict[str, Any], int]:
    settings = services().settings
    repo, number = services().repository(body, token_info), body["number"]
    names = allowed_labels(body["labels"], settings.labels_allow)
    client = github(token_info)
    if not settings.labels_create:
        # Keyed by who asks as well: a person acting as themselves may see other labels than the connector.
        available = services().labels.get(f"{services().cache_scope(token_info)}{repo.full_name}",
                                          lambda: client.list_label_names(repo))
        names = existing_labels(names, available, repo.full_name)
    if body["dry_run"]:
        current = [label["name"] for label in _require_pull_request(token_info, repo, number).get("labels") or []]
        on_it = {name.casefold() for name in current}
        to_add = [name for name in names if name.casefold() not in on_it]
        return dry_run_reply(action="label", repository=repo.full_name, number=number,
                             labels_to_add=[visible(n) for n in to_add],
                             labels_after=[visible(n) for n in sorted(current + to_add, key=str.casefold)])
    _check_pull_request(token_info, repo, number)
    suggest = settings.labels_mode == "suggest"
    labels = client.add_labels(repo, number, names, suggest=suggest)
    reply = {"ok": True, "number": number, "labels": [visible(label["name"]) for label in labels]}
    if suggest:
        reply["suggested"] = [visible(name) for name in names]
    return reply


def _on_behalf_of(token_info: dict[str, Any]) -> str:
    name = token_info["key"].name
    return f"for {name}" if acts_as_person(token_info) else f"API key {name}"


def _check_pull_request(token_info: dict[str, Any], repo: Repository, number: int) -> None:
    """Refuse a number that is not a pull request, asking GitHub only the first time."""
    if (repo.full_name, number) not in services().pulls:
        _require_pull_request(token_info, repo, number)


def _require_pull_request(token_info: dict[str, Any], repo: Repository, number: int) -> dict[str, Any]:
    # The issues API accepts plain issue numbers too; one GET tells a pull request (it has a
    # "pull_request" key) from an issue and from a number that does not exist (404).
    issue = github(token_info).get_issue(repo, number)
    if "pull_request" not in issue:
        raise NotAPullRequest(
            f"#{number} in {repo.full_name} is an issue, not a pull request; list pull requests to "
            "find the right number."
        )
    services().pulls.add(repo.full_name, number)
    return issue


# Per-field caps keep a full page of 100 pull requests under ChatGPT's ~100k-character limit.
TITLE_LIMIT, BRANCH_LIMIT, LOGIN_LIMIT, LABELS_LIMIT = 120, 80, 39, 8


def _summary(pull: dict[str, Any], lockdown_mode: str) -> dict[str, Any]:
    truncated: list[str] = []
    private = bool(((pull.get("base") or {}).get("repo") or {}).get("private"))
    withheld = lockdown.withholds(lockdown_mode, private, pull.get("author_association"))

    def text(field: str, value: str, limit: int) -> str:
        clean, cut = capped(value, limit)
        if cut:
            truncated.append(field)
        return clean

    login = (pull.get("user") or {}).get("login")
    summary = {
        "number": pull["number"],
        "title": "" if withheld else text("title", pull["title"], TITLE_LIMIT),
        "state": pull["state"],
        "draft": bool(pull.get("draft")),
        "merged": pull.get("merged_at") is not None,
        "author": text("author", login, LOGIN_LIMIT) if login is not None else None,
        "head": text("head", pull["head"]["ref"], BRANCH_LIMIT),
        "base": text("base", pull["base"]["ref"], BRANCH_LIMIT),
        "labels": [visible(label["name"]) for label in pull.get("labels") or []],
        "html_url": pull["html_url"],
        "created_at": pull["created_at"],
        "updated_at": pull["updated_at"],
    }
    if len(summary["labels"]) > LABELS_LIMIT:
        summary["labels"] = summary["labels"][:LABELS_LIMIT]
        truncated.append("labels")
    if truncated:
        summary["truncated"] = truncated
    if withheld:
        summary["withheld"] = ["title"]
    return summary
