"""Fixtures for the GitHub double's own tests: one double per test module, seeded with the demo
repository afresh for each test, and a session that authenticates to it.

A module uses them by importing them (``from tests.demo_double import demo_gh, demo_http,
demo_shared``): pytest finds them in the module under their fixture names ``gh``, ``http`` and
``shared`` (which the tests' own parameters do not then shadow), and ``shared`` stays one double
per module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from connector.ghdouble import GitHubDouble, seed_demo

__all__ = ["AUTH", "NAME", "OWNER", "demo_gh", "demo_http", "demo_shared"]

OWNER, NAME = "octo-demo", "hello-connector"  # seed_demo's repository
AUTH = {"Authorization": "token test-token"}  # GitHubDouble's default token


@pytest.fixture(scope="module", name="shared")
def demo_shared() -> Iterator[GitHubDouble]:
    with GitHubDouble() as double:
        yield double


@pytest.fixture(name="gh")
def demo_gh(shared: GitHubDouble) -> Iterator[GitHubDouble]:
    shared.reset()
    seed_demo(shared)
    yield shared
    shared.reset()  # stop timers and webhooks before the next test's receiver exists


@pytest.fixture(name="http")
def demo_http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(AUTH)
        yield session
