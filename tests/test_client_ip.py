"""CONNECTOR_IP_ALLOWLIST and CONNECTOR_TRUSTED_PROXIES."""

from __future__ import annotations

import ipaddress

import pytest
import requests

from connector.app import create_app
from connector.config.settings import Settings, SettingsError
from connector.http.client_ip import client_ip
from tests.conftest import API_KEY, OWNER, REPO, LiveServer

PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)


def scope(peer: str, forwarded: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"type": "http", "client": (peer, 5000), "headers": headers}


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("203.0.113.9", None, "203.0.113.9"),                        # direct connection
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),              # untrusted peer: header ignored
    ("10.1.2.3", "198.51.100.1", "198.51.100.1"),                # via a trusted proxy
    ("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.9.9.9", "198.51.100.1"),  # client-written hops are ignored
    ("10.1.2.3", None, "10.1.2.3"),
    ("10.1.2.3", "10.4.4.4, 10.5.5.5", "10.4.4.4"),              # only proxies: the left-most
])
def test_the_caller_is_the_right_most_address_not_a_trusted_proxy(peer, forwarded, expected):
    assert client_ip(scope(peer, forwarded), PROXIES) == expected


def app_with(make_settings, **overrides):
    return create_app(make_settings(**overrides)).test_client(headers={"Authorization": f"Bearer {API_KEY}"})


@pytest.mark.one_github_layout
def test_callers_outside_the_allowlist_get_403_before_anything_else(make_settings, double):
    client = app_with(make_settings, ip_allowlist=(ipaddress.ip_network("192.0.2.0/24"),))

    response = client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO},
                           headers={"Origin": "https://chatgpt.com"})

    assert response.status_code == 403
    assert response.json()["code"] == "ip_not_allowed"
    assert response.headers["access-control-allow-origin"] == "https://chatgpt.com"
    assert double.requests == []


def test_behind_a_trusted_proxy_the_forwarded_address_decides(make_settings, double):
    settings = make_settings(ip_allowlist=(ipaddress.ip_network("192.0.2.0/24"),),
                             trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    auth = {"Authorization": f"Bearer {API_KEY}"}
    body = {"owner": OWNER, "repo": REPO}

    with LiveServer(create_app(settings)) as server:
        allowed = requests.post(f"{server.url}/chatgpt/prs/list", json=body, timeout=10,
                                headers={**auth, "X-Forwarded-For": "192.0.2.7"})
        refused = requests.post(f"{server.url}/chatgpt/prs/list", json=body, timeout=10,
                                headers={**auth, "X-Forwarded-For": "198.51.100.7"})
        spoofed = requests.post(f"{server.url}/chatgpt/prs/list", json=body, timeout=10,
                                headers={**auth, "X-Forwarded-For": "192.0.2.7, 198.51.100.7"})

    assert allowed.status_code == 200
    assert refused.status_code == 403 and "198.51.100.7" in refused.json()["detail"]
    assert spoofed.status_code == 403  # the left-most hop was written by the client


@pytest.mark.one_github_layout
def test_without_trusted_proxies_the_forwarded_header_is_ignored(make_settings, double):
    settings = make_settings(ip_allowlist=(ipaddress.ip_network("192.0.2.0/24"),))

    with LiveServer(create_app(settings)) as server:
        response = requests.post(f"{server.url}/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO},
                                 timeout=10, headers={"Authorization": f"Bearer {API_KEY}",
                                                      "X-Forwarded-For": "192.0.2.7"})

    assert response.status_code == 403
    assert "127.0.0.1" in response.json()["detail"]


def test_networks_are_read_from_the_environment():
    settings = Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_IP_ALLOWLIST": "192.0.2.0/24, 2001:db8::1",
                                  "CONNECTOR_TRUSTED_PROXIES": "10.0.0.0/8"})

    assert [str(n) for n in settings.ip_allowlist] == ["192.0.2.0/24", "2001:db8::1/128"]
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8"]


@pytest.mark.parametrize("name", ["CONNECTOR_IP_ALLOWLIST", "CONNECTOR_TRUSTED_PROXIES"])
def test_malformed_networks_fail_start_up(name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, name: "10.0.0.0/33"})
