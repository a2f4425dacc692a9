"""What a client learns before it has a token: the protected-resource metadata (RFC 9728) and the
``WWW-Authenticate`` challenge that points at it.

The connector protects two resources: its HTTP routes (``PUBLIC_BASE_URL``) and its MCP endpoint
(``PUBLIC_BASE_URL/mcp``). Each has a metadata document at ``/.well-known/oauth-protected-resource``
followed by the resource's path; its ``resource`` is exactly what a client sends back as RFC 8707's
``resource`` and what the tokens' ``aud`` then holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..config.keys import SCOPES
from .consent import SCOPE_WORDS
from .tokens import resources_of

__all__ = ["PRM_PATH", "challenge", "protected_resource", "resource_metadata_url", "with_oauth_scheme"]

PRM_PATH = "/.well-known/oauth-protected-resource"


def resource_metadata_url(base_url: str, *, mcp: bool) -> str:
    return base_url + PRM_PATH + ("/mcp" if mcp else "")


def protected_resource(base_url: str, authorization_server: str, *, mcp: bool) -> dict[str, Any]:
    routes, mcp_endpoint = resources_of(base_url)
    return {
        "resource": mcp_endpoint if mcp else routes,
        "authorization_servers": [authorization_server],
        "scopes_supported": list(SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": "GitHub connector" + (" (MCP)" if mcp else ""),
    }


def challenge(base_url: str, *, mcp: bool, scopes: Iterable[str] = (), error: str | None = None,
              description: str | None = None) -> str:
    """``Bearer resource_metadata="…", scope="…"`` (RFC 9728 5.1, RFC 6750 3), with ``error`` when a
    token was sent and refused."""
    parts = [f'resource_metadata="{resource_metadata_url(base_url, mcp=mcp)}"']
    wanted = " ".join(scopes)
    if wanted:
        parts.append(f'scope="{wanted}"')
    if error:
        parts.append(f'error="{error}"')
        if description:
            parts.append('error_description="{}"'.format(description.replace('"', "'").replace("\\", "/")))
    return "Bearer " + ", ".join(parts)


def with_oauth_scheme(document: dict[str, Any], issuer: str) -> dict[str, Any]:
    """The served document with the embedded server's authorization-code flow as a second way in
    beside the API key, each operation needing the same scopes either way (what a custom GPT's
    OAuth settings are read from). Only the served view changes: API keys and tokens are checked
    by the same handlers whichever scheme a caller picks."""
    document["components"]["securitySchemes"]["oauth"] = {
        "type": "oauth2",
        "description": "Sign in on the connector's consent page with an API key; the tokens act as that key.",
        "flows": {"authorizationCode": {
            "authorizationUrl": issuer + "/oauth/authorize", "tokenUrl": issuer + "/oauth/token",
            "refreshUrl": issuer + "/oauth/token", "scopes": {scope: SCOPE_WORDS[scope] for scope in SCOPES}}},
    }
    default = document.get("security", [])
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            requirements = operation.get("security", default)
            bearer = next((requirement["bearerAuth"] for requirement in requirements if "bearerAuth" in requirement),
                          None)
            if bearer is not None:
                operation["security"] = [*requirements, {"oauth": list(bearer)}]
    return document
