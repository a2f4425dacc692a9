"""The ASGI stack is one ordered list (connector.app.middleware_stack): the order is the design, so
a change to it shows up here."""

from __future__ import annotations

import pytest

from connector.app import create_app

CONNECTOR_ORDER = [
    "ServerErrorMiddleware",
    "ArrivalMiddleware",
    "ServicesMiddleware",
    "RequestRecordMiddleware",
    "CORSMiddleware",
    "IpAllowlistMiddleware",
    "RateLimitIpMiddleware",
    "BodyLimitMiddleware",
    "ExceptionMiddleware",
    "CredentialHeadersMiddleware",
    "TrailingSlashMiddleware",
    "SwaggerUIMiddleware",
    "RoutingMiddleware",
    "OperationNoteMiddleware",
    "SecurityMiddleware",
    "RequestValidationMiddleware",
    "ResponseValidationMiddleware",
    "LifespanMiddleware",
    "ContextMiddleware",
]


def layers(app) -> list[str]:
    return [getattr(layer, "func", layer).__name__ for layer in app.middleware.middlewares]


@pytest.mark.one_github_layout
def test_the_stack_runs_in_the_declared_order(make_settings):
    assert layers(create_app(make_settings(ip_rate_limit=("5/minute",)))) == CONNECTOR_ORDER


@pytest.mark.one_github_layout
def test_without_an_address_limit_its_layer_is_left_out(make_settings):
    assert layers(create_app(make_settings())) == [name for name in CONNECTOR_ORDER if name != "RateLimitIpMiddleware"]


@pytest.mark.one_github_layout
def test_the_built_stack_wraps_the_layers_in_that_order(make_settings, double):
    app = create_app(make_settings(ip_rate_limit=("5/minute",)))
    with app.test_client() as client:  # the stack is built when the app first serves
        client.get("/health")
    built = [type(layer).__name__ for layer in app.middleware.middleware_stack]  # outermost first, then the app
    assert built == [*CONNECTOR_ORDER, "AsyncASGIApp"]
