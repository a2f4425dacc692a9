"""Configuration, read once at start-up: the settings object, the parsers of its values, the API keys.

Holds: ``settings`` (one declaration per environment variable), ``parsers`` (the value formats those
variables share), ``keys`` (API keys and their scopes), ``allowlist`` (repository patterns).
May import: ``connector.types``, ``connector.errors``. Nothing here talks to GitHub or serves HTTP.
"""
