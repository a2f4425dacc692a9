"""What GitHub knows about a pull request beyond its issue: reviews, review requests, checks and
statuses on the head commit, mergeability, and size; and the verdicts GitHub derives from them.

Both the REST views (``pulls/get``) and the GraphQL resolvers read these, so the two APIs never
disagree about one pull request. Values are stored as GraphQL's enum values (``APPROVED``,
``COMPLETED``); REST's lower-case spellings are accepted on the way in and given back by the views.

GitHub's rules, as its documentation and API answers show them:

* ``reviewDecision``: each reviewer's latest APPROVED or CHANGES_REQUESTED review counts (a later
  COMMENTED one does not undo it; DISMISSED does); any CHANGES_REQUESTED wins, else any APPROVED,
  else REVIEW_REQUIRED. The double plays a base branch that requires a review.
* ``statusCheckRollup.state``: over the latest check run per name and latest status per context;
  any failing one is FAILURE, else any not finished is PENDING, else SUCCESS (no checks: no rollup).
* ``mergeStateStatus``: UNKNOWN once closed, DRAFT, UNKNOWN (not computed yet), DIRTY (conflicts), BLOCKED (the
  required review is missing or changes were requested), UNSTABLE (checks not passing), else CLEAN.
* A submitted review answers its reviewer's review request, which then disappears.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["ASSOCIATIONS", "CheckRun", "CommitStatus", "PullFacts", "Review", "review_decision",
           "rollup_state"]

ASSOCIATIONS = ("COLLABORATOR", "CONTRIBUTOR", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN", "MEMBER",
                "NONE", "OWNER")
MERGEABLE = ("MERGEABLE", "CONFLICTING", "UNKNOWN")
MERGE_STATES = ("BEHIND", "BLOCKED", "CLEAN", "DIRTY", "DRAFT", "HAS_HOOKS", "UNKNOWN", "UNSTABLE")
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
CHECK_STATUSES = ("QUEUED", "IN_PROGRESS", "COMPLETED", "WAITING", "PENDING", "REQUESTED")
CHECK_CONCLUSIONS = ("ACTION_REQUIRED", "CANCELLED", "FAILURE", "NEUTRAL", "SKIPPED", "STALE", "STARTUP_FAILURE",
                     "SUCCESS", "TIMED_OUT")
STATUS_STATES = ("ERROR", "EXPECTED", "FAILURE", "PENDING", "SUCCESS")
_PASSING = frozenset({"SUCCESS", "NEUTRAL", "SKIPPED"})


def enum(value: str, allowed: tuple[str, ...], what: str) -> str:
    """``value`` as GraphQL spells it (``changes_requested`` is CHANGES_REQUESTED), or ValueError."""
    upper = value.upper()
    if upper not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return upper


@dataclass
class Review:
    login: str
    state: str  # REVIEW_STATES
    submitted_at: str


@dataclass
class CheckRun:
    name: str
    status: str  # CHECK_STATUSES
    conclusion: str | None  # CHECK_CONCLUSIONS once COMPLETED, else None
    started_at: str


@dataclass
class CommitStatus:
    context: str
    state: str  # STATUS_STATES
    description: str | None
    created_at: str


@dataclass
class PullFacts:
    """A pull request's review, check and size facts (defaults: one changed file, nothing reviewed)."""

    author_association: str | None = None  # None: OWNER for the repository's owner, else CONTRIBUTOR
    additions: int = 10
    deletions: int = 2
    files: list[str] = field(default_factory=lambda: ["README.md"])
    mergeable: str | None = None  # None: MERGEABLE while open, UNKNOWN once closed
    merge_state: str | None = None  # None: derived (module docstring)
    requested_reviewers: list[str] = field(default_factory=list)  # logins
    requested_teams: list[str] = field(default_factory=list)  # slugs of teams of the repository's owner
    reviews: list[Review] = field(default_factory=list)  # oldest first
    check_runs: list[CheckRun] = field(default_factory=list)  # the latest per name
    statuses: list[CommitStatus] = field(default_factory=list)  # the latest per context

    def set(self, *, author_association: str | None = None, additions: int | None = None,
            deletions: int | None = None, files: Iterable[str] | None = None, mergeable: str | None = None,
            merge_state_status: str | None = None, requested_reviewers: Iterable[str] | None = None,
            requested_teams: Iterable[str] | None = None) -> None:
        """Replace the facts given (``None``: left as they are)."""
        if author_association is not None:
            self.author_association = enum(author_association, ASSOCIATIONS, "author_association")
        if additions is not None:
            self.additions = additions
        if deletions is not None:
            self.deletions = deletions
        if files is not None:
            self.files = list(files)
        if mergeable is not None:
            self.mergeable = enum(mergeable, MERGEABLE, "mergeable")
        if merge_state_status is not None:
            self.merge_state = enum(merge_state_status, MERGE_STATES, "merge_state_status")
        if requested_reviewers is not None:
            self.requested_reviewers = list(requested_reviewers)
        if requested_teams is not None:
            self.requested_teams = list(requested_teams)

    def review(self, login: str, state: str, when: str) -> None:
        self.reviews.append(Review(login, enum(state, REVIEW_STATES, "a review's state"), when))
        if state.upper() != "PENDING":  # a submitted review answers the request for it
            self.requested_reviewers = [r for r in self.requested_reviewers if r.lower() != login.lower()]

    def check_run(self, name: str, status: str, conclusion: str | None, when: str) -> None:
        status = enum(status, CHECK_STATUSES, "a check run's status")
        if (status == "COMPLETED") != (conclusion is not None):
            raise ValueError("a check run has a conclusion exactly when its status is completed")
        concluded = None if conclusion is None else enum(conclusion, CHECK_CONCLUSIONS, "a check run's conclusion")
        self.check_runs = [r for r in self.check_runs if r.name != name] + [CheckRun(name, status, concluded, when)]

    def status(self, context: str, state: str, description: str | None, when: str) -> None:
        found = CommitStatus(context, enum(state, STATUS_STATES, "a commit status's state"), description, when)
        self.statuses = [s for s in self.statuses if s.context != context] + [found]

    def mergeable_now(self, is_open: bool) -> str:
        return self.mergeable or ("MERGEABLE" if is_open else "UNKNOWN")

    def merge_state_status(self, *, is_open: bool, draft: bool) -> str:
        if self.merge_state is not None:
            return self.merge_state
        mergeable, rollup = self.mergeable_now(is_open), rollup_state(self.check_runs, self.statuses)
        if not is_open:
            return "UNKNOWN"
        if draft:
            return "DRAFT"
        if mergeable == "UNKNOWN":
            return "UNKNOWN"
        if mergeable == "CONFLICTING":
            return "DIRTY"
        if review_decision(self.reviews) != "APPROVED":
            return "BLOCKED"
        return "CLEAN" if rollup in (None, "SUCCESS") else "UNSTABLE"


def review_decision(reviews: Iterable[Review]) -> str:
    latest: dict[str, str] = {}
    for review in reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED"):
            latest[review.login.lower()] = review.state
        elif review.state == "DISMISSED":
            latest.pop(review.login.lower(), None)
    if "CHANGES_REQUESTED" in latest.values():
        return "CHANGES_REQUESTED"
    return "APPROVED" if "APPROVED" in latest.values() else "REVIEW_REQUIRED"


def context_state(item: CheckRun | CommitStatus) -> str:
    """One context as the rollup counts it: SUCCESS, PENDING or FAILURE."""
    if isinstance(item, CommitStatus):
        return {"SUCCESS": "SUCCESS", "PENDING": "PENDING", "EXPECTED": "PENDING"}.get(item.state, "FAILURE")
    if item.status != "COMPLETED":
        return "PENDING"
    return "SUCCESS" if item.conclusion in _PASSING else "FAILURE"


def rollup_state(check_runs: Iterable[CheckRun], statuses: Iterable[CommitStatus]) -> str | None:
    items: list[CheckRun | CommitStatus] = [*check_runs, *statuses]
    states = {context_state(item) for item in items}
    if not states:
        return None
    return "FAILURE" if "FAILURE" in states else "PENDING" if "PENDING" in states else "SUCCESS"
