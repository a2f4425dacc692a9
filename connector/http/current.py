"""Which app's services are current: :class:`ServicesMiddleware` sets them for each request (a
context variable, which Starlette carries into the worker thread a sync handler runs in), so
handlers, and the error renderer, reach the services of the app serving them, and several apps
with different settings can live in one process. (Kept apart from :mod:`connector.http.services`,
which imports most of the package, so that any layer can read it.)"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from .services import Services

__all__ = ["ServicesMiddleware", "current_services"]

_current: ContextVar[Services] = ContextVar("connector_services")


class ServicesMiddleware:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _current.set(self.services)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)


def current_services() -> Services | None:
    """The app's services, or None outside a request."""
    return _current.get(None)
