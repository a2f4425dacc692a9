"""The paths the app serves besides the spec's operations, named once: ``create_app`` routes them,
the body limit and the metrics' route labels know them by these names."""

from __future__ import annotations

__all__ = ["FIXED_PATHS", "MCP_PATH", "METRICS_PATH", "OPENAPI_PATH", "RUN_EVENTS_PATH", "WEBHOOK_PATH"]

OPENAPI_PATH = "/openapi.json"
MCP_PATH = "/mcp"
METRICS_PATH = "/metrics"
WEBHOOK_PATH = "/webhooks/github"
RUN_EVENTS_PATH = "/v1/runs/{owner}/{repo}/{run_id}/events"

# Paths without parameters, each of which may be a metrics label of its own.
FIXED_PATHS = frozenset({OPENAPI_PATH, MCP_PATH, METRICS_PATH, WEBHOOK_PATH})
