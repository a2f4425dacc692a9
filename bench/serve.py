"""A server process for the benchmark: the connector, a bare ASGI app making the same GitHub call,
or the GitHub double (in a process of its own, so the load generator does not slow it down).

    python bench/serve.py connector|connector-validating|connector-oauth|bare PORT GITHUB_URL GITHUB_TOKEN API_KEY
    python bench/serve.py double PORT - GITHUB_TOKEN -

Both use the connector's own GitHub client, so the GitHub call costs the same and the difference
between them is what the connector adds: Connexion's middleware (routing, bearer auth, request
validation, and response validation where it is on), the error handling and the response shaping.
"connector" runs with the production default settings, "connector-validating" with response
validation on as in the test suite, "connector-oauth" as its own OAuth authorization server (the
signing key from the file BENCH_OAUTH_KEY_FILE names), called with an access token.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.config.settings import Settings
from connector.github.client import GitHub
from connector.types import (
    Repository,
    Secret,
)

OWNER, REPO = "octo-demo", "hello-connector"


def bare_app(github: GitHub):
    from starlette.concurrency import run_in_threadpool

    repo = Repository(OWNER, REPO)

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body or b"{}")
        query = {"state": request.get("state", "open"), "per_page": request.get("per_page", 20), "page": 1}
        pulls, next_page = await run_in_threadpool(github.list_pulls, repo, query)
        payload = json.dumps({"repository": repo.full_name, "count": len(pulls), "next_page": next_page}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    return app


def serve_double(port: int, token: str) -> None:
    """The double with the demo repository, GitHub's hourly quota (5,000 calls, which a benchmark
    spends in seconds; the connector would then rightly answer 429 itself) topped up twice a
    second, and its request log emptied so that its memory stays flat."""
    import time

    from connector.ghdouble import GitHubDouble, seed_demo
    from connector.ghdouble.records import RATE_LIMIT

    # Standing in for GitHub's speed: the check of its own answers against GitHub's schemas (the
    # tests' guard, ~7 ms for a page of 20 pull requests) would make the double the bottleneck.
    double = GitHubDouble(token=token, check_answers=False).start(port=port)
    seed_demo(double)
    while True:
        time.sleep(0.5)
        double.clear_requests()
        double.set_quota(RATE_LIMIT - 1, 3600)


def main() -> None:
    kind, port, github_url, token, api_key = sys.argv[1:6]
    if kind == "double":
        serve_double(int(port), token)
    if kind.startswith("connector"):
        from connector.app import create_app

        settings = Settings(api_keys=(Secret(api_key),), github_token=Secret(token), github_api_url=github_url,
                            default_repo=(OWNER, REPO), allowed_repos=(f"{OWNER}/{REPO}",),
                            public_base_url="https://bench.example")
        if kind == "connector-validating":
            settings = dataclasses.replace(settings, validate_responses=True)
        if kind == "connector-oauth":  # the embedded authorization server's tokens accepted beside keys
            pem = Path(os.environ["BENCH_OAUTH_KEY_FILE"]).read_text()
            settings = dataclasses.replace(settings, oauth="embedded", oauth_signing_key=Secret(pem)).validated()
        app = create_app(settings)
    else:
        app = bare_app(GitHub(base_url=github_url, token=Secret(token), timeout=10))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
