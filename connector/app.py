"""The application factory: one call builds a complete connector from one Settings object."""

from __future__ import annotations

import logging
from functools import lru_cache

from connexion import FlaskApp
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from flask import Response, request
from starlette.middleware.cors import CORSMiddleware

from . import openapi31
from .auth import ApiKeys, bearer_security_handler
from .context import EXTENSION_KEY, Services
from .errors import install_error_handler
from .github import GitHub
from .routing import JSONResolver
from .settings import Settings
from .spec import document_for, served_json

__all__ = ["create_app", "app_from_environment"]

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FlaskApp:
    app = FlaskApp(__name__)
    document = document_for(has_default_repo=settings.default_repo is not None)
    openapi31.add_api(
        app,
        document,
        resolver=JSONResolver(),
        strict_validation=True,
        validate_responses=True,
        validator_map=openapi31.VALIDATOR_MAP,
        security_map={"bearer": bearer_security_handler(ApiKeys(settings.api_keys))},
        swagger_ui_options=SwaggerUIOptions(serve_spec=False, swagger_ui=False),
    )
    install_error_handler(app)
    # Connexion answers 401s and validation errors in its ASGI middleware, before Flask runs, so
    # flask-cors would never see them; Starlette's CORS middleware sits outside all of that.
    app.add_middleware(
        CORSMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After", "WWW-Authenticate"],
        max_age=600,
    )
    github = None
    if settings.github_token is not None:
        github = GitHub(base_url=settings.github_api_url, token=settings.github_token,
                        timeout=settings.github_timeout)
    app.app.extensions[EXTENSION_KEY] = Services(settings=settings, github=github)
    app.add_url_rule("/openapi.json", "openapi_json", _openapi_view(document, settings.public_base_url))
    _warn_about(settings, github)
    return app


def app_from_environment() -> FlaskApp:
    """The app for ASGI servers (``uvicorn wsgi:app``), configured from environment variables."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(Settings.from_env())


def _openapi_view(document: dict, public_base_url: str | None):
    @lru_cache(maxsize=8)  # keyed by base URL; bounded because the Host header is the caller's
    def render(base_url: str) -> str:
        return served_json(document, base_url)

    def openapi_json() -> Response:
        return Response(render(public_base_url or request.host_url), mimetype="application/json")

    return openapi_json


def _warn_about(settings: Settings, github: GitHub | None) -> None:
    if settings.public_base_url is None:
        log.warning("PUBLIC_BASE_URL is not set: /openapi.json names the URL each request came in on; "
                    "ChatGPT needs the public https origin, e.g. PUBLIC_BASE_URL=https://connector.example.com")
    elif not settings.public_base_url_is_https:
        log.warning("PUBLIC_BASE_URL=%s is not https; ChatGPT only calls https servers", settings.public_base_url)
    if github is None:
        log.warning("GITHUB_TOKEN is not set: every GitHub operation will answer 503 misconfigured")
