"""Operations about the connector itself."""

from typing import Any

from ..http.services import services

__all__ = ["get_health", "get_readiness"]


def get_health() -> dict[str, Any]:
    # Deliberately does not call GitHub: load balancers poll this.
    return {"ok": True}


def get_readiness() -> dict[str, Any]:
    return services().readiness.check()
