"""``connector oauth clients add`` and ``connector oauth revoke``: the operator's side of the
embedded authorization server."""

from __future__ import annotations

import json

from ..config.keys import KeyRing
from ..config.settings import Settings, SettingsError
from ..oauth.clients import new_client_credentials, secret_digest
from ..oauth.grants import GrantBook
from ..oauth.redirects import RedirectPolicy

__all__ = ["new_client_entry", "revoke"]


def new_client_entry(settings: Settings, name: str, redirect_uris: list[str], *, public: bool) -> str:
    """What to print for a new pre-registered client: its id and secret (once), and its entry for
    CONNECTOR_OAUTH_CLIENTS_FILE (the secret only as its digest)."""
    policy = RedirectPolicy(settings.oauth_redirect_uris)
    refused = [uri for uri in redirect_uris if not policy.allows(uri)]
    if not redirect_uris or refused:
        raise SettingsError(f"--redirect-uri {refused[0] if refused else '(none)'} is not allowed by "
                            "CONNECTOR_OAUTH_REDIRECT_URIS; a custom GPT's is https://chatgpt.com/aip/g-…/oauth/callback")
    client_id, secret = new_client_credentials()
    lines = [f"OAuth client {name}", "", f"  client id:     {client_id}"]
    if not public:
        lines += [f"  client secret: {secret}   (shown once; type it into the client's OAuth settings)"]
    lines += ["", "Add to the OAuth clients file (CONNECTOR_OAUTH_CLIENTS_FILE):", "", "[[clients]]",
              f"name = {json.dumps(name)}", f"client_id = {json.dumps(client_id)}"]
    if not public:
        lines.append(f'secret_sha256 = "{secret_digest(secret)}"')
    lines.append(f"redirect_uris = {json.dumps(redirect_uris)}")
    return "\n".join(lines)


def revoke(settings: Settings, *, grant: str | None = None, client: str | None = None, key: str | None = None) -> int:
    """End one sign-in, every sign-in of a client, or every sign-in made with a key; the number ended.

    The grants live in the shared store, so this needs CONNECTOR_REDIS_URL: with the memory store
    they live inside the server process, where only restarting it ends them."""
    if settings.redis_url is None:
        raise SettingsError("revoking from the command line needs CONNECTOR_REDIS_URL, where the server keeps its "
                            "sign-ins; without it they live in the server's memory and end when it restarts")
    from ..state.redis_oauth import RedisOAuthStore

    keys = KeyRing(settings.api_keys, settings.keys_file)
    book = GrantBook(RedisOAuthStore(settings.redis_url.reveal()), keys)
    if grant is not None:
        return int(book.revoke(grant))
    if client is not None:
        return book.revoke_all(f"client:{client}")
    found = [known for known in keys.keys() if known.name == key]
    if not found:
        raise SettingsError(f"no API key is named {key!r} (CONNECTOR_API_KEY keys are key-1, key-2, …)")
    return sum(book.revoke_all(f"subject:{known.subject}") for known in found)
