"""What a request may ask for, decided before any GitHub call: pure functions, no HTTP, no PyGithub.

Holds: ``rules`` (repositories, labels, comment bodies, dispatch payloads) and ``untrusted`` (text
from GitHub cleaned and capped before an assistant reads it).
May import: ``connector.types``, ``connector.errors``, ``connector.record``, ``connector.config``.
"""
