"""Demo data for the zero-setup sandbox mode.

A first-time user should be able to try every connector action without a GitHub token, so
the sandbox serves one small repository that exercises the interesting cases: drafts,
several authors, labelled and unlabelled PRs, closed and merged PRs, and a plain issue
(which must not show up as a pull request); and, to sign in with GitHub, two people with
different permissions on it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import GitHubDouble

__all__ = ["DEMO_REPOSITORY", "seed_demo", "seed_demo_users"]

# The sandbox's repository, and so its default (owner, repo).
DEMO_REPOSITORY = ("octo-demo", "hello-connector")

DEMO_LABELS: tuple[str | dict[str, str], ...] = (
    "bug", "enhancement", "documentation", "good first issue",
    {"name": "needs-review", "color": "fbca04", "description": "Waiting for a maintainer's review"},
)


def seed_demo(double: GitHubDouble, owner: str = DEMO_REPOSITORY[0],
              name: str = DEMO_REPOSITORY[1]) -> dict[str, Any]:
    """Create the demo repository in ``double`` and describe what was created."""
    double.add_repo(owner, name, labels=DEMO_LABELS,
                    description="Demo repository served by the connector's sandbox mode")
    merged = double.add_pull(owner, name, title="Initial project layout", user="octocat",
                             merged=True, head="initial-layout",
                             body="Sets up the package, CI and a README.")
    closed = double.add_pull(owner, name, title="Experiment: GraphQL client", user="hubot",
                             state="closed", head="graphql-spike",
                             body="Superseded by the REST client; closing.")
    retry = double.add_pull(owner, name, title="Add retry with backoff to the GitHub client",
                            user="mona", labels=("enhancement", "needs-review"),
                            head="retry-backoff",
                            body="Retries secondary rate limits, honouring `retry-after`.")
    typo = double.add_pull(owner, name, title="Fix typo in README", user="hubot",
                           head="hubot:readme-typo", body=None)
    draft = double.add_pull(owner, name, title="WIP: sandbox mode", user="octocat", draft=True,
                            head="sandbox-mode", body="Not ready yet.")
    issue = double.add_issue(owner, name, title="Document the sandbox mode", user="mona",
                             labels=("documentation", "good first issue"),
                             body="Explain how to try the connector without a token.")
    return {
        "owner": owner,
        "repo": name,
        "full_name": f"{owner}/{name}",
        "open_pulls": [retry, typo, draft],
        "draft_pull": draft,
        "labelled_pull": retry,
        "closed_pulls": [merged, closed],
        "merged_pull": merged,
        "issue": issue,
        "labels": [label if isinstance(label, str) else label["name"] for label in DEMO_LABELS],
    }


def seed_demo_users(double: GitHubDouble, callback_urls: Sequence[str]) -> dict[str, Any]:
    """A GitHub App to sign in with (expiring tokens, installed on the demo organisation), and two
    people in that organisation with different permissions on the demo repository: mona may
    write, hubot only read (comment, but not label or dispatch). The client secret is new each
    time, since a sandbox's URL may be reachable by others."""
    owner, full_name = DEMO_REPOSITORY[0], "/".join(DEMO_REPOSITORY)
    client_id, client_secret = "Iv23liSandbox" + secrets.token_hex(4), secrets.token_urlsafe(30)
    double.register_oauth_app(client_id, client_secret, callback_urls, name="Connector sandbox",
                              installed_on=[f"{owner}/*"])
    users = {"mona": "write", "hubot": "read"}
    for (login, level), name in zip(users.items(), ("Mona Lisa Octocat", "Hubot"), strict=True):
        double.add_user(login, name=name, orgs=[owner], permissions={full_name: level})
    return {"client_id": client_id, "client_secret": client_secret, "users": users, "org": owner}
