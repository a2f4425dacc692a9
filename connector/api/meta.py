"""Operations about the connector itself."""

__all__ = ["get_health"]


def get_health() -> dict:
    # Deliberately does not call GitHub: load balancers poll this.
    return {"ok": True}
