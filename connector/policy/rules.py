"""Rules about what a request may ask for, checked before any GitHub call. Pure functions, no HTTP.

The schema already rejects what it can express (lengths, patterns, key counts); this module holds the
rules it cannot: the default repository, the operator's repository allowlist, GitHub's byte limit on
a dispatch payload, and adding only labels the repository already has.
"""

from __future__ import annotations

import difflib
import fnmatch
import html
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from ..config.allowlist import RepoAllowlist
from ..errors import BadRequest, FieldError, GitHubForbidden, LabelNotAllowed, RepoNotAllowed, UnknownLabel
from ..record import note
from ..types import Repository

__all__ = [
    "resolve_repository",
    "dispatch_payload",
    "existing_labels",
    "allowed_labels",
    "comment_body",
    "require_write_access",
    "new_request_id",
    "MAX_CLIENT_PAYLOAD_BYTES",
    "MAX_COMMENT_REQUEST_BYTES",
    "MAX_DISPATCH_REQUEST_BYTES",
]

# A GitHub @mention: a login, or org/team, not preceded by an ASCII word character (so not an
# e-mail address). GitHub's mention filter (Ruby, whose \w is ASCII) takes "café@mona" and
# "(@mona)," as mentions; a Unicode \w here would not have counted the first.
_MENTION = re.compile(r"(?<![A-Za-z0-9_@/`])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9._-]+)?)")
MAX_COMMENT_CHARACTERS = 65_536
# The most bytes a request carrying a legal comment can take: every character sent JSON-escaped as
# a surrogate pair ("\ud83d\ude80", 12 bytes), plus room for the other fields.
MAX_COMMENT_REQUEST_BYTES = MAX_COMMENT_CHARACTERS * 12 + 4096

# GitHub: "client_payload ... must be less than 64 KB"; measured on the JSON it receives.
MAX_CLIENT_PAYLOAD_BYTES = 64 * 1024
# The most bytes a request carrying a legal payload can take: sent JSON-escaped, each UTF-8 byte
# can become up to 3 (a 4-byte character is a 12-byte surrogate pair), plus room for other fields.
MAX_DISPATCH_REQUEST_BYTES = MAX_CLIENT_PAYLOAD_BYTES * 3 + 4096


def resolve_repository(body: dict[str, Any], default: tuple[str, str] | None,
                       allowlists: Iterable[RepoAllowlist]) -> Repository:
    """The repository a request names (or the configured default), if every allowlist allows it."""
    owner, name = body.get("owner"), body.get("repo")
    if owner and name:
        repo = Repository(owner, name)
    elif owner is None and name is None and default is not None:
        repo = Repository(*default)
    else:
        missing = [field for field, value in (("owner", owner), ("repo", name)) if not value]
        hint = (
            "give both owner and repo, or neither to use the default repository"
            if default is not None
            else "this connector has no default repository, so give both owner and repo"
        )
        raise BadRequest([FieldError(f"$.{field}", f"is required: {hint}") for field in missing])
    if not all(allowlist.allows(repo.owner, repo.name) for allowlist in allowlists):
        # Says nothing about which repositories are allowed: that is the operator's business.
        raise RepoNotAllowed(
            f"{repo.full_name} is not among the repositories this connector may act on; ask the "
            "operator, or use a repository you were told to work in."
        )
    return repo


def new_request_id() -> str:
    """A request_id for a dispatch that came without one; the audit log names it, as the caller's."""
    request_id = uuid.uuid4().hex
    note(request_id=request_id)
    return request_id


def dispatch_payload(client_payload: dict[str, Any] | None, request_id: str,
                     *, field: str = "$.client_payload") -> dict[str, Any]:
    """The client_payload GitHub receives: the caller's keys plus request_id, within GitHub's size
    limit; ``field`` is where the caller's data was in the request, for the error."""
    payload = {**(client_payload or {}), "request_id": request_id}
    size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size >= MAX_CLIENT_PAYLOAD_BYTES:
        raise BadRequest([FieldError(
            field,
            f"makes a client_payload of {size} bytes as JSON; GitHub accepts less than "
            f"{MAX_CLIENT_PAYLOAD_BYTES} bytes, so send less data (for example a reference to it)",
        )])
    return payload


def allowed_labels(requested: list[str], patterns: tuple[str, ...]) -> list[str]:
    """``requested`` if every name matches one of the operator's patterns (case-insensitive)."""
    if not patterns:
        return requested
    refused = [name for name in requested
               if not any(fnmatch.fnmatchcase(name.casefold(), pattern.casefold()) for pattern in patterns)]
    if refused:
        raise LabelNotAllowed(
            f"This connector may only add labels matching {', '.join(patterns)}; "
            f"{', '.join(repr(name) for name in refused)} {'is' if len(refused) == 1 else 'are'} not among them.",
            refused=refused,
        )
    return requested


def existing_labels(requested: list[str], available: tuple[str, ...], repository: str) -> list[str]:
    """The repository's own spelling of each requested label; refuses names it does not have.

    GitHub matches label names without regard to case, and would create any name it does not know.
    """
    by_folded = {name.casefold(): name for name in available}
    unknown = [name for name in requested if name.casefold() not in by_folded]
    if unknown:
        suggestions = {
            name: [by_folded[match] for match in
                   difflib.get_close_matches(name.casefold(), list(by_folded), n=3, cutoff=0.6)]
            for name in unknown
        }
        raise UnknownLabel(
            _unknown_labels_detail(suggestions, available, repository),
            unknown=unknown,
            suggestions=[{"label": name, "did_you_mean": matches} for name, matches in suggestions.items()],
        )
    # "Bug" and "bug" are distinct to the schema's uniqueItems but the same label to GitHub.
    return list(dict.fromkeys(by_folded[name.casefold()] for name in requested))


def _unknown_labels_detail(suggestions: dict[str, list[str]], available: tuple[str, ...], repository: str) -> str:
    parts = []
    for name, matches in suggestions.items():
        hint = f"; did you mean {' or '.join(repr(match) for match in matches)}?" if matches else ""
        parts.append(f"label {name!r} does not exist in {repository}{hint}")
    listing = ", ".join(sorted(available, key=str.casefold)[:30]) or "none"
    sentence = "; ".join(parts)
    return sentence + ("" if sentence.endswith("?") else ".") + f" Existing labels: {listing}."


def mentions(body: str) -> set[str]:
    """The logins and teams ``body`` would notify, counted generously: as written, and with HTML
    entities decoded (GitHub renders "&#64;mona" as "@mona" before it looks for mentions). Mentions
    inside code blocks, which GitHub leaves alone, are counted too, except right after a backtick."""
    return {match.lower() for text in (body, html.unescape(body)) for match in _MENTION.findall(text)}


def comment_body(body: str, *, max_mentions: int, footer: str | None) -> str:
    """The comment to post: at most ``max_mentions`` distinct @mentions, plus the footer if any.

    The cap keeps an assistant that was steered by text it read from pinging a whole organisation.
    """
    mentioned = sorted(mentions(body))
    if len(mentioned) > max_mentions:
        raise BadRequest([FieldError(
            "$.body",
            f"mentions {len(mentioned)} people or teams (@{', @'.join(mentioned[:10])}); this connector "
            f"allows at most {max_mentions} per comment, so mention fewer",
        )])
    if footer is None:
        return body
    posted = f"{body}\n\n{footer}"
    if len(posted) > MAX_COMMENT_CHARACTERS:
        raise BadRequest([FieldError(
            "$.body",
            f"must be at most {MAX_COMMENT_CHARACTERS - len(footer) - 2} characters long here, because "
            "this connector adds an attribution footer",
        )])
    return posted


def require_write_access(repository: dict[str, Any], name: str) -> None:
    """Refuse when GitHub says the credentials cannot push to the repository.

    ``permissions`` in a repository's JSON describes the connector's own access; it is absent for
    some credentials, in which case only the real write can tell.
    """
    if (repository.get("permissions") or {}).get("push") is False:
        raise GitHubForbidden(
            f"The connector's GitHub credentials can read {name} but not write to it; a "
            "repository_dispatch event needs Contents: write. The operator has to grant it.",
            required_permission="contents=write",
        )
