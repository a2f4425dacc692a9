"""Operations about the connector itself."""

from ..http.services import services

__all__ = ["get_health", "get_readiness"]


def get_health() -> dict:
    # Deliberately does not call GitHub: load balancers poll this.
    return {"ok": True}


def get_readiness() -> dict:
    return services().readiness.check()
