"""Prometheus metrics, collected only when an operator asks to scrape them.

``CONNECTOR_METRICS_TOKEN`` serves them on ``/metrics`` behind their own bearer token;
``CONNECTOR_METRICS_PORT`` serves them on a port of their own (``connector serve`` starts it).
With neither, :func:`metrics_for` returns ``None`` and prometheus-client is never imported, so
requests pay nothing for metrics nobody reads.

Under ``connector serve --workers N`` each worker is its own process; the command points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers start, each worker writes
its samples there, and a scrape (of any worker, or of the metrics port) adds them all up.
prometheus-client decides between the two modes when it is imported, which is why the
directory is set by the parent process and why this module imports it lazily.
"""

from __future__ import annotations

import hmac
import os
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import Unauthorized
from ..record import RequestRecord
from .paths import FIXED_PATHS

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..github.client import GitHubAnswer

__all__ = ["Metrics", "metrics_for", "metrics_endpoint", "registry_to_scrape"]

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Seconds. ChatGPT gives up near 45 s and waits (wait_seconds) last up to 25 s, so the top
# buckets are there to show how close calls come to that.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 45.0)


class Metrics:
    """The connector's metrics; one per process (prometheus-client's registry is global)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter("connector_requests_total", "HTTP requests answered, by operation and status.",
                                ["operation", "status"])
        self.latency = Histogram("connector_request_duration_seconds", "Time to answer a request, by operation.",
                                 ["operation"], buckets=_LATENCY_BUCKETS)
        self.github_requests = Counter("connector_github_requests_total",
                                       "Requests sent to GitHub, by endpoint and status (200 for any success).",
                                       ["endpoint", "status"])
        self.github_quota = Gauge("connector_github_quota_remaining",
                                  "GitHub API calls left in the current rate-limit window, by quota "
                                  "(the token, or an App installation).",
                                  ["quota"], multiprocess_mode="mostrecent")
        self.replays = Counter("connector_idempotent_replays_total",
                               "Writes answered from the first response to the same request_id, by operation.",
                               ["operation"])
        self.refusals = Counter("connector_rate_limit_refusals_total",
                                "Requests refused with 429, by which limit: the API key's, the address's, or GitHub's.",
                                ["limit"])

    def request(self, record: RequestRecord) -> None:
        """Count one answered request."""
        operation = record.operation or _route_label(record.path)
        self.requests.labels(operation, str(record.status)).inc()
        self.latency.labels(operation).observe(record.seconds())
        if record.replayed:
            self.replays.labels(operation).inc()
        if record.status == 429:
            self.refusals.labels("github" if record.code == "github_rate_limited" else record.limited_by or "key").inc()

    def github_answer(self, answer: GitHubAnswer) -> None:
        self.github_requests.labels(answer.endpoint, str(answer.status)).inc()
        if answer.quota is not None:
            self.github_quota.labels(answer.quota_bucket).set(answer.quota.remaining)


def _route_label(path: str) -> str:
    """The label for a request no operation answered: a fixed route's path, else "other" (a
    scanner's paths must not become labels, each one a new time series)."""
    if path.startswith("/v1/runs/"):
        return "run_events"
    return path if path in FIXED_PATHS else "other"


_metrics: Metrics | None = None


def metrics_for(settings: Settings) -> Metrics | None:
    """The process's metrics when they are served somewhere, else ``None``."""
    global _metrics
    if settings.metrics_token is None and settings.metrics_port is None:
        return None
    if _metrics is None:  # several apps in one process (tests) share prometheus-client's registry
        _metrics = Metrics()
    return _metrics


def registry_to_scrape() -> Any:
    """This process's registry, or with several workers one that adds up all of theirs."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    if not os.environ.get(MULTIPROCESS_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def metrics_endpoint(token: str) -> Any:
    """``GET /metrics``, for a scraper presenting ``Authorization: Bearer <CONNECTOR_METRICS_TOKEN>``."""
    expected = f"Bearer {token}".encode()

    async def endpoint(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        presented = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(presented, expected):
            raise Unauthorized(
                "Send the metrics token (CONNECTOR_METRICS_TOKEN, not an API key) as 'Authorization: Bearer <token>'.",
                realm="metrics")
        return Response(generate_latest(registry_to_scrape()), media_type=CONTENT_TYPE_LATEST)

    return endpoint
