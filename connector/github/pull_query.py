"""One pull request, read in one GraphQL query.

Over REST, what ``get_pull_request`` answers takes five calls (the pull request, its files, its
reviews, the head commit's check runs and its statuses). GraphQL gives all of it in one, through
PyGithub's requester (a POST that only reads, so it is not counted as a write). ``issueOrPullRequest``
tells a plain issue's number from a pull request's in the same query. A part of
:class:`connector.github.client.GitHub`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import GitHubNotFound, GitHubUnavailable, GitHubValidation
from ..types import Repository
from .client_core import ClientCore

if TYPE_CHECKING:
    from github import Github

__all__ = ["PULL_REQUEST_QUERY", "PullRequestQuery"]

PULL_REQUEST_QUERY = """
query PullRequest($owner: String!, $name: String!, $number: Int!, $files: Int!) {
  repository(owner: $owner, name: $name) {
    isPrivate
    issueOrPullRequest(number: $number) {
      __typename
      ... on PullRequest {
        number title body state isDraft merged url createdAt updatedAt
        author { login }
        authorAssociation
        baseRefName headRefName
        mergeable mergeStateStatus reviewDecision
        additions deletions changedFiles
        labels(first: 20) { totalCount nodes { name } }
        reviewRequests(first: 10) { totalCount nodes { requestedReviewer { __typename
          ... on User { login } ... on Team { slug } ... on Bot { login } ... on Mannequin { login } } } }
        files(first: $files) { totalCount nodes { path } }
        commits(last: 1) { nodes { commit { oid statusCheckRollup { state contexts(first: 100) { totalCount
          nodes { __typename ... on CheckRun { name status conclusion } ... on StatusContext { context state } } } } } } }
      }
    }
  }
}
"""


class PullRequestQuery(ClientCore):
    if TYPE_CHECKING:
        _client: Github

    def pull_request_details(self, repo: Repository, number: int, *, files: int) -> dict[str, Any]:
        """GitHub's ``repository`` object: ``isPrivate`` and ``issueOrPullRequest`` (``__typename``
        ``Issue`` for a plain issue)."""
        variables = {"owner": repo.owner, "name": repo.name, "number": number, "files": files}
        with self._translated(repo, number=number):
            _, data = self._call(repo, "POST", self._client.requester.graphql_url, reading=True,
                                 input={"query": PULL_REQUEST_QUERY, "variables": variables})
        if not isinstance(data, dict):
            raise GitHubUnavailable("GitHub's GraphQL answer could not be read; try again in a moment.")
        errors = data.get("errors") or []
        if any(isinstance(e, dict) and e.get("type") == "NOT_FOUND" for e in errors):
            on_repository = all(isinstance(e, dict) and e.get("path") == ["repository"] for e in errors)
            raise GitHubNotFound(
                f"Repository {repo.full_name} was not found, or the connector's GitHub token cannot see it; check "
                "owner and repo." if on_repository else
                f"Pull request #{number} was not found in {repo.full_name}; list pull requests to find the right "
                "number.")
        if errors:
            messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors[:3])
            raise GitHubValidation(f"GitHub's GraphQL API refused the query: {messages[:300]}.")
        repository = (data.get("data") or {}).get("repository")
        if not isinstance(repository, dict) or not isinstance(repository.get("issueOrPullRequest"), dict):
            raise GitHubNotFound(f"Pull request #{number} was not found in {repo.full_name}.")
        return repository
