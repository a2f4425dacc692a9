"""What models see, as committed files: the served ``/openapi.json`` and every MCP tool (name,
title, description, input schema, annotations), for a default and a catalog deployment.

A change to any of them fails here until the snapshot is rewritten, so it shows up in review as
a diff of what an assistant reads (github-mcp-server's ``__toolsnaps__`` do the same). After an
intended change, rewrite them with ``UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_public_surface.py``
and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from connector.app import create_app
from connector.config.settings import Settings
from connector.mcp.tools import tools_from_document
from connector.spec.catalog import load_catalog
from connector.spec.document import advertised_document, document_for_settings
from connector.types import Secret
from tests.oauth_client import signing_key_pem

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
BASE_URL = "https://connector.example.com"

DEPLOYMENTS = {
    # No default repository, no catalog: every request names owner and repo, any event_type.
    "default": dict(),
    # The example catalog and a default repository, as an operator following the README sets it up.
    "catalog": dict(events_file=ROOT / "examples" / "events.yaml", default_repo=("octo-org", "webapp"),
                    allowed_repos=("octo-org/webapp",)),
    # The connector as its own OAuth server: the served document offers its sign-in beside the key.
    "oauth": dict(oauth="embedded", oauth_signing_key=Secret(signing_key_pem())),
}


def settings_for(deployment: str) -> Settings:
    return Settings(api_keys=(Secret("snapshot-key-0123456789abcdef"),), public_base_url=BASE_URL,
                    **DEPLOYMENTS[deployment]).validated()


def served_openapi(deployment: str) -> dict[str, Any]:
    response = create_app(settings_for(deployment)).test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def tool_definitions(deployment: str) -> dict[str, dict[str, Any]]:
    settings = settings_for(deployment)
    catalog = load_catalog(settings.events_file) if settings.events_file is not None else None
    tools = tools_from_document(advertised_document(document_for_settings(settings, catalog), catalog))
    return {tool.name: {"name": tool.name, "title": tool.title, "description": tool.description,
                        "inputSchema": tool.input_schema, "annotations": tool.annotations} for tool in tools}


def matches_snapshot(path: Path, value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.relative_to(ROOT)} is missing; write it with UPDATE_SNAPSHOTS=1"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text), (
        f"{path.relative_to(ROOT)} no longer matches what models see; if the change is intended, "
        "rewrite it with UPDATE_SNAPSHOTS=1 and review the diff")


@pytest.mark.parametrize("deployment", sorted(DEPLOYMENTS))
def test_the_served_openapi_document_matches_its_snapshot(deployment):
    matches_snapshot(SNAPSHOTS / f"openapi-{deployment}.json", served_openapi(deployment))


@pytest.mark.parametrize("deployment", sorted(DEPLOYMENTS))
def test_every_mcp_tool_matches_its_snapshot(deployment):
    tools = tool_definitions(deployment)
    for name, definition in tools.items():
        matches_snapshot(SNAPSHOTS / "tools" / deployment / f"{name}.json", definition)
    snapshotted = {path.stem for path in (SNAPSHOTS / "tools" / deployment).glob("*.json")}
    assert snapshotted == set(tools), "a tool was added or removed: rewrite the snapshots (and delete stale ones)"
