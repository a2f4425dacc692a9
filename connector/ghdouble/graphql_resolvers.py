"""The double's state as GitHub's GraphQL objects: what each served field answers.

Every object is a dict from field name to value, or to a function of the field's arguments (a
connection, a lookup by number); ``__typename`` names the object type, so unions and interfaces
resolve without guessing. The fields are exactly those of ``github-graphql-subset.graphql``;
``resolve_field`` raising ``KeyError`` for one of them is a bug in this module, not in a query.

GitHub's answers copied here: NOT_FOUND errors for a repository the caller cannot see (a private
one is hidden, not refused) and for a number that is not there; a connection without ``first`` or
``last`` (MISSING_PAGINATION_BOUNDARIES) or asking for more than 100 (EXCESSIVE_PAGINATION); a
bot's ``login`` without REST's ``[bot]`` suffix; ``body`` is ``""`` where REST has ``null``; a
commit with no checks and no statuses has no ``statusCheckRollup``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from .pull_facts import CheckRun, CommitStatus, PullFacts, review_decision, rollup_state
from .state import HTML, Issue, Repo, State, _sha, head_sha
from .views import Views

__all__ = ["Context", "resolve_field", "resolve_type", "root"]

MAX_PAGE = 100
Object = dict[str, Any]


@dataclass
class Context:
    """One request's view of the double: the state, what the caller may see, and who they are."""

    state: State
    sees: Callable[[Repo], bool]
    viewer: str


def resolve_field(source: Object, info: GraphQLResolveInfo, **args: Any) -> Any:
    value = source[info.field_name]
    return value(**args) if callable(value) else value


def resolve_type(value: Object, *_: Any) -> str:
    return str(value["__typename"])


def not_found(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"type": "NOT_FOUND"})


def root(context: Context) -> Object:
    state = context.state

    def repository(owner: str, name: str, followRenames: bool = True) -> Object:  # followRenames: GraphQL names it
        found = state.find(owner, name)
        if found is None or not context.sees(found):
            raise not_found(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return _repository(state, found)

    return {"repository": repository, "viewer": _actor(context.viewer)}


def _repository(state: State, repo: Repo) -> Object:
    def issue_or_pull(number: int) -> Object:
        issue = repo.issues.get(number)
        if issue is None:
            raise not_found(f"Could not resolve to an issue or pull request with the number of {number}.")
        return _pull(state, repo, issue) if issue.pull else _issue(state, repo, issue)

    def pull(number: int) -> Object:
        issue = repo.issues.get(number)
        if issue is None or issue.pull is None:
            raise not_found(f"Could not resolve to a PullRequest with the number of {number}.")
        return _pull(state, repo, issue)

    return {"__typename": "Repository", "isPrivate": repo.private, "name": repo.name,
            "nameWithOwner": repo.full_name, "url": f"{HTML}/{repo.full_name}", "owner": _actor(repo.owner),
            "issueOrPullRequest": issue_or_pull, "pullRequest": pull}


def _issue(state: State, repo: Repo, issue: Issue) -> Object:
    kind = "pull" if issue.pull else "issues"
    labels = [{"__typename": "Label", "name": label.name, "color": label.color}
              for label in state.labels_of(repo, issue)]
    return {"__typename": "Issue", "number": issue.number, "title": issue.title, "body": issue.body or "",
            "state": issue.state.upper(), "closed": issue.state == "closed", "closedAt": issue.closed_at,
            "url": f"{HTML}/{repo.full_name}/{kind}/{issue.number}", "createdAt": issue.created_at,
            "updatedAt": issue.updated_at, "author": _actor(issue.user),
            "authorAssociation": Views.association(repo, issue), "labels": _connection("labels", labels)}


def _pull(state: State, repo: Repo, issue: Issue) -> Object:
    pull = issue.pull
    assert pull is not None
    facts, is_open = pull.facts, issue.state == "open"
    reviewers = [{"__typename": "ReviewRequest", "requestedReviewer": _actor(login)}
                 for login in facts.requested_reviewers]
    reviewers += [{"__typename": "ReviewRequest", "requestedReviewer": {"__typename": "Team", "slug": slug,
                                                                         "name": slug}}
                  for slug in facts.requested_teams]
    return {
        **_issue(state, repo, issue), "__typename": "PullRequest",
        "state": "MERGED" if pull.merged_at else issue.state.upper(), "isDraft": pull.draft,
        "merged": pull.merged_at is not None, "mergedAt": pull.merged_at,
        "baseRefName": pull.base_ref, "headRefName": pull.head_ref,
        "mergeable": facts.mergeable_now(is_open),
        "mergeStateStatus": facts.merge_state_status(is_open=is_open, draft=pull.draft),
        "reviewDecision": review_decision(facts.reviews), "additions": facts.additions, "deletions": facts.deletions,
        "changedFiles": len(facts.files), "files": _connection("files", _files(facts)),
        "reviewRequests": _connection("reviewRequests", reviewers),
        "latestReviews": _connection("latestReviews", _latest_reviews(facts)),
        "commits": _connection("commits", [{"__typename": "PullRequestCommit",
                                            "commit": _commit(repo, issue, facts)}]),
    }


def _files(facts: PullFacts) -> list[Object]:
    """Each changed file, the pull request's additions and deletions shared out among them."""
    count = max(len(facts.files), 1)
    return [{"__typename": "PullRequestChangedFile", "path": path,
             "additions": facts.additions // count + (facts.additions % count if i == 0 else 0),
             "deletions": facts.deletions // count + (facts.deletions % count if i == 0 else 0)}
            for i, path in enumerate(facts.files)]


def _latest_reviews(facts: PullFacts) -> list[Object]:
    latest: dict[str, Object] = {}
    for review in facts.reviews:
        if review.state != "PENDING":
            latest[review.login.lower()] = {"__typename": "PullRequestReview", "state": review.state,
                                            "author": _actor(review.login)}
    return list(latest.values())


def _commit(repo: Repo, issue: Issue, facts: PullFacts) -> Object:
    verdict = rollup_state(facts.check_runs, facts.statuses)
    items: list[CheckRun | CommitStatus] = [*facts.check_runs, *facts.statuses]
    contexts = [_context(repo, item) for item in items]
    rollup = None if verdict is None else {"__typename": "StatusCheckRollup", "state": verdict,
                                         "contexts": _connection("contexts", contexts)}
    return {"__typename": "Commit", "oid": head_sha(repo, issue), "statusCheckRollup": rollup}


def _context(repo: Repo, item: CheckRun | CommitStatus) -> Object:
    if isinstance(item, CheckRun):
        return {"__typename": "CheckRun", "name": item.name, "status": item.status, "conclusion": item.conclusion,
                "detailsUrl": f"{HTML}/{repo.full_name}/runs/{int(_sha(repo.full_name, item.name)[:8], 16)}"}
    return {"__typename": "StatusContext", "context": item.context, "state": item.state,
            "description": item.description, "targetUrl": None}


def _actor(login: str) -> Object:
    if login.endswith("[bot]"):
        return {"__typename": "Bot", "login": login.removesuffix("[bot]")}
    return {"__typename": "User", "login": login}


def _connection(name: str, items: list[Object]) -> Callable[..., Object]:
    """A connection field: ``first`` or ``last`` (at most 100) of ``items``, and how many there are."""
    def page(first: int | None = None, last: int | None = None, **_: Any) -> Object:
        if first is None and last is None:
            raise GraphQLError(f"You must provide a `first` or `last` value to properly paginate the `{name}` "
                               "connection.", extensions={"type": "MISSING_PAGINATION_BOUNDARIES"})
        for bound, value in (("first", first), ("last", last)):
            if value is not None and value > MAX_PAGE:
                raise GraphQLError(f"Requesting {value} records on the `{name}` connection exceeds the `{bound}` "
                                   f"limit of {MAX_PAGE} records.", extensions={"type": "EXCESSIVE_PAGINATION"})
            if value is not None and value < 0:
                raise GraphQLError(f"`{bound}` on the `{name}` connection cannot be less than zero.",
                                   extensions={"type": "INVALID_PAGINATION"})
        nodes = items[:first] if first is not None else items
        nodes = nodes[max(len(nodes) - last, 0):] if last is not None else nodes
        return {"totalCount": len(items), "nodes": nodes}
    return page
