"""The REST operations the double implements, one handler per GitHub ``operationId``.

By the time a handler runs, the request has already passed GitHub's schema checks, auth
and fault injection, and the repository exists; a handler only applies the operation to
``State`` and renders the answer with ``Views``. Keeping them apart from the HTTP layer
means adding an operation is one method plus one table entry here (and its schema in
``github-rest-subset.json``). Pagination copies GitHub's ``Link`` header exactly, since
PyGithub follows those links rather than computing page numbers itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from .records import Reply, error
from .state import Issue, Repo, State, Views

__all__ = ["MAX_COMMENT", "Handler", "Host", "Routes"]

MAX_COMMENT = 65536

# (repository, path parameters, query, parsed JSON body) -> reply
Handler = Callable[[Repo, dict[str, str], dict[str, str], Any], Reply]


class Host(Protocol):
    """What the handlers read from the double, live on every request (``GitHubDouble``)."""

    @property
    def state(self) -> State: ...
    @property
    def url(self) -> str: ...
    @property
    def views(self) -> Views: ...


class Routes:
    """Operation handlers acting on the ``host`` double's state."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self.table: dict[str, Handler] = {
            "repos/create-dispatch-event": self._dispatch_event,
            "repos/get": lambda repo, *_: Reply(200, self._host.views.repo(repo, full=True)),
            "pulls/list": self._list_pulls,
            "pulls/get": self._get_pull,
            "issues/get": self._get_issue,
            "issues/create-comment": self._create_comment,
            "issues/add-labels": self._add_labels,
            "issues/list-labels-for-repo": self._list_labels,
        }

    def __call__(self, op_id: str, repo: Repo, params: dict[str, str], query: dict[str, str],
                 body: Any) -> Reply:
        """Run operation ``op_id``; an operation without a handler raises ``KeyError``."""
        return self.table[op_id](repo, params, query, body)

    def _page(self, items: list[Any], path: str, query: dict[str, str]) -> Reply:
        per_page = min(max(int(query.get("per_page", 30)), 1), 100)
        page = max(int(query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        reply = Reply(200, items[(page - 1) * per_page: page * per_page])
        if len(items) > per_page or page > 1:
            api = self._host.url
            rest = [(k, v) for k, v in query.items() if k != "page"]
            link = lambda n: f"{api}{path}?{urlencode([*rest, ('page', n)])}"  # noqa: E731
            rels = []
            if page > 1:
                rels.append(f'<{link(page - 1)}>; rel="prev"')
            if page < last:
                rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
            if page > 1:
                rels.append(f'<{link(1)}>; rel="first"')
            reply.headers["link"] = ", ".join(rels)
        return reply

    @staticmethod
    def _find_issue(repo: Repo, number: str) -> Issue | None:
        return repo.issues.get(int(number))

    def _dispatch_event(self, repo: Repo, _p: dict[str, str], _q: dict[str, str], body: Any) -> Reply:
        with self._host.state.lock:
            repo.dispatches.append({"event_type": body["event_type"],
                                    "client_payload": body.get("client_payload")})
        return Reply(204)

    def _list_pulls(self, repo: Repo, _p: dict[str, str], q: dict[str, str], _b: Any) -> Reply:
        found = self._host.state.pulls(repo, state=q.get("state", "open"), head=q.get("head"),
                                 base=q.get("base"), sort=q.get("sort", "created"),
                                 direction=q.get("direction", "desc"))
        reply = self._page(found, f"/repos/{repo.full_name}/pulls", q)
        views = self._host.views
        with self._host.state.lock:
            reply.body = [views.pull(repo, issue) for issue in reply.body]
        return reply

    def _get_pull(self, repo: Repo, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        issue = self._find_issue(repo, p["pull_number"])
        if issue is None or issue.pull is None:
            return error(404, "Not Found")
        with self._host.state.lock:
            return Reply(200, self._host.views.pull(repo, issue, full=True))

    def _get_issue(self, repo: Repo, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        issue = self._find_issue(repo, p["issue_number"])
        if issue is None:
            return error(404, "Not Found")
        with self._host.state.lock:
            return Reply(200, self._host.views.issue(repo, issue))

    def _create_comment(self, repo: Repo, p: dict[str, str], _q: dict[str, str], body: Any) -> Reply:
        issue = self._find_issue(repo, p["issue_number"])
        if issue is None:
            return error(404, "Not Found")
        text = body["body"]
        problem = ("Body cannot be blank" if not text.strip() else
                   f"Body is too long (maximum is {MAX_COMMENT} characters)"
                   if len(text) > MAX_COMMENT else None)
        if problem:
            return error(422, "Validation Failed", errors=[
                {"resource": "IssueComment", "code": "custom", "field": "body", "message": problem}])
        with self._host.state.lock:
            data = self._host.views.comment(repo, issue, self._host.state.add_comment(issue, text))
        return Reply(201, data, {"location": data["url"]})

    def _add_labels(self, repo: Repo, p: dict[str, str], _q: dict[str, str], body: Any) -> Reply:
        issue = self._find_issue(repo, p["issue_number"])
        if issue is None:
            return error(404, "Not Found")
        items = body if isinstance(body, list) else body.get("labels", [])
        with self._host.state.lock:
            labels = self._host.state.add_labels(repo, issue, items)
            return Reply(200, [self._host.views.label(repo, label) for label in labels])

    def _list_labels(self, repo: Repo, _p: dict[str, str], q: dict[str, str], _b: Any) -> Reply:
        with self._host.state.lock:
            labels = sorted(repo.labels.values(), key=lambda label: label.name.lower())
            data = [self._host.views.label(repo, label) for label in labels]
        return self._page(data, f"/repos/{repo.full_name}/labels", q)
