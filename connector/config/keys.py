"""API keys, each with a name, scopes and optionally its own repositories.

Keys come from ``CONNECTOR_API_KEY`` (every scope, named key-1, key-2, ...) and from a keys file
(``CONNECTOR_KEYS_FILE``, TOML or YAML) that holds only SHA-256 digests, never keys::

    [[keys]]
    name = "chatgpt-triage"
    sha256 = "9f86d0..."
    scopes = ["prs:read", "prs:write"]
    repos = ["octo-org/*"]          # optional; the global allowlist applies as well

The file is re-read when it changes, so keys rotate without a restart; a file that does not parse
keeps the previous keys and the reason is logged. Presented keys are compared with every known
digest in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..types import Secret
from .allowlist import PATTERN as REPO_PATTERN
from .allowlist import RepoAllowlist
from .settings import SettingsError

__all__ = ["ApiKey", "KeyRing", "SCOPES", "KeysFileError", "digest", "parse_keys_file"]

SCOPES = ("prs:read", "prs:write", "dispatch", "runs:read", "runs:write", "runs:cancel")
log = logging.getLogger(__name__)


class KeysFileError(SettingsError):
    """The keys file is malformed; the message names the file, the key and what is wrong."""


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class ApiKey:
    name: str
    sha256: bytes
    scopes: frozenset[str]
    repos: RepoAllowlist

    @property
    def subject(self) -> str:
        """A stable identity for the key that is not a secret and not its name (two keys may share a
        name): the start of its digest. What an OAuth grant made with the key is bound to."""
        return f"key:{self.sha256.hex()[:24]}"

    def token_info(self) -> dict[str, Any]:
        return {"sub": self.name, "scope": sorted(self.scopes), "key": self}


def parse_keys_file(path: Path) -> tuple[ApiKey, ...]:
    """Keys from a TOML or YAML keys file; raises KeysFileError saying what is wrong."""
    import tomllib  # here, not at the top: only TOML keys files need it (~2 ms of every start otherwise)

    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else tomllib.loads(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise KeysFileError(f"{path} cannot be read as {'YAML' if path.suffix in ('.yaml', '.yml') else 'TOML'}: "
                            f"{str(exc).splitlines()[0]}") from None
    entries = (data or {}).get("keys") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise KeysFileError(f"{path} has no list of keys (expected [[keys]] tables or a keys: list)")
    keys, names = [], set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path}, key {number}"
        if not isinstance(entry, dict):
            raise KeysFileError(f"{where}: expected a table with name, sha256 and scopes")
        name, hexdigest = entry.get("name"), str(entry.get("sha256", ""))
        scopes, repos = entry.get("scopes"), entry.get("repos", [])
        if not isinstance(name, str) or not name or name in names:
            raise KeysFileError(f"{where}: name must be a unique, non-empty string")
        if len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest.lower()):
            raise KeysFileError(f"{where} ({name}): sha256 must be 64 hex digits (the key's SHA-256, never the key)")
        if not isinstance(scopes, list) or not scopes or any(s not in SCOPES for s in scopes):
            raise KeysFileError(f"{where} ({name}): scopes must list some of {', '.join(SCOPES)}")
        if not isinstance(repos, list) or any(not isinstance(r, str) or not REPO_PATTERN.match(r) for r in repos):
            raise KeysFileError(f"{where} ({name}): repos must list owner/repo or owner/* patterns")
        names.add(name)
        keys.append(ApiKey(name, bytes.fromhex(hexdigest), frozenset(scopes), RepoAllowlist(repos)))
    return tuple(keys)


class KeyRing:
    """Every key the connector accepts; the keys file is re-read when its modification time changes."""

    def __init__(self, env_keys: Iterable[Secret] = (), keys_file: Path | None = None,
                 recheck_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._env_keys = tuple(ApiKey(f"key-{i}", digest(key.reveal()), frozenset(SCOPES), RepoAllowlist())
                               for i, key in enumerate(env_keys, start=1))
        self._file = keys_file
        self._recheck = recheck_seconds
        self._lock = threading.Lock()
        self._file_keys: tuple[ApiKey, ...] = ()
        self._stamp: float | None = None
        self._checked = 0.0
        if keys_file is not None:
            self._file_keys = parse_keys_file(keys_file)  # a bad file at start-up is a start-up error
            self._stamp = keys_file.stat().st_mtime

    def keys(self) -> tuple[ApiKey, ...]:
        """Every key now accepted (digests and names; never a key itself)."""
        return (*self._env_keys, *self._current_file_keys())

    def is_empty(self) -> bool:
        """True when no key is left (say, every key was removed from the keys file to revoke it)."""
        return not self.keys()

    def find(self, token: str) -> ApiKey | None:
        presented = digest(token)
        found = None
        # Compare against every key so the time taken does not reveal which one (if any) matched.
        for key in (*self._env_keys, *self._current_file_keys()):
            if hmac.compare_digest(presented, key.sha256):
                found = key
        return found

    def by_subject(self, subject: str) -> ApiKey | None:
        """The key an OAuth grant was made with, if it is still configured."""
        return next((key for key in (*self._env_keys, *self._current_file_keys()) if key.subject == subject), None)

    def _current_file_keys(self) -> tuple[ApiKey, ...]:
        if self._file is None:
            return ()
        now = self._clock()
        if now - self._checked < self._recheck:
            return self._file_keys
        with self._lock:
            self._checked = now
            try:
                stamp = os.stat(self._file).st_mtime
            except OSError as exc:
                log.warning("keys file %s cannot be read (%s); keeping the previous keys", self._file, exc.strerror)
                return self._file_keys
            if stamp != self._stamp:
                try:
                    self._file_keys = parse_keys_file(self._file)
                    log.info("keys file %s reloaded: %d key(s)", self._file, len(self._file_keys))
                except KeysFileError as exc:
                    log.warning("keys file not reloaded, keeping the previous keys: %s", exc)
                self._stamp = stamp
            return self._file_keys
