"""Hostile text and numbers through every operation (property-based; tests/test_hostile_input.py
has the hand-picked cases): a 400 naming the field, no GitHub call, and an audit line each.

Property-based (hypothesis): every string field of every operation's body (the event payload's
values included) gets text holding a lone surrogate or a NUL among ordinary and control
characters, and every integer field a number no JSON peer reads as sent (``1e400``, thousands of
digits). Bodies are sent as raw bytes, as an attacker would, through the app in process.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.app import create_app
from connector.mcp.tools import tools_from_document
from connector.spec.document import advertised_document, document_for
from tests.conftest import API_KEY, LOG_DIR, OWNER, REPO

TOOLS = {tool.name: tool for tool in tools_from_document(advertised_document(document_for(has_default_repo=True)))}
# A valid body per operation; each example replaces one field of it.
VALID: dict[str, dict[str, Any]] = {
    "dispatch_event": {"event_type": "deploy", "client_payload": {"env": "staging"}, "request_id": "r-1"},
    "list_pull_requests": {"state": "all", "base": "main"},
    "comment_on_pull_request": {"number": 1, "body": "Looks right.", "request_id": "r-2"},
    "add_labels_to_pull_request": {"number": 1, "labels": ["bug"], "request_id": "r-3"},
    "list_dispatch_events": {},
    "list_workflow_runs": {"event": "push", "branch": "main"},
    "get_workflow_run": {"run_id": 1},
    "get_dispatch_status": {"request_id": "r-4"},
    "cancel_workflow_run": {"run_id": 1, "request_id": "r-5"},
    "get_pull_request": {"number": 1, "max_files": 5},
    "get_job_logs": {"run_id": 1, "tail_lines": 10},
    "rerun_workflow_run": {"run_id": 1, "failed_only": True, "request_id": "r-6"},
    "dispatch_workflow": {"workflow": "deploy.yml", "ref": "main", "inputs": {"environment": "staging"},
                          "request_id": "r-7"},
}
NOT_TEXT = st.sampled_from(["\ud800", "\udfff", "\udc00\ud800", "\x00"])
ORDINARY = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


def hostile_text() -> st.SearchStrategy[str]:
    return st.tuples(ORDINARY, NOT_TEXT, ORDINARY).map("".join)


def fields(name: str) -> list[tuple[tuple[str, ...], str]]:
    """(path, JSON type) of every string and integer field the operation's schema names."""
    found = []

    def walk(schema: dict[str, Any], path: tuple[str, ...]) -> None:
        for field, sub in schema.get("properties", {}).items():
            kinds = sub.get("type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if "object" in kinds:
                walk(sub, (*path, field))
            elif "array" in kinds:
                found.append(((*path, field, 0), "string"))
            elif "string" in kinds or "integer" in kinds:
                found.append(((*path, field), "string" if "string" in kinds else "integer"))

    walk(TOOLS[name].input_schema, ())
    return found + ([(("client_payload", "env"), "string")] if name == "dispatch_event" else [])


CASES = [(name, path, kind) for name in TOOLS for path, kind in fields(name)]


def with_value(body: dict[str, Any], path: tuple[Any, ...], marker: str) -> dict[str, Any]:
    """``body`` with ``marker`` at ``path`` (lists and objects created on the way)."""
    copy = json.loads(json.dumps(body))
    node: Any = copy
    for step, nxt in zip(path, path[1:], strict=False):
        if isinstance(step, int):
            while len(node) <= step:
                node.append({} if isinstance(nxt, str) else [])
            node = node[step]
        else:
            node = node.setdefault(step, [] if isinstance(nxt, int) else {})
    last = path[-1]
    if isinstance(last, int):
        node[:] = [marker]
    else:
        node[last] = marker
    return copy


@pytest.fixture(scope="module")
def app_and_audit(github_double):
    audit = LOG_DIR / f"hostile-audit-{uuid.uuid4().hex}.log"
    from connector.config.settings import Settings
    from connector.types import Secret
    from tests.conftest import GITHUB_TOKEN

    settings = Settings(api_keys=(Secret(API_KEY),), github_token=Secret(GITHUB_TOKEN),
                        github_api_url=github_double.url, default_repo=(OWNER, REPO),
                        audit_log=audit).validated()
    client = create_app(settings).test_client(headers={"Authorization": f"Bearer {API_KEY}"})
    return client, audit


@pytest.mark.parametrize(("name", "path", "kind"), CASES, ids=[f"{n}:{'.'.join(map(str, p))}" for n, p, _ in CASES])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_text(), huge=st.sampled_from(["1e400", "-1e999", "9" * 5000, "1" + "0" * 101]))
def test_hostile_values_are_a_400_naming_the_field_before_any_github_call(app_and_audit, github_double, name, path,
                                                                         kind, text, huge):
    client, audit = app_and_audit
    marker = "\u2603MARKER\u2603"
    raw = json.dumps(with_value(VALID[name], path, marker), ensure_ascii=False)
    assert raw.count(f'"{marker}"') == 1
    raw = raw.replace(f'"{marker}"', json.dumps(text) if kind == "string" else huge)
    route = TOOLS[name].path
    sent_before, audited_before = len(github_double.requests), _lines(audit)

    response = client.post(route, content=raw.encode(), headers={"Content-Type": "application/json"})

    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    named = "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)
    assert any(error["path"] == named for error in problem["errors"]), (named, problem)
    assert len(github_double.requests) == sent_before
    assert _lines(audit) == audited_before + 1


def _lines(path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0
