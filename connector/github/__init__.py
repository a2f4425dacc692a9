"""Everything that talks to GitHub: the client (PyGithub, with error translation), credentials
(a token or a GitHub App installation), GitHub's quota as it last reported it, and the label cache.

May import: ``connector.types``, ``connector.errors``, ``connector.record``, ``connector.config``,
``connector.state``. Knows nothing of HTTP serving: ``connector.http`` calls it, never the reverse.
"""
