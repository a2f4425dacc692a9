"""How the double picks a reply, in the order GitHub applies its checks.

Order matters because tests assert on it: a request is first matched and checked against
GitHub's OpenAPI schema (and the verdict recorded, whatever happens next), then bad
credentials win (401), then an injected fault, then an unknown route or repository (404),
unparseable JSON (400), a schema violation (422), and only then the operation itself. A
crash inside an operation is a bug in the double, so it becomes a loud 500 rather than a
client left waiting.

Credentials are GitHub's four kinds: the personal access token the double was built with,
the registered GitHub App's JWT (only, and always, on the App's own operations), the
installation tokens the double issued, and user tokens from the web flow (``users``). An
installation token reaches only the repositories its installation covers; any other repository
answers 404, because GitHub hides what a token may not see rather than admit it exists. A user
token acts as its person: a private repository they have no permission on is 404, and a write
their permission level does not allow is 403 naming the permission, as GitHub answers an app.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from urllib.parse import unquote

from . import versions
from .apps import JWT_OPERATIONS, NOT_A_JWT, Apps, IssuedToken
from .faults import FaultQueue
from .records import DOCS, RecordedRequest, Reply, error
from .routes import Routes
from .schemas import DEFAULT_VERSION, Operation, SchemaBook
from .state import Repo, State
from .users import LEVELS, OAuthApp, People, User

__all__ = ["Caller", "Checked", "authenticate", "authorized", "check", "decide"]


@dataclass
class Checked:
    """The schema verdict on one request (the errors themselves go on the record)."""

    op: Operation | None = None
    params: dict[str, str] = field(default_factory=dict)
    path_errors: list[str] = field(default_factory=list)
    bad_json: bool = False


@dataclass
class Caller:
    """Who a request authenticated as: ``grant`` is set for an installation token, ``user`` (and
    the app that issued their token) for a user token."""

    grant: IssuedToken | None = None
    user: User | None = None
    app: OAuthApp | None = None

    def sees(self, repo: Repo) -> bool:
        if self.user is not None:
            reachable = self.app is None or self.app.reaches(repo.full_name)
            return reachable and self.user.level_on(repo.full_name, repo.private) > 0
        return self.grant is None or self.grant.covers(repo.owner, repo.name)

    def refusal(self, repo: Repo, op_id: str, doc: str) -> Reply | None:
        """GitHub's 403 when a person's role on ``repo`` is too weak for ``op_id``, else None."""
        needed = NEEDS.get(op_id)
        if self.user is None or needed is None:
            return None
        role, permission = needed
        if self.user.level_on(repo.full_name, repo.private) >= LEVELS[role]:
            return None
        if self.app is not None and self.app.kind == "oauth_app":
            # An OAuth App's token acts with the person's role and has no fine-grained permissions
            # to name; GitHub's answer then is its older "Must have ... access" (as for admin
            # rights), which is the double's best reading, not a documented message.
            return error(403, f"Must have {'push' if role == 'write' else role} access to repository.", doc)
        return Reply(403, {"message": "Resource not accessible by integration", "documentation_url": doc,
                           "status": "403"}, {"x-accepted-github-permissions": permission})


# The role a person needs for each write (a read needs only to see the repository), and the App
# permission GitHub names in x-accepted-github-permissions when their token may not.
NEEDS = {
    "issues/create-comment": ("read", "issues=write; pull_requests=write"),  # anyone who sees it may
    "issues/add-labels": ("triage", "issues=write; pull_requests=write"),
    "repos/create-dispatch-event": ("write", "contents=write"),
    "actions/cancel-workflow-run": ("write", "actions=write"),
    "actions/create-workflow-dispatch": ("write", "actions=write"),
    "actions/re-run-workflow": ("write", "actions=write"),
    "actions/re-run-workflow-failed-jobs": ("write", "actions=write"),
}


def authorized(token: str | None, header: str | None) -> bool:
    """Accept ``token``/``Bearer`` with the expected token; a ``None`` token accepts all."""
    if token is None:
        return True
    scheme, _, value = (header or "").strip().partition(" ")
    return scheme.lower() in ("token", "bearer") and value.strip() == token


# Operations GitHub also answers without credentials that the connector calls that way.
ANONYMOUS_OPERATIONS = frozenset({"rate-limit/get"})


def authenticate(op: Operation | None, header: str | None, *, token: str | None,
                 apps: Apps, people: People | None = None) -> Caller | Reply:
    """The caller behind ``header``, or GitHub's 401 for it."""
    scheme, _, value = (header or "").strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if op is not None and op.id in JWT_OPERATIONS:
        # GitHub takes only the App's JWT here (not a PAT, not an installation token), so
        # even an open double (token=None) asks for one: a client must send what GitHub wants.
        problem = apps.verify_jwt(value) if scheme == "bearer" else NOT_A_JWT
        return Caller() if problem is None else error(401, problem, DOCS)
    if token is not None and authorized(token, header):
        return Caller()
    if op is not None and op.id in ANONYMOUS_OPERATIONS and not header:
        return Caller()  # GitHub answers these without credentials (for the caller's address)
    issued = apps.token(value) if scheme in ("token", "bearer") else None
    if issued is not None:  # checked even on an open double, so token refresh can be tested
        return Caller(issued) if issued.live() else error(401, "Bad credentials", DOCS)
    held = people.by_access_token(value) if people is not None and scheme in ("token", "bearer") else None
    if held is not None and people is not None:  # a person's user token: expired or revoked is 401
        user = people.user(held.login)
        if not held.live() or user is None:
            return error(401, "Bad credentials", DOCS)
        return Caller(user=user, app=people.apps.get(held.client_id))
    return Caller() if token is None else error(401, "Bad credentials", DOCS)


def check(schemas: SchemaBook, rec: RecordedRequest, routed: bool, version: str = DEFAULT_VERSION) -> Checked:
    """Match ``rec`` to an operation, parse its JSON body, and record any departure from API
    ``version``'s description of it."""
    match = schemas.match(rec.method, rec.path) if routed else None
    if match is None:
        rec.schema_errors.append(f"no such route: {rec.method} {rec.path}")
        return Checked()
    op, params = schemas.operation(match[0].id, version), match[1]
    rec.operation_id = op.id
    checked = Checked(op, params, schemas.check_path(op, params))
    if rec.raw_body.strip():
        try:
            rec.body = jsonlib.loads(rec.raw_body)
        except ValueError:
            checked.bad_json = True
    rec.schema_errors.extend(checked.path_errors)
    if checked.bad_json:
        rec.schema_errors.append("Problems parsing JSON")
    else:
        rec.schema_errors.extend(schemas.check_request(
            op, rec.query, rec.body, bool(rec.raw_body.strip())))
    return checked


def decide(rec: RecordedRequest, routed: bool, authorization: str | None, *, token: str | None,
           schemas: SchemaBook, faults: FaultQueue, state: State, routes: Routes,
           apps: Apps, people: People | None = None) -> Reply | None:
    """Check the request, then pick the reply (``None`` = drop the connection)."""
    asked = versions.asked(rec)
    checked = check(schemas, rec, routed, versions.served(asked))
    op = checked.op
    doc = op.doc_url if op else DOCS
    unsupported = versions.refusal(asked)  # read before credentials, like the other headers
    if unsupported is not None:
        return unsupported
    caller = authenticate(op, authorization, token=token, apps=apps, people=people)
    if isinstance(caller, Reply):
        return caller
    rec.actor = caller.user.login if caller.user is not None else None
    fault = faults.take(rec.method, rec.path)
    if fault is not None and not fault.after:
        replaced, override = fault.strike_first(doc)
        if replaced:
            return override
    if op is None or checked.path_errors:
        return error(404, "Not Found", doc)
    if checked.bad_json:
        return error(400, "Problems parsing JSON", doc)
    if rec.schema_errors:
        return error(422, "Invalid request.\n\n" + rec.schema_errors[0], doc)
    params = {k: unquote(v) for k, v in checked.params.items()}
    repo = None
    if "owner" in params:  # a repository operation: the caller must be able to see it
        repo = state.find(params["owner"], params["repo"])
        if repo is None or not caller.sees(repo):
            return error(404, "Not Found", doc)
        refused = caller.refusal(repo, op.id, doc)
        if refused is not None:
            return refused
    try:
        reply = routes(op.id, repo, params, rec.query, rec.body, caller.user, version=versions.served(asked))
    except Exception as exc:  # a bug in the double: make it loud, not a hung client
        rec.schema_errors.append(f"double crashed: {exc!r}")
        return error(500, f"GitHub double error: {exc!r}", doc)
    if fault is not None and fault.after:  # applied, and now its answer goes wrong on the way back
        return fault.strike_after(doc, reply)
    if isinstance(reply.body, dict) and reply.body.get("documentation_url", doc) is None:
        reply.body["documentation_url"] = doc
    return reply
