"""What verifying an OAuth access token costs a request, next to checking an API key in the same run.

    python bench/oauth.py [--rounds 20] [--per-round 2000]

All go through the same Authenticator.identify the security handlers call: an API key is one
SHA-256 and a constant-time comparison per configured key; an access token the first time it is
seen is a JWT whose ES256 signature is verified and whose claims are checked; after that it is
found among the tokens already verified (until it expires). Either way the key it was made with is
then looked up. Rounds interleave the three, so drift on a busy machine hits all alike; the report
gives the median per round of each, and what a token adds to a request over an API key.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.config.keys import KeyRing
from connector.http.auth import Authenticator
from connector.oauth.signing import SigningKeys
from connector.oauth.tokens import EmbeddedVerifier, RememberingVerifier, TokenIssuer
from connector.types import Secret

BASE = "https://bench.example"
API_KEY = "bench-api-key-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=2000)
    args = parser.parse_args()

    keys = KeyRing((Secret(API_KEY),))
    signing = SigningKeys.ephemeral()
    auth = Authenticator(keys, verifier=RememberingVerifier(EmbeddedVerifier(signing)), public_base_url=BASE,
                         embedded=True)
    key = keys.find(API_KEY)
    assert key is not None
    issuer = TokenIssuer(signing, lifetime=900)

    def fresh_token() -> str:
        return issuer.issue(issuer=BASE, subject=key.subject, client_id="bench", scopes=["prs:read"],
                            audience=f"{BASE}/mcp", grant_id="g", key_name=key.name)

    scope = {"type": "http", "path": "/chatgpt/prs/list", "headers": []}
    token = fresh_token()
    assert auth.identify(token, scope)["key"].name == key.name

    def per_call(credentials: list[str]) -> float:
        started = time.perf_counter()
        for credential in credentials:
            auth.identify(credential, scope)
        return (time.perf_counter() - started) / len(credentials) * 1e6

    key_us, first_us, again_us = [], [], []
    for _ in range(args.rounds):
        unseen = [fresh_token() for _ in range(args.per_round)]  # made outside the timing
        key_us.append(per_call([API_KEY] * args.per_round))
        first_us.append(per_call(unseen))
        again_us.append(per_call([token] * args.per_round))
    key_median, first_median, again_median = (statistics.median(key_us), statistics.median(first_us),
                                              statistics.median(again_us))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent).stdout.strip()
    print(f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.node() or 'machine'}, at {commit}, "
          f"Python {platform.python_version()}, {platform.machine()}\n")
    print("| measure | result | target |")
    print("| --- | --- | --- |")
    print(f"| API key check (median of {args.rounds} rounds of {args.per_round}) | {key_median:.1f} µs | — |")
    print(f"| access token, first request: ES256 signature, claims, the key looked up | {first_median:.1f} µs | — |")
    print(f"| access token, later requests: found among verified tokens, the key looked up | {again_median:.1f} µs | — |")
    print(f"| what a token adds to its first request | {(first_median - key_median) / 1000:.3f} ms | ≤ 0.2 ms |")
    print(f"| what a token adds to each later request | {(again_median - key_median) / 1000:.4f} ms | ≤ 0.2 ms |")


if __name__ == "__main__":
    main()
