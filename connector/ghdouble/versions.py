"""REST API versions: which one a request asked for, and what that version's answers leave out.

GitHub reads ``X-GitHub-Api-Version``: without it a request gets 2022-11-28, a version GitHub
does not serve is a 400, and the answer says which version it used
(``x-github-api-version-selected``). 2026-03-10 removed fields from the objects the double
serves (a pull request's ``merge_commit_sha`` and singular ``assignee``, ``/rate_limit``'s
``rate``, every repository's ``has_downloads``, ...). Rather than keep a hand-written list,
the fields are derived from the two descriptions the subset ships: whatever a 2022-11-28
response schema has and the 2026-03-10 one lacks is removed from the answer, and a field that
stopped being nullable without being required (an issue's ``pull_request.merged_at``) is left
out when it would be null, in one place (``finish``) applied where every answer is sent. ``finish`` also checks the answer against the
description of the version asked for and notes any departure on the request's record
(``response_errors``), so a test can tell the double (or a seeding helper) answered untruly.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from .records import RecordedRequest, Reply, error
from .schemas import DEFAULT_VERSION, SchemaBook

__all__ = ["DOCS", "HEADER", "SUPPORTED", "asked", "finish", "refusal", "removed_fields", "served"]

HEADER = "x-github-api-version"
SUPPORTED = (DEFAULT_VERSION, "2026-03-10")
DOCS = "https://docs.github.com/rest/about-the-rest-api/api-versions"

Path = tuple[str, ...]  # keys from the body's root; "*" stands for every item of an array
_removed: dict[tuple[int, str, str, str], list[Path]] = {}
_NULL = "\0null"  # a path's last key marks a field dropped only when null


def asked(rec: RecordedRequest) -> str | None:
    """The version the request named (``None``: no header), noted on its record."""
    rec.api_version = rec.headers.get(HEADER)
    return rec.api_version


def served(version: str | None) -> str:
    """The version whose description applies: the one named, or the default."""
    return version if version in SUPPORTED else DEFAULT_VERSION


def refusal(version: str | None) -> Reply | None:
    """GitHub's 400 for a version it does not serve ("If you specify a version that does not exist,
    you will receive a 400 error"); the wording of the message is the double's reading."""
    if version is None or version in SUPPORTED:
        return None
    return error(400, f"Unsupported 'X-GitHub-Api-Version' header: {version}. "
                      f"Supported versions are: {', '.join(SUPPORTED)}.", DOCS)


def _nullable(schema: Any) -> bool:
    return isinstance(schema, dict) and list(schema) == ["anyOf"] and len(schema["anyOf"]) == 2 \
        and schema["anyOf"][1] == {"type": "null"}


def _plain(schema: Any) -> Any:
    """``schema`` without the ``anyOf: [X, null]`` wrapper that ``nullable`` became."""
    return schema["anyOf"][0] if _nullable(schema) else schema


def _diff(old: Any, new: Any, at: Path) -> Iterator[Path]:
    old, new = _plain(old), _plain(new)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(old.get(key), list) and isinstance(new.get(key), list):
            for a, b in zip(old[key], new[key], strict=False):
                yield from _diff(a, b, at)
    if "items" in old and "items" in new:
        yield from _diff(old["items"], new["items"], (*at, "*"))
    kept, required = new.get("properties", {}), new.get("required", [])
    for name, sub in old.get("properties", {}).items():
        if name not in kept:
            yield (*at, name)
        else:
            if _nullable(sub) and not _nullable(kept[name]) and name not in required:
                yield (*at, name, _NULL)
            yield from _diff(sub, kept[name], (*at, name))


def removed_fields(book: SchemaBook, op_id: str, status: int | str, version: str) -> list[Path]:
    """Where ``version``'s answer for ``op_id``/``status`` lacks a field the default one has (a path
    ending in ``_NULL``: the field before it, when it is null)."""
    key = (id(book), op_id, str(status), version)
    if key not in _removed:
        old = book.operation(op_id).responses.get(str(status))
        new = book.operation(op_id, version).responses.get(str(status))
        _removed[key] = [] if version == DEFAULT_VERSION or old is None or new is None else \
            sorted(set(_diff(old, new, ())))
    return _removed[key]


def _drop(node: Any, path: Path) -> None:
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(node, list) and rest:
            for item in node:
                _drop(item, rest)
    elif isinstance(node, dict):
        if not rest:
            node.pop(head, None)
        elif rest == (_NULL,):
            if head in node and node[head] is None:
                del node[head]
        elif head in node:
            _drop(node[head], rest)


def finish(rec: RecordedRequest, reply: Reply, book: SchemaBook, *, check: bool = True) -> Reply:
    """Shape ``reply`` for the version ``rec`` asked for, and (with ``check``) check it against that version."""
    version = served(rec.api_version)
    reply.headers.setdefault("x-github-api-version-selected", version)
    if rec.operation_id is None or not isinstance(reply.body, dict | list):
        return reply
    paths = removed_fields(book, rec.operation_id, reply.status, version)
    if paths:
        reply.body = copy.deepcopy(reply.body)
        for path in paths:
            _drop(reply.body, path)
    if check and 200 <= reply.status < 300 and str(reply.status) in book.operation(rec.operation_id, version).responses:
        rec.response_errors = book.check_response(rec.operation_id, reply.status, reply.body, version)
    return reply
