"""Load run: the connector started as an operator starts it, under a mixed workload, with one and
two workers and with the memory and the Redis stores. Prints a Markdown report; exits 1 if any
request failed.

    python bench/load.py [--seconds 14] [--round 2] [--warmup 2] [--concurrency 16] [--workers 1 2]
                         [--python PATH]

--python names the interpreter for the servers (default: this one), as in bench/run.py: point it
at a production install. The servers run this checkout's code either way.

What runs, all on loopback, each in a process of its own:
- the GitHub double with the demo repository, as ``bench/serve.py double`` runs it, its quota kept
  topped up;
- one ``redis-server``, a database per Redis-backed connector;
- per configuration, ``python -m connector serve --workers N`` configured from the environment
  (a token, one API key, an allowed repository, MCP off, an audit log file, a per-key rate limit
  of 100000/minute so limits are counted but never refuse) and, for the Redis variants,
  ``CONNECTOR_REDIS_URL``: idempotency claims, rate-limit counters and run state then live in Redis;
- the load generator, in this process: an asyncio client holding ``--concurrency`` keep-alive
  connections, each sending the next request as soon as the last one is answered.

The mixed workload, per request: 50 % list_pull_requests, 20 % dispatch_event with a fresh
request_id (202), 15 % comment_on_pull_request with a fresh request_id (201), 10 %
add_labels_to_pull_request (["bug"], 200) and 5 % a dispatch repeated with the request_id and body
of an earlier one (202, answered from the idempotency store). Anything but the expected 2xx, or no
answer, is an error; the report counts them, warm-up included, and the run fails unless it is 0.
A repeat that reached GitHub again (no ``Idempotent-Replayed`` header) is not an error but is
counted: with several workers and the memory store, each worker has its own claims.

Measured in one run, on one machine: every configuration is started first and warmed up, then
the load goes to each in turn in rounds of ``--round`` seconds until each has had ``--seconds``,
so drift on a shared machine hits all of them alike. The floor, in the same rounds with the same
client: the double alone answering ``GET /repos/{o}/{r}/pulls``, the call a list request makes.
The mix makes about 1.2 GitHub calls per request (comments and labels two or three, repeats none)
and the double spends about as much CPU on a connector request as on a floor request, so "floor /
this" near 1 would mean the double is what limits the connector, and well above it that the
connector does. The Redis overhead compares memory and Redis at the same worker
count: throughput memory ÷ Redis and p50 latency Redis ÷ memory, each the median of per-round
ratios (rounds a few seconds apart), and the connector's CPU time per request, Redis ÷ memory,
which a busy machine disturbs least; above 1 means Redis costs that much more. Nothing is pinned
to a core (two workers need both); the CPU time per request of each process, and the share of the
machine other processes took, show who used the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from run import API_KEY, ROOT, TOKEN, _cpu, free_port, install_kind  # bench/run.py: same keys, same helpers

OWNER, REPO, PR = "octo-demo", "hello-connector", 3  # seed_demo: the demo repository and an open PR
RATE_LIMIT = "100000/minute"
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, whatever http_proxy says
MIX = (("list", 50), ("dispatch", 20), ("comment", 15), ("label", 10), ("repeat", 5))
EXPECTED = {"list": 200, "dispatch": 202, "comment": 201, "label": 200, "repeat": 202, "floor": 200}


def proc_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes and all their descendants (uvicorn's workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, list(pids)
    while todo:
        pid = todo.pop()
        todo += parents.get(pid, [])
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores, every process), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Process:
    """A server process in a session of its own, its output in a log file, stopped with SIGTERM."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM and wait (uvicorn lets requests in flight finish); SIGKILL the group if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        try:  # a worker that outlived its parent
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for_port(process: Process, port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.check_running()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{process.name} did not listen on {port}:\n{process.tail()}")


def start_double(python: str, workdir: Path) -> tuple[Process, str]:
    port = free_port()
    double = Process("double", [python, str(ROOT / "bench" / "serve.py"), "double", str(port), "-", TOKEN, "-"],
                     workdir / "double.log")
    wait_for_port(double, port)
    return double, f"http://127.0.0.1:{port}"


def start_redis(workdir: Path) -> tuple[Process, int]:
    port = free_port()
    redis = Process("redis-server", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no", "--dir", str(workdir)], workdir / "redis.log")
    wait_for_port(redis, port)
    return redis, port


@dataclass
class Target:
    """Where the load goes: a connector configuration, or the double itself (the floor)."""

    name: str
    url: str
    workers: int = 0
    store: str = ""
    process: Process | None = None
    requests: int = 0  # answered as expected, in the measured rounds
    sent: int = 0  # all requests of the measured rounds
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    round_rps: list[float] = field(default_factory=list)
    round_p50: list[float] = field(default_factory=list)
    repeats: int = 0
    replayed: int = 0
    cpu: dict[str, float] = field(default_factory=lambda: {"server": 0.0, "double": 0.0, "redis": 0.0, "client": 0.0})
    dispatched: deque = field(default_factory=lambda: deque(maxlen=200))  # bodies of answered dispatches
    serial: int = 0

    @property
    def is_floor(self) -> bool:
        return self.process is None


def start_connector(name: str, workers: int, redis_url: str | None, github_url: str, python: str,
                    workdir: Path) -> Target:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONNECTOR_", "GITHUB_"))}
    env.update(GITHUB_TOKEN=TOKEN, GITHUB_API_URL=github_url, CONNECTOR_API_KEY=API_KEY,
               CONNECTOR_ALLOWED_REPOS=f"{OWNER}/{REPO}", PUBLIC_BASE_URL="https://bench.example",
               CONNECTOR_MCP="false", CONNECTOR_AUDIT_LOG=str(workdir / f"{name}.audit.log"),
               CONNECTOR_RATE_LIMIT=RATE_LIMIT)
    if redis_url is not None:
        env["CONNECTOR_REDIS_URL"] = redis_url
    # As an operator starts it; `-m` from the checkout runs this checkout's code in any install.
    argv = [python, "-m", "connector", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    process = Process(name, argv, workdir / f"{name}.log", env)
    return Target(name, f"http://127.0.0.1:{port}", workers, "Redis" if redis_url else "memory", process)


def wait_until_serving(target: Target, timeout: float = 30) -> None:
    """GET /health answers 200 and every worker has logged the end of its start-up."""
    assert target.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        target.process.check_running()
        started = target.process.log.read_text(errors="replace").count("Application startup complete")
        try:
            with DIRECT.open(f"{target.url}/health", timeout=1) as response:
                healthy = response.status == 200
        except OSError:
            healthy = False
        if healthy and started >= target.workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{target.name} did not start serving in {timeout:.0f} s:\n{target.process.tail()}")


def next_request(target: Target, rng: random.Random) -> tuple[str, str, str, dict | None]:
    """(kind, method, path, JSON body) of the next request of the mixed workload."""
    if target.is_floor:
        return "floor", "GET", f"/repos/{OWNER}/{REPO}/pulls?state=open&per_page=20", None
    kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
    repo = {"owner": OWNER, "repo": REPO}
    target.serial += 1
    request_id = f"{target.name}-{target.serial}"
    if kind == "repeat" and target.dispatched:
        return kind, "POST", "/chatgpt/dispatch", rng.choice(target.dispatched)
    if kind in ("dispatch", "repeat"):
        return "dispatch", "POST", "/chatgpt/dispatch", {**repo, "event_type": "deploy", "request_id": request_id}
    if kind == "comment":
        return kind, "POST", "/chatgpt/prs/comment", {**repo, "number": PR, "body": f"Load test comment {request_id}.",
                                                      "request_id": request_id}
    if kind == "label":
        return kind, "POST", "/chatgpt/prs/label", {**repo, "number": PR, "labels": ["bug"]}
    return kind, "POST", "/chatgpt/prs/list", repo


class Connection:
    """One keep-alive HTTP/1.1 connection, requests sent one after the other.

    Deliberately minimal: httpx's AsyncClient measured 1.4-1.8 ms of CPU per request on this VM
    (this client 0.1 ms), which on two cores took a third of the machine from the servers under
    test and made the client, not the double, the limit of the floor.
    """

    def __init__(self, url: str, authorization: str) -> None:
        self.host, self.port = url.removeprefix("http://").split(":")
        self.head = f"Host: {self.host}:{self.port}\r\nAuthorization: {authorization}\r\n"
        self.stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: dict | None) -> tuple[int, dict[str, str], bytes]:
        if self.stream is None:
            self.stream = await asyncio.open_connection(self.host, int(self.port))
        reader, writer = self.stream
        payload = b"" if body is None else json.dumps(body).encode()
        content = f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n" if body is not None else ""
        writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{content}\r\n".encode() + payload)
        status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (line.partition(":") for line in lines if line)}
        if "content-length" in headers:
            data = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            data = b""
            while size := int((await reader.readline()).split(b";")[0], 16):
                data += (await reader.readexactly(size + 2))[:-2]
            while (await reader.readline()) not in (b"\r\n", b""):  # trailers
                pass
        else:
            raise ConnectionError("a response with neither Content-Length nor chunked encoding")
        if headers.get("connection") == "close":
            self.close()
        return int(status_line.split(" ", 2)[1]), headers, data

    def close(self) -> None:
        if self.stream is not None:
            self.stream[1].close()
            self.stream = None


async def load(target: Target, seconds: float, concurrency: int, rng: random.Random, *, measure: bool) -> None:
    """``concurrency`` connections sending requests back to back for ``seconds``."""
    auth = f"token {TOKEN}" if target.is_floor else f"Bearer {API_KEY}"
    latencies: list[float] = []

    async def connection(stop: float) -> None:
        # Fresh connections per round: ones idle between rounds would outlive uvicorn's keep-alive.
        http = Connection(target.url, auth)
        while time.perf_counter() < stop:
            kind, method, path, body = next_request(target, rng)
            start = time.perf_counter()
            try:
                async with asyncio.timeout(30):
                    status, headers, data = await http.request(method, path, body)
                failure = None if status == EXPECTED[kind] else \
                    f"{kind}: {status} {data[:200].decode(errors='replace').strip()}"
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
                http.close()
                headers, failure = {}, f"{kind}: {type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - start
            target.sent += measure
            target.errors += failure is not None
            if failure is not None:
                if len(target.error_samples) < 5:
                    target.error_samples.append(failure)
                continue
            if kind == "dispatch":
                target.dispatched.append(body)
            if measure:
                latencies.append(elapsed)
                if kind == "repeat":
                    target.repeats += 1
                    target.replayed += headers.get("idempotent-replayed") == "true"
        http.close()

    begin = time.perf_counter()
    await asyncio.gather(*(connection(begin + seconds) for _ in range(concurrency)))
    elapsed = time.perf_counter() - begin
    if measure:
        target.latencies += latencies
        target.requests += len(latencies)
        target.seconds += elapsed
        target.round_rps.append(len(latencies) / elapsed)
        target.round_p50.append(statistics.median(latencies) if latencies else float("nan"))


def measured_round(target: Target, args: argparse.Namespace, rng: random.Random, double: Process,
                   redis: Process) -> None:
    pids = {"server": [target.process.pid] if target.process else [], "double": [double.pid], "redis": [redis.pid]}
    before = {name: proc_cpu_seconds(p) for name, p in pids.items()}
    client_before = sum(os.times()[:2])
    asyncio.run(load(target, args.round, args.concurrency, rng, measure=True))
    target.cpu["client"] += sum(os.times()[:2]) - client_before
    for name, p in pids.items():
        target.cpu[name] += proc_cpu_seconds(p) - before[name]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def server_python(python: str) -> str:
    return subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def report(targets: list[Target], args: argparse.Namespace, load_before: float, started: datetime,
           machine: tuple[float, float]) -> None:
    floor = targets[0]
    floor_rps = floor.requests / floor.seconds
    rounds = len(floor.round_rps)
    busy, wall = machine
    ours = sum(sum(t.cpu.values()) for t in targets)
    capacity = wall * (os.cpu_count() or 1)
    print(f"## {started:%Y-%m-%d %H:%M} UTC — {platform.node()}")
    print(f"{platform.system()} {platform.release()} {platform.machine()}, {_cpu()}, {os.cpu_count()} cores, "
          f"Python {server_python(args.python)}; servers: {args.python}, {install_kind(args.python)}; "
          f"load average before the run {load_before:.2f}; during the measured rounds the cores were "
          f"{busy / capacity:.0%} busy, {ours / capacity:.0%} with this run's processes and "
          f"{max(busy - ours, 0) / capacity:.0%} with others\n")
    print(f"Mixed workload ({', '.join(f'{w} % {k}' for k, w in MIX)}), {args.concurrency} connections, "
          f"{rounds} interleaved rounds of {args.round:g} s per configuration after {args.warmup:g} s of warm-up; "
          f"rate limit {RATE_LIMIT} per key. Floor: the double alone, `GET /repos/{{o}}/{{r}}/pulls`, same client.\n")
    print("| configuration | req/s | floor / this | p50 ms | p99 ms | errors | repeats replayed "
          "| CPU ms per request: connector / double / Redis / client |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for t in targets:
        rps = t.requests / t.seconds
        cpu = " / ".join(f"{t.cpu[k] / t.sent * 1000:.2f}" if not (t.is_floor and k in ("server", "redis"))
                         else "—" for k in ("server", "double", "redis", "client"))
        name = "floor: the double alone" if t.is_floor else f"{t.workers} worker{'s' * (t.workers > 1)}, {t.store}"
        replayed = "—" if t.is_floor else f"{t.replayed} / {t.repeats}"
        print(f"| {name} | {rps:.0f} | {floor_rps / rps:.2f} | {percentile(t.latencies, 50) * 1000:.1f} | "
              f"{percentile(t.latencies, 99) * 1000:.1f} | {t.errors} | {replayed} | {cpu} |")
    print()
    print("| Redis overhead, same worker count | throughput, memory ÷ Redis | p50 latency, Redis ÷ memory "
          "| connector CPU per request, Redis ÷ memory | redis-server CPU per request |")
    print("| --- | --- | --- | --- | --- |")
    for memory in (t for t in targets if t.store == "memory"):
        redis = next(t for t in targets if t.store == "Redis" and t.workers == memory.workers)
        throughput = statistics.median(m / r for m, r in zip(memory.round_rps, redis.round_rps, strict=True))
        latency = statistics.median(r / m for m, r in zip(memory.round_p50, redis.round_p50, strict=True))
        cpu = (redis.cpu["server"] / redis.sent) / (memory.cpu["server"] / memory.sent)
        print(f"| {memory.workers} worker{'s' * (memory.workers > 1)} | {throughput:.2f} | {latency:.2f} | "
              f"{cpu:.2f} | {redis.cpu['redis'] / redis.sent * 1000:.2f} ms |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=14.0, help="measured seconds per configuration")
    parser.add_argument("--round", type=float, default=2.0, help="seconds per round")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per configuration")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the servers (default: this one)")
    args = parser.parse_args()
    rounds = max(1, round(args.seconds / args.round))
    started, load_before = datetime.now(UTC), os.getloadavg()[0]
    rng = random.Random(1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out

    processes: list[Process] = []
    with tempfile.TemporaryDirectory(prefix="connector-load-") as tmp:
        workdir = Path(tmp)
        try:
            redis, redis_port = start_redis(workdir)
            processes.append(redis)
            double, github_url = start_double(args.python, workdir)
            processes.append(double)
            targets = [Target("floor", github_url)]
            for workers in args.workers:
                for store in ("memory", "redis"):
                    url = f"redis://127.0.0.1:{redis_port}/{len(targets)}" if store == "redis" else None
                    target = start_connector(f"w{workers}-{store}", workers, url, github_url, args.python, workdir)
                    processes.append(target.process)
                    targets.append(target)
            for target in targets[1:]:
                wait_until_serving(target)
            for target in targets:
                asyncio.run(load(target, args.warmup, args.concurrency, rng, measure=False))
            busy, begin = machine_busy_seconds(), time.monotonic()
            for _ in range(rounds):
                for target in targets:
                    measured_round(target, args, rng, double, redis)
            machine = (machine_busy_seconds() - busy, time.monotonic() - begin)
            for target in targets[1:]:
                target.process.check_running()
        finally:
            for process in reversed(processes):
                process.stop()

    report(targets, args, load_before, started, machine)
    failed = [t for t in targets if t.errors]
    for t in failed:
        print(f"\n{t.name}: {t.errors} errors, e.g.\n  " + "\n  ".join(t.error_samples), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
