"""The embedded authorization server's records in Redis (``CONNECTOR_REDIS_URL``), shared by every
instance, so a flow started on one can finish on another. Marking a code or refresh token used is
one Lua script, so two instances cannot both redeem it."""

from __future__ import annotations

import json
import time
from typing import Any

from ..errors import Misconfigured
from .redis import connect, outage_becomes

__all__ = ["RedisOAuthStore"]

# KEYS[1] the record. Returns the record as it was (or nil) after setting its "used" flag, keeping its TTL.
_USE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local record = cjson.decode(raw)
local before = raw
record['used'] = true
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
return before
"""


class RedisOAuthStore:
    def __init__(self, url: str, *, prefix: str = "connector") -> None:
        self._redis = connect(url)
        self._prefix = prefix
        self._use = self._redis.register_script(_USE)

    def put(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> None:
        with outage_becomes(_unavailable):
            self._redis.set(self._key(kind, key), json.dumps(value), ex=max(1, ttl))

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with outage_becomes(_unavailable):
            raw = self._redis.get(self._key(kind, key))
        return json.loads(raw) if raw else None

    def use(self, kind: str, key: str) -> tuple[dict[str, Any] | None, bool]:
        with outage_becomes(_unavailable):
            raw = self._use(keys=[self._key(kind, key)])
        if not raw:
            return None, False
        value = json.loads(raw)
        return value, bool(value.get("used"))

    def add(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        with outage_becomes(_unavailable):
            return bool(self._redis.set(self._key(kind, key), json.dumps(value), ex=max(1, ttl), nx=True))

    def delete(self, kind: str, key: str) -> None:
        with outage_becomes(_unavailable):
            self._redis.delete(self._key(kind, key))

    def index(self, name: str, member: str, ttl: int) -> None:
        # A sorted set scored by expiry, so members expire one by one.
        with outage_becomes(_unavailable):
            self._redis.zadd(self._key("index", name), {member: time.time() + ttl})

    def members(self, name: str) -> set[str]:
        key = self._key("index", name)
        with outage_becomes(_unavailable):
            self._redis.zremrangebyscore(key, "-inf", time.time())
            return set(self._redis.zrange(key, 0, -1))

    def count(self, name: str) -> int:
        key = self._key("index", name)
        with outage_becomes(_unavailable):
            self._redis.zremrangebyscore(key, "-inf", time.time())
            return int(self._redis.zcard(key))

    def _key(self, kind: str, key: str) -> str:
        return f"{self._prefix}:oauth:{kind}:{key}"


def _unavailable() -> Misconfigured:
    return Misconfigured("The connector cannot reach its shared store (Redis), where sign-ins are kept; "
                         "try again shortly.")
