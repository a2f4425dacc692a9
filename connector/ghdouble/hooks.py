"""Webhook deliveries from the double: sent, signed and recorded the way GitHub's Hookshot does.

A receiver's bugs are in the details GitHub fixes: which headers arrive, that the signature
covers the exact body bytes (``X-Hub-Signature-256``, HMAC-SHA256 keyed with the secret),
that a redelivery reuses the delivery id. So each delivery is one JSON POST with GitHub's
headers, sent synchronously with a short timeout, and kept as a ``Delivery`` (what was sent,
what the receiver answered) that ``redeliver`` can replay as is or tampered with, for replay
and forgery tests. Nothing is retried: GitHub does not retry failed deliveries either.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import uuid
from dataclasses import dataclass, replace
from typing import Any

import requests

__all__ = ["TIMEOUT", "Delivery", "Hooks", "signature"]

TIMEOUT = 5.0  # seconds; GitHub gives a receiver 10, tests should not wait that long
_USER_AGENT = "GitHub-Hookshot/a1b2c3d"


def signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256`` for ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    """One POST to the receiver; ``status`` is its HTTP status, ``None`` if it was unreachable."""

    event: str
    action: str | None
    delivery_id: str
    body: bytes
    headers: dict[str, str]
    status: int | None


class Hooks:
    """The one webhook (URL and secret) the double delivers to, and every delivery made."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock  # the double's lock, so reset() clears this with the request log
        self._hook_ids = itertools.count(480_000_001)
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.url: str | None = None
            self.secret: str | None = None
            self.hook_id = 0
            self._deliveries: list[Delivery] = []

    def target(self, url: str | None, secret: str | None) -> None:
        """Deliver to ``url`` from now on (``None`` stops); each new target is a new hook id."""
        with self.lock:
            self.url, self.secret = url, secret
            self.hook_id = next(self._hook_ids) if url is not None else 0

    @property
    def active(self) -> bool:
        with self.lock:
            return self.url is not None

    @property
    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self._deliveries)

    def deliver(self, event: str, action: str | None, payload: dict[str, Any],
                target_id: int) -> Delivery | None:
        """POST ``payload`` to the hook (``None`` when no hook is set) and record it."""
        with self.lock:
            url, secret, hook_id = self.url, self.secret, self.hook_id
        if url is None:
            return None
        body = json.dumps(payload).encode()
        headers = {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": _USER_AGENT,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Event": event,
            "X-GitHub-Hook-ID": str(hook_id),
            "X-GitHub-Hook-Installation-Target-ID": str(target_id),
            "X-GitHub-Hook-Installation-Target-Type": "repository",
        }
        if secret is not None:
            # GitHub still sends the legacy SHA-1 signature beside the SHA-256 one.
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature-256"] = signature(secret, body)
        return self._send(url, Delivery(event, action, headers["X-GitHub-Delivery"], body, headers,
                                        None))

    def redeliver(self, delivery: Delivery, *, body: bytes | None = None,
                  signature: str | None = None) -> int:
        """Send ``delivery`` again to the current hook: same delivery id and headers, or with
        ``body`` and/or the ``X-Hub-Signature-256`` value replaced (the old signature stays
        unless ``signature`` is given, which is what a tampering test wants)."""
        with self.lock:
            url = self.url
        if url is None:
            raise RuntimeError("no webhook target; call send_webhooks_to() first")
        headers = dict(delivery.headers)
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        again = replace(delivery, body=delivery.body if body is None else body, headers=headers)
        status = self._send(url, again).status
        if status is None:
            raise ConnectionError(f"webhook receiver {url} could not be reached")
        return status

    def _send(self, url: str, delivery: Delivery) -> Delivery:
        try:
            status: int | None = requests.post(url, data=delivery.body, headers=delivery.headers,
                                               timeout=TIMEOUT, allow_redirects=False).status_code
        except requests.RequestException:
            status = None
        sent = replace(delivery, status=status)
        with self.lock:
            self._deliveries.append(sent)
        return sent
