"""The keys the embedded authorization server signs access tokens with.

Asymmetric only: EC P-256 (ES256) or RSA (RS256), read from ``CONNECTOR_OAUTH_SIGNING_KEY_FILE``, a
PEM file with one or more private keys. The first signs; the others are older keys whose tokens
still verify until they expire, which is how a key is rotated: put the new key first, keep the old
one after it for one access-token lifetime, then drop it. The sandbox makes an ephemeral P-256 key.
Each key is named in the token header by its RFC 7638 thumbprint (``kid``), and published as JWKS.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from ..config.settings import SettingsError
from ..types import Secret

__all__ = ["SigningKey", "SigningKeys", "ALGORITHMS"]

ALGORITHMS = ("ES256", "RS256")  # never "none", never HMAC: a public key must not be usable as a secret
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.S)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any
    public_jwk: dict[str, Any]

    @functools.cached_property
    def public_key(self) -> Any:
        return self.private_key.public_key()


class SigningKeys:
    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        self.current = keys[0]
        self._by_kid = {key.kid: key for key in keys}

    @classmethod
    def from_pem(cls, pem: Secret, *, name: str = "CONNECTOR_OAUTH_SIGNING_KEY_FILE") -> SigningKeys:
        blocks = _PEM_BLOCK.findall(pem.reveal())
        if not blocks:
            raise SettingsError(f"{name} holds no PEM private key; make one with "
                                "`openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt`")
        return cls([_signing_key(block, name) for block in blocks])

    @classmethod
    def ephemeral(cls) -> SigningKeys:
        """A fresh P-256 key that lives as long as the process (the sandbox's)."""
        return cls([_from_private(ec.generate_private_key(ec.SECP256R1()), "an ephemeral key")])

    def verification_key(self, kid: str | None) -> SigningKey | None:
        return self._by_kid.get(kid) if kid is not None else None

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk for key in self._by_kid.values()]}


def _signing_key(pem: str, name: str) -> SigningKey:
    try:
        private = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(f"{name} holds a PEM block that is not an unencrypted private key") from None
    return _from_private(private, name)


def _from_private(private: Any, name: str) -> SigningKey:
    if isinstance(private, ec.EllipticCurvePrivateKey):
        if not isinstance(private.curve, ec.SECP256R1):
            raise SettingsError(f"{name} holds an EC key on {private.curve.name}; ES256 needs P-256 (prime256v1)")
        algorithm, jwk = "ES256", json.loads(ECAlgorithm.to_jwk(private.public_key()))
    elif isinstance(private, rsa.RSAPrivateKey):
        if private.key_size < 2048:
            raise SettingsError(f"{name} holds a {private.key_size}-bit RSA key; use at least 2048 bits")
        algorithm, jwk = "RS256", json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    else:
        raise SettingsError(f"{name} holds neither an EC P-256 nor an RSA key")
    kid = _thumbprint(jwk)
    return SigningKey(kid, algorithm, private, {**jwk, "kid": kid, "alg": algorithm, "use": "sig"})


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the key's required members, in lexicographic order, without spaces."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
