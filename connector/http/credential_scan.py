"""Writes that would publish a credential are refused before any GitHub call (``422 secret_in_input``).

An assistant pastes what it was shown; a comment or a dispatch payload is then public, or read by a
workflow. Every string of a write's body is checked against detect-secrets' detectors (Yelp's
maintained pattern list: cloud keys, private key blocks, chat and payment tokens, JWTs, ...) and
GitHub's own token formats, fine-grained ``github_pat_`` tokens included, which detect-secrets lacks.
Only detectors that match a credential's shape are used: the entropy and keyword detectors would
refuse ordinary hashes and prose. The error names the field, never the value.

detect-secrets is imported on the first write that has text, so a worker serving only reads never
loads it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import SecretInInput
from ..github.masking import TOKEN_SHAPED

__all__ = ["refusing_credentials", "credential_kind"]

# detect-secrets detectors, by module and class: the ones that match a credential's own format.
_DETECTORS = (
    ("artifactory", "ArtifactoryDetector"), ("aws", "AWSKeyDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"), ("basic_auth", "BasicAuthDetector"),
    ("discord", "DiscordBotTokenDetector"), ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"), ("jwt", "JwtTokenDetector"),
    ("mailchimp", "MailchimpDetector"), ("npm", "NpmDetector"), ("openai", "OpenAIDetector"),
    ("private_key", "PrivateKeyDetector"), ("pypi_token", "PypiTokenDetector"),
    ("sendgrid", "SendGridDetector"), ("slack", "SlackDetector"), ("square_oauth", "SquareOAuthDetector"),
    ("stripe", "StripeDetector"), ("telegram_token", "TelegramBotTokenDetector"), ("twilio", "TwilioKeyDetector"),
)


@functools.cache
def _detectors() -> tuple[Any, ...]:
    import importlib

    return tuple(getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)()
                 for module, name in _DETECTORS)


def credential_kind(text: str) -> str | None:
    """What kind of credential ``text`` holds (detect-secrets' name for it), or None."""
    if TOKEN_SHAPED.search(text):
        return "GitHub Token"
    for detector in _detectors():
        if next(iter(detector.analyze_string(text)), None) is not None:
            return str(detector.secret_type)
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, f"{path}.{key} (its name)")
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def refusing_credentials(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a write handler ``(body, token_info)`` so a body holding a credential never reaches it."""

    @functools.wraps(handler)  # Connexion reads the handler's parameters through __wrapped__
    def wrapper(body: dict[str, Any], token_info: dict[str, Any]) -> Any:
        for path, text in _strings(body, "$"):
            kind = credential_kind(text)
            if kind is not None:
                raise SecretInInput(
                    f"{path} looks like a credential ({kind}); nothing was sent. Remove it: what a write "
                    "sends becomes visible to everyone who can read the repository or the workflow.",
                    field=path)
        return handler(body=body, token_info=token_info)

    return wrapper
