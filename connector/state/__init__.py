"""State that outlives a request: workflow runs the connector started, idempotency claims.

Holds: ``protocols`` (one ``typing.Protocol`` per store, all that callers may rely on), the memory
implementations (``runs``, ``claims``), the Redis ones (``redis_runs``, ``redis_claims``) and the one
Redis connection per URL they share (``redis``). ``create_app`` picks memory or Redis once.
May import: ``connector.types``, ``connector.errors``, ``connector.config``.
"""
