"""The REST operations the double implements, one handler per GitHub ``operationId``.

By the time a handler runs, the request has already passed GitHub's schema checks, auth
and fault injection, and the repository exists; a handler only applies the operation to
``State`` (or ``Apps``) and renders the answer with ``Views``. The App's own operations live
outside ``/repos/{owner}/{repo}``, so they have a table of their own, without a repository.
A person's user token gets answers about that person (``GET /user``, their organisations) from
``user_table``, and the repository operations in ``acting`` are told who made the call, so that
what a person writes or starts is theirs. Keeping handlers apart from the HTTP layer means adding an operation is one method plus one
table entry here (and its schema in ``github-rest-subset.json``). Pagination copies GitHub's
``Link`` header exactly, since PyGithub follows those links rather than computing page
numbers itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from .action_routes import ActionRoutes, VersionedHandler
from .actions import Actions
from .apps import Apps, app_view, installation_view, token_view
from .records import Reply, error
from .run_views import run_view
from .schemas import DEFAULT_VERSION
from .state import Issue, Repo, State, node_id
from .users import LEVELS, People, User
from .views import Views

__all__ = ["MAX_COMMENT", "ActingHandler", "AppHandler", "Handler", "Host", "Routes", "UserHandler"]

MAX_COMMENT = 65536

# (repository, path parameters, query, parsed JSON body) -> reply
Handler = Callable[[Repo, dict[str, str], dict[str, str], Any], Reply]
# (path parameters, query, parsed JSON body) -> reply, for the App's own operations
AppHandler = Callable[[dict[str, str], dict[str, str], Any], Reply]
# (the person, path parameters, query, parsed JSON body) -> reply, for a user token's own operations
UserHandler = Callable[[User, dict[str, str], dict[str, str], Any], Reply]
# (repository, path parameters, query, parsed JSON body, the person or None) -> reply
ActingHandler = Callable[[Repo, dict[str, str], dict[str, str], Any, User | None], Reply]

_LEVELS = {"read": 1, "write": 2, "admin": 3}


class Host(Protocol):
    """What the handlers read from the double, live on every request (``GitHubDouble``)."""

    @property
    def state(self) -> State: ...
    @property
    def url(self) -> str: ...
    @property
    def views(self) -> Views: ...
    @property
    def apps(self) -> Apps: ...
    @property
    def actions(self) -> Actions: ...
    @property
    def oauth_scopes(self) -> str | None: ...
    @property
    def people(self) -> People: ...

    def quota(self) -> dict[str, int]: ...
    def job_log_url(self, job_id: int) -> str: ...


class Routes:
    """Operation handlers acting on the ``host`` double's state."""

    def __init__(self, host: Host) -> None:
        self._host = host
        # Repository operations whose effect or answer depends on whose user token made the call
        # (the person is None for the double's token, an App's or an installation's).
        self.acting: dict[str, ActingHandler] = {
            "repos/create-dispatch-event": self._dispatch_event,
            "repos/get": self._get_repo,
            "issues/create-comment": self._create_comment,
        }
        self.table: dict[str, Handler] = {
            "pulls/list": self._list_pulls,
            "pulls/get": self._get_pull,
            "issues/get": self._get_issue,
            "issues/add-labels": self._add_labels,
            "issues/list-labels-for-repo": self._list_labels,
            "apps/get-repo-installation": self._repo_installation,
            "actions/list-workflow-runs-for-repo": self._list_runs,
            "actions/get-workflow-run": self._get_run,
            "actions/cancel-workflow-run": self._cancel_run,
        }
        self.app_table: dict[str, AppHandler] = {
            "apps/get-authenticated": self._get_app,
            "apps/get-installation": self._get_installation,
            "apps/create-installation-access-token": self._create_token,
            "users/get-authenticated": self._get_viewer,
            "rate-limit/get": self._get_rate_limit,
            # The double's token has no organisations of its own.
            "orgs/list-for-authenticated-user": lambda *_: Reply(200, []),
            "orgs/get-membership-for-authenticated-user": lambda *_: error(404, "Not Found"),
            "orgs/check-membership-for-user": self._check_membership,
            "teams/get-membership-for-user-in-org": lambda p, _q, _b: self._team_membership(None, p),
        }
        # Operations that answer differently for a person's user token.
        self.user_table: dict[str, UserHandler] = {
            "users/get-authenticated": self._get_user,
            "orgs/list-for-authenticated-user": self._list_user_orgs,
            "orgs/get-membership-for-authenticated-user": self._get_user_membership,
            "teams/get-membership-for-user-in-org": lambda user, p, _q, _b: self._team_membership(user, p),
        }
        # Workflows and their files, workflow_dispatch, re-runs, jobs and their logs (action_routes).
        more = ActionRoutes(host, self._page)
        self.table.update(more.table)
        self.acting.update(more.acting)
        # Operations whose answer depends on the API version the request asked for.
        self.versioned: dict[str, VersionedHandler] = more.versioned

    def __call__(self, op_id: str, repo: Repo | None, params: dict[str, str],
                 query: dict[str, str], body: Any, user: User | None = None, *,
                 version: str = DEFAULT_VERSION) -> Reply:
        """Run operation ``op_id`` (for ``user`` when a user token made the call, in API
        ``version``); an operation without a handler raises ``KeyError``."""
        if repo is not None and op_id in self.versioned:
            return self.versioned[op_id](repo, params, query, body, user, version)
        if user is not None and op_id in self.user_table:
            return self.user_table[op_id](user, params, query, body)
        if repo is None:  # not under /repos/{owner}/{repo}
            return self.app_table[op_id](params, query, body)
        if op_id in self.acting:
            return self.acting[op_id](repo, params, query, body, user)
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

    def _dispatch_event(self, repo: Repo, _p: dict[str, str], _q: dict[str, str], body: Any,
                        user: User | None) -> Reply:
        with self._host.state.lock:
            repo.dispatches.append({"event_type": body["event_type"],
                                    "client_payload": body.get("client_payload")})
        # Listening workflows start runs (and their webhooks go out) before GitHub's 204; a
        # person's dispatch makes them the runs' actor.
        self._host.actions.dispatched(repo, body["event_type"], body.get("client_payload"),
                                      actor=user.login if user is not None else None)
        return Reply(204)

    def _get_repo(self, repo: Repo, _p: dict[str, str], _q: dict[str, str], _b: Any, user: User | None) -> Reply:
        data = self._host.views.repo(repo, full=True)
        if user is not None:  # GitHub answers with the person's own role
            held = user.level_on(repo.full_name, repo.private)
            data["permissions"] = {name: held >= LEVELS[role] for name, role in (
                ("admin", "admin"), ("maintain", "maintain"), ("push", "write"), ("triage", "triage"),
                ("pull", "read"))}
        return Reply(200, data)

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

    def _create_comment(self, repo: Repo, p: dict[str, str], _q: dict[str, str], body: Any,
                        user: User | None) -> Reply:
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
            data = self._host.views.comment(repo, issue, self._host.state.add_comment(
                issue, text, user.login if user is not None else None))
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

    # -- GitHub Actions ----------------------------------------------------------------------
    def _list_runs(self, repo: Repo, _p: dict[str, str], q: dict[str, str], _b: Any) -> Reply:
        try:
            found = self._host.actions.runs_of(
                repo, event=q.get("event"), status=q.get("status"), branch=q.get("branch"),
                created=q.get("created"), actor=q.get("actor"), head_sha=q.get("head_sha"))
        except ValueError:
            return error(422, "Validation Failed", errors=[
                {"resource": "WorkflowRun", "field": "created", "code": "invalid"}])
        reply = self._page(found, f"/repos/{repo.full_name}/actions/runs", q)
        with self._host.state.lock:
            views = self._host.views
            reply.body = {"total_count": len(found),
                          "workflow_runs": [run_view(run, views) for run in reply.body]}
        return reply

    def _get_run(self, repo: Repo, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        run = self._host.actions.find(repo, p["run_id"])
        if run is None:
            return error(404, "Not Found")
        with self._host.state.lock:
            return Reply(200, run_view(run, self._host.views))

    def _cancel_run(self, repo: Repo, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        run = self._host.actions.find(repo, p["run_id"])
        if run is None:
            return error(404, "Not Found")
        if not self._host.actions.cancel(run):
            return error(409, "Cannot cancel a workflow run that is completed.")
        return Reply(202, {})

    # -- GitHub App operations (the pipeline has verified the App's JWT) --------------------
    def _user(self, login: str, name: str | None) -> dict[str, Any]:
        """``GET /user``'s answer for ``login``."""
        return {**self._host.views.user(login), "name": name, "company": None, "blog": "", "location": None,
                "email": None, "hireable": None, "bio": None, "public_repos": 0, "public_gists": 0,
                "followers": 0, "following": 0, "created_at": "2024-01-15T09:00:00Z",
                "updated_at": "2024-01-15T09:00:00Z"}

    def _get_viewer(self, _p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        """The token's user; a classic token's scopes ride along in ``x-oauth-scopes``."""
        reply = Reply(200, self._user(self._host.state.viewer, None))
        if self._host.oauth_scopes is not None:
            reply.headers["x-oauth-scopes"] = self._host.oauth_scopes
        return reply

    # -- a person's user token -------------------------------------------------------------------
    def _get_user(self, user: User, _p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        return Reply(200, self._user(user.login, user.name))

    def _list_user_orgs(self, user: User, _p: dict[str, str], q: dict[str, str], _b: Any) -> Reply:
        orgs = [self._org(user.orgs[key]) for key in sorted(user.orgs)]
        return self._page(orgs, "/user/orgs", q)

    def _get_user_membership(self, user: User, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        """An active membership, or GitHub's 404 to someone who is not a member."""
        if not user.in_org(p["org"]):
            return error(404, "Not Found")
        org, api = user.orgs[p["org"].lower()], self._host.url
        return Reply(200, {"url": f"{api}/orgs/{org}/memberships/{user.login}", "state": "active", "role": "member",
                           "organization_url": f"{api}/orgs/{org}", "organization": self._org(org),
                           "user": self._host.views.user(user.login)})

    def _check_membership(self, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        """204 for a member, 404 otherwise (GitHub's answer to a caller who may see the org's members)."""
        person = self._host.people.user(p["username"])
        return Reply(204) if person is not None and person.in_org(p["org"]) else error(404, "Not Found")

    def _team_membership(self, asking: User | None, p: dict[str, str]) -> Reply:
        """``username``'s active membership of the team, or GitHub's 404 for "no team membership";
        a person outside the organisation cannot see its teams, so they get the same 404."""
        if asking is not None and not asking.in_org(p["org"]):
            return error(404, "Not Found")
        person = self._host.people.user(p["username"])
        role = person.team_role(p["org"], p["team_slug"]) if person is not None else None
        if person is None or role is None:
            return error(404, "Not Found")
        team_id = self._host.state.user_id(f"team:{p['org']}/{p['team_slug']}")
        return Reply(200, {"url": f"{self._host.url}/teams/{team_id}/memberships/{person.login}",
                           "role": role, "state": "active"})

    def _org(self, login: str) -> dict[str, Any]:
        api, uid = self._host.url, self._host.state.user_id(login)
        return {"login": login, "id": uid, "node_id": node_id("Organization", uid), "url": f"{api}/orgs/{login}",
                "repos_url": f"{api}/orgs/{login}/repos", "events_url": f"{api}/orgs/{login}/events",
                "hooks_url": f"{api}/orgs/{login}/hooks", "issues_url": f"{api}/orgs/{login}/issues",
                "members_url": f"{api}/orgs/{login}/members{{/member}}",
                "public_members_url": f"{api}/orgs/{login}/public_members{{/member}}",
                "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4", "description": None}

    def _get_rate_limit(self, _p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        """The core quota as the headers of the last answer reported it, and an untouched search
        quota; GitHub lists more resources, which nothing here uses."""
        core = self._host.quota()
        # GitHub always lists the search quota too (the schema requires it): 30 a minute, unused.
        search = {"limit": 30, "remaining": 30, "reset": core["reset"], "used": 0}
        return Reply(200, {"resources": {"core": core, "search": search}, "rate": core})

    def _get_app(self, _p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        apps = self._host.apps
        with apps.lock:
            assert apps.app is not None
            live = sum(not i.revoked for i in apps.installations.values())
            return Reply(200, app_view(apps.app, self._host.views, live))

    def _installation_reply(self, installation_id: int | None) -> Reply:
        apps = self._host.apps
        with apps.lock:
            found = None if installation_id is None else apps.installation(installation_id)
            if found is None or apps.app is None:
                return error(404, "Not Found")
            return Reply(200, installation_view(apps.app, found, self._host.views))

    def _get_installation(self, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        return self._installation_reply(int(p["installation_id"]))

    def _repo_installation(self, repo: Repo, _p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        found = self._host.apps.installation_for(repo.owner, repo.name)
        return self._installation_reply(found.id if found else None)

    def _create_token(self, p: dict[str, str], _q: dict[str, str], body: Any) -> Reply:
        apps, state = self._host.apps, self._host.state
        installation = apps.installation(int(p["installation_id"]))
        if installation is None:
            return error(404, "Not Found")
        body = body or {}
        # A token may narrow what the installation was granted, never widen it.
        wanted = body.get("permissions") or {}
        if any(_LEVELS[level] > _LEVELS.get(installation.permissions.get(name, ""), 0)
               for name, level in wanted.items()):
            return error(422, "The permissions requested are not granted to this installation.")
        repos = installation.repos
        if body.get("repositories") or body.get("repository_ids"):
            with state.lock:
                by_id = {r.id: r.name for r in state.repos.values()}
            names = [*body.get("repositories", ()),
                     *(by_id.get(i, "") for i in body.get("repository_ids", ()))]
            account = installation.account
            if not all(state.find(account, n) and installation.covers(account, n) for n in names):
                return error(422, "There is at least one repository that does not exist or is "
                                  "not accessible to the parent installation.")
            repos = frozenset(n.lower() for n in names)
        issued = apps.issue(installation, dict(wanted or installation.permissions), repos)
        return Reply(201, token_view(issued, state, self._host.views))
