"""Serving HTTP: the ASGI middlewares ``create_app`` stacks, and the routes that are not operations.

Holds: ``problem`` (every error rendered as problem+json, in one place), ``request_id``, ``observe``
(each request's record), ``client_ip``, ``body_limit``, ``rate_limits``, ``auth`` (API keys and
scopes), ``idempotency`` (writes answered once per request_id), ``resolver`` (operationId to
handler), ``services`` (what a handler reaches), ``audit``, ``metrics``, ``readiness``, ``webhooks``.
May import: everything below it (``types``, ``errors``, ``record``, ``config``, ``spec``, ``state``,
``github``, ``policy``); never ``api``, ``mcp``, ``ops`` or ``app``.
"""
