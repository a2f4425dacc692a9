"""Sandbox mode: the connector against an embedded GitHub double, ready to try in one command.

Started when ``connector serve`` finds no GitHub token (or is given ``--sandbox``). The double is the
same component the tests use, seeded with a demo repository; nothing leaves the machine.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from ..config.settings import Settings
from ..ghdouble import GitHubDouble, seed_demo
from ..ghdouble.demo import DEMO_REPOSITORY, seed_demo_users
from ..oauth.github_signin import CALLBACK_PATH
from ..types import Secret

__all__ = ["DEMO_REPOSITORY", "Sandbox", "start_sandbox"]


@dataclasses.dataclass
class Sandbox:
    double: GitHubDouble
    settings: Settings
    demo: dict[str, Any]
    api_key: str | None  # set when the sandbox generated the key (so the banner may show it)
    people: dict[str, Any] | None = None  # who may "Sign in with GitHub" on the consent page, with OAuth on

    def stop(self) -> None:
        self.double.stop()

    def banner(self, base_url: str) -> str:
        owner, repo = self.demo["owner"], self.demo["repo"]
        key = self.api_key or "<your CONNECTOR_API_KEY>"
        auth = f'-H "Authorization: Bearer {key}" -H "Content-Type: application/json"'
        pr = self.demo["open_pulls"][0]
        lines = [
            "",
            "=" * 78,
            "  GitHub connector — SANDBOX MODE (an embedded GitHub double; nothing reaches github.com)",
            f"  demo repository: {owner}/{repo} (the default; owner and repo may be omitted)",
            f"  API key:         {key}",
            f"  OpenAPI schema:  {base_url}/openapi.json",
            "=" * 78,
            "Try it:",
            f"  curl -s {base_url}/chatgpt/prs/list {auth} -d '{{\"state\": \"all\"}}'",
            f"  curl -s {base_url}/chatgpt/prs/comment {auth} -d '{{\"number\": {pr}, \"body\": \"Hello from the sandbox\"}}'",
            f"  curl -s {base_url}/chatgpt/prs/label {auth} -d '{{\"number\": {pr}, \"labels\": [\"bug\"]}}'",
            f"  curl -s {base_url}/chatgpt/dispatch {auth} -d '{{\"event_type\": \"deploy\", \"request_id\": \"demo-1\", \"client_payload\": {{\"env\": \"staging\"}}}}'",
            f"  curl -s {base_url}/chatgpt/dispatch/status {auth} -d '{{\"request_id\": \"demo-1\", \"wait_seconds\": 20}}'",
            *([f"  Sign in with GitHub on the consent page as {self._people()}."] if self.people else []),
            "Set GITHUB_TOKEN and CONNECTOR_API_KEY to talk to real GitHub.",
            "",
        ]
        return "\n".join(lines)


    def _people(self) -> str:
        assert self.people is not None
        return " or ".join(f"{login} ({level})" for login, level in self.people["users"].items())


def start_sandbox(settings: Settings) -> Sandbox:
    """Start the double and return settings that point the connector at it."""
    token = secrets.token_urlsafe(24)
    double = GitHubDouble(token=token).start()
    demo = seed_demo(double)
    # A workflow that runs for every dispatch, named after its request_id, so what a dispatch
    # started can be followed: it starts after 5 s and succeeds after 10 s.
    double.add_workflow(demo["owner"], demo["repo"], "Deploy", jobs=["build", "deploy"])
    double.auto_advance(after_seconds=5)
    api_keys, generated_key = settings.api_keys, None
    if not api_keys:
        generated_key = secrets.token_urlsafe(32)
        api_keys = (Secret(generated_key),)
    sandbox_settings = dataclasses.replace(
        settings,
        sandbox=True,
        github_token=Secret(token),
        github_app_id=None,
        github_app_private_key=None,
        github_app_installation_id=None,
        github_api_url=double.url,
        default_repo=(demo["owner"], demo["repo"]),
        api_keys=api_keys,
    )
    people = None
    if sandbox_settings.oauth_mode == "embedded":
        # "Sign in with GitHub" against the double, as two people with different permissions. The
        # double lets a loopback callback's port differ, as GitHub does, so the port chosen later fits.
        callbacks = [f"http://{host}{CALLBACK_PATH}" for host in ("127.0.0.1", "localhost")]
        if settings.public_base_url is not None:  # behind a tunnel, say, for ChatGPT
            callbacks.insert(0, settings.public_base_url.rstrip("/") + CALLBACK_PATH)
        people = seed_demo_users(double, callbacks)
        sandbox_settings = dataclasses.replace(sandbox_settings, github_oauth_client_id=people["client_id"],
                                               github_oauth_client_secret=Secret(people["client_secret"]))
    return Sandbox(double=double, settings=sandbox_settings, demo=demo, api_key=generated_key, people=people)
