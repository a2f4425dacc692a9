"""Load run for long-polls and run event streams: do waiting callers slow anyone else down, and how
many GitHub calls do they make? Prints a Markdown report; exits 1 if an ordinary call failed.

    python bench/waits.py [--seconds 8] [--waiters 200] [--python PATH]

What runs, on loopback:
- the GitHub double, in this process (so its request log can be counted), with the demo repository
  and a workflow whose run stays queued, so every wait lasts its full ``wait_seconds``;
- ``python -m connector serve`` (one worker, as an operator starts it), with a keys file of
  ``--waiters / 4 + 2`` keys;
- the load generator, in this process: asyncio connections.

Each phase measures, for ``--seconds``, two callers sending one request after another: ``GET
/health`` and another key's ``list_pull_requests``. Phases:
1. **idle**: nothing else open;
2. **one key**: the waiting key opens ``--waiters`` requests at once, half long-polls
   (``get_workflow_run`` with ``wait_seconds``) and half event streams, on the same run; past the
   per-caller cap (4) they are refused with 429, which is counted;
3. **many keys**: the same number spread over ``--waiters / 4`` keys, four each, so all of them
   are admitted (the process cap is 200) and held open together.

Reported per phase: p50 and p99 of both callers, the other key's p99 ÷ its idle p99 (target ≤ 2),
/health's p99 (target < 50 ms), how the waiting requests were answered, and the GitHub calls the
connector made during the phase (the double's log), against the ones a single watcher would make.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load import DIRECT, Connection, Process, percentile, wait_for_port  # bench/load.py: the same client
from run import ROOT, TOKEN, free_port

from connector.ghdouble import GitHubDouble, seed_demo
from connector.ghdouble.records import RATE_LIMIT

OWNER, REPO = "octo-demo", "hello-connector"
POLL_SECONDS = 3.0  # connector.api.runs.POLL_SECONDS


def keys_file(path: Path, count: int) -> list[str]:
    keys = [f"bench-wait-key-{n:03d}-0123456789abcdef" for n in range(count)]
    path.write_text("".join(
        f'[[keys]]\nname = "bench-{n}"\nsha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n'
        'scopes = ["prs:read", "runs:read", "dispatch"]\n\n' for n, key in enumerate(keys)))
    return keys


def start_connector(python: str, github_url: str, keys: Path, workdir: Path) -> tuple[Process, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONNECTOR_", "GITHUB_"))}
    env.update(GITHUB_TOKEN=TOKEN, GITHUB_API_URL=github_url, CONNECTOR_KEYS_FILE=str(keys),
               CONNECTOR_ALLOWED_REPOS=f"{OWNER}/{REPO}", PUBLIC_BASE_URL="https://bench.example",
               CONNECTOR_MCP="false", CONNECTOR_AUDIT_LOG=str(workdir / "audit.log"))
    argv = [python, "-m", "connector", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    process = Process("connector", argv, workdir / "connector.log", env)
    wait_for_port(process, port, timeout=30)
    return process, f"http://127.0.0.1:{port}"


async def measure(url: str, other_key: str, seconds: float) -> dict[str, list[float]]:
    """/health and the other key's list_pull_requests, each sent back to back for ``seconds``."""
    latencies: dict[str, list[float]] = {"health": [], "other": []}
    errors: list[str] = []

    async def caller(kind: str) -> None:
        http = Connection(url, f"Bearer {other_key}")
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            started = time.perf_counter()
            if kind == "health":
                status, _, body = await http.request("GET", "/health", None)
            else:
                status, _, body = await http.request("POST", "/chatgpt/prs/list", {"owner": OWNER, "repo": REPO})
            latencies[kind].append(time.perf_counter() - started)
            if status != 200:
                errors.append(f"{kind}: {status} {body[:200]!r}")
        http.close()

    await asyncio.gather(caller("health"), caller("other"))
    if errors:
        raise RuntimeError(f"{len(errors)} ordinary call(s) failed, e.g. {errors[0]}")
    return latencies


async def open_wait(url: str, key: str, run_id: int, wait_seconds: int) -> str:
    http = Connection(url, f"Bearer {key}")
    try:
        status, _, _ = await http.request("POST", "/chatgpt/runs/get", {"owner": OWNER, "repo": REPO,
                                                                        "run_id": run_id, "wait_seconds": wait_seconds})
        return f"wait {status}"
    finally:
        http.close()


async def open_stream(url: str, key: str, run_id: int, hold: float) -> str:
    """A stream opened and held for ``hold`` seconds (its first event read), or its refusal."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET /v1/runs/{OWNER}/{REPO}/{run_id}/events HTTP/1.1\r\nHost: {host}\r\n"
                     f"Authorization: Bearer {key}\r\n\r\n".encode())
        status = int((await reader.readline()).split(b" ", 2)[1])
        if status == 200:
            await reader.readuntil(b"\n\n")  # headers
            await reader.readuntil(b"\n\n")  # the first status event
            await asyncio.sleep(hold)
        return f"stream {status}"
    finally:
        writer.close()


async def phase(url: str, other_key: str, waiting_keys: list[str], per_key: int, run_id: int,
                seconds: float) -> tuple[dict[str, list[float]], Counter[str]]:
    """Open the waiting requests, then measure while they are open."""
    hold = seconds + 2
    waiting = []
    for n in range(per_key * len(waiting_keys)):
        key = waiting_keys[n % len(waiting_keys)]
        opener = open_wait(url, key, run_id, min(25, int(hold) + 1)) if n % 2 == 0 else open_stream(url, key, run_id, hold)
        waiting.append(asyncio.ensure_future(opener))
    if waiting:
        await asyncio.sleep(1.0)  # all of them are open (or refused) now
    latencies = await measure(url, other_key, seconds)
    outcomes = Counter(await asyncio.gather(*waiting)) if waiting else Counter()
    return latencies, outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--waiters", type=int, default=200)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-waits-"))
    many = args.waiters // 4
    keys = keys_file(workdir / "keys.toml", many + 2)
    other_key, one_key, spread = keys[0], keys[1], keys[2:]

    double = GitHubDouble(token=TOKEN, check_answers=False).start()  # GitHub's speed, not the tests' guard
    seed_demo(double)
    double.add_workflow(OWNER, REPO, "Deploy", types=["deploy"], jobs=["build"])
    connector, url = start_connector(args.python, double.url, workdir / "keys.toml", workdir)
    rows = []
    try:
        request = urllib.request.Request(f"{url}/chatgpt/dispatch", method="POST", headers={
            "Authorization": f"Bearer {one_key}", "Content-Type": "application/json"},
            data=json.dumps({"owner": OWNER, "repo": REPO, "event_type": "deploy"}).encode())
        with DIRECT.open(request, timeout=30) as answer:
            if answer.status != 202:
                raise RuntimeError(f"the dispatch was answered {answer.status}:\n{connector.tail()}")
        [run] = double.runs(OWNER, REPO)
        asyncio.run(measure(url, other_key, 1.0))  # warm-up
        for name, waiting_keys, per_key in (("idle", [], 0), ("one key", [one_key], args.waiters),
                                            ("many keys", spread, 4)):
            double.clear_requests()
            double.set_quota(RATE_LIMIT - 1, 3600)
            started = time.monotonic()
            latencies, outcomes = asyncio.run(phase(url, other_key, waiting_keys, per_key, run["id"], args.seconds))
            elapsed = time.monotonic() - started
            run_reads = len(double.calls("GET", f"/repos/{OWNER}/{REPO}/actions/runs/{run['id']}"))
            pulls = len(double.calls("GET", f"/repos/{OWNER}/{REPO}/pulls"))
            rows.append((name, latencies, outcomes, run_reads, pulls, elapsed))
    finally:
        connector.stop()
        double.stop()

    idle_other = percentile(rows[0][1]["other"], 99)
    print(f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.node() or 'this machine'}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, at {_commit()}\n")
    print(f"`python bench/waits.py --seconds {args.seconds:g} --waiters {args.waiters}`; one worker, "
          f"run state from the API (no webhooks), polls every {POLL_SECONDS:g} s.\n")
    print("| phase | waiting requests | /health p50 / p99 | other key p50 / p99 | other key p99 ÷ idle | "
          "GitHub run reads (one watcher: first read + one per poll) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, latencies, outcomes, run_reads, _pulls, elapsed in rows:
        health, other = latencies["health"], latencies["other"]
        answered = ", ".join(f"{count} × {outcome}" for outcome, count in sorted(outcomes.items())) or "none"
        one_watcher = 1 + int(elapsed / POLL_SECONDS)
        print(f"| {name} | {answered} | {statistics.median(health) * 1e3:.1f} / {percentile(health, 99) * 1e3:.1f} ms "
              f"| {statistics.median(other) * 1e3:.1f} / {percentile(other, 99) * 1e3:.1f} ms "
              f"| {percentile(other, 99) / idle_other:.2f} | {run_reads} ({one_watcher}) |")
    worst_health = max(percentile(row[1]["health"], 99) for row in rows)
    worst_ratio = max(percentile(row[1]["other"], 99) / idle_other for row in rows)
    print(f"\n/health p99, worst phase: {worst_health * 1e3:.1f} ms (target < 50 ms); other key's p99 ÷ idle, "
          f"worst phase: {worst_ratio:.2f} (target ≤ 2)")
    return 0


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
