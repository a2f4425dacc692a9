"""Benchmarks of the connector against the GitHub double (no added latency). Prints a Markdown report.

    python bench/run.py [--requests 2000] [--concurrency 8] [--seconds 5] [--python PATH]

--python names the interpreter for every process the bench starts (servers and cold starts;
default: this one). Point it at a production install, a virtualenv with ``pip install .`` and no
test extra: the test extra adds modules a deployment never loads (schemathesis brings rich and
pygments, which httpx then imports when Connexion imports it), and the report says which kind
of install was measured.

Measured in one run, on one machine:
1. overhead: median latency of list_pull_requests through the connector divided by the median of a
   bare ASGI app making the same GitHub call with the same client (both under uvicorn, one worker,
   requests interleaved in rounds so drift hits both alike); for the connector as deployed by
   default and for one with response validation on, as in the test suite;
2. throughput: requests per second of one connector worker under concurrent clients;
3. cold start: import of the app plus loading and validating the spec and building the app, next
   to a floor measured in the same run: a fresh interpreter importing what the bare app needs
   (PyGithub and Starlette), so that a slow or busy machine shows as such;
4. resident memory of the connector worker: started, after the sequential run, after the concurrent
   run (each concurrent request holds a worker thread, and threads bring malloc arenas);
The double runs in a process of its own for 1, 2 and 4, so the load generator does not slow it
down; the server under test has one core to itself, the double and the load generator the other.
5. GitHub calls per operation, from the double's request log;
6. what PyGithub's default write pacing would cost a shared client (5 comments in a row).
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connector.ghdouble import GitHubDouble, seed_demo  # noqa: E402

TOKEN = "bench-github-token-0123456789"
API_KEY = "bench-api-key-0123456789abcdef"
OAUTH_ISSUER = "https://bench.example"  # the connectors' PUBLIC_BASE_URL in bench/serve.py
LIST_BODY = {"state": "all", "per_page": 20}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pin(cpu: int) -> Callable[[], None] | None:
    """Keep the server under test on one core and GitHub plus the load generator on the other,
    so they do not steal each other's time (on a machine with at least two cores)."""
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


class Server:
    python = sys.executable  # set from --python

    def __init__(self, kind: str, github_url: str = "-", env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [self.python, str(ROOT / "bench" / "serve.py"), kind, str(self.port), github_url, TOKEN, API_KEY],
            preexec_fn=pin(1 if kind == "double" else 0), env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{kind} server did not start")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def timed_calls(session: requests.Session, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = session.post(url, json=LIST_BODY)  # the session carries the credential
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
    return samples


def overhead(connectors: dict[str, Server], bare: Server, total: int,
             credentials: dict[str, str] | None = None) -> dict[str, dict[str, float]]:
    """For each server: its median latency, server CPU time per request and, for each connector,
    the median of its per-round latency ratios against the bare app (rounds interleave all the
    servers, so a noisy neighbour hits them alike). Each connector is called with the API key, or
    the credential ``credentials`` names for it (an OAuth access token)."""
    servers = {**connectors, "bare": bare}
    urls = {name: f"{server.url}/chatgpt/prs/list" for name, server in connectors.items()} | {"bare": f"{bare.url}/list"}
    sessions = {name: requests.Session() for name in servers}
    for name, session in sessions.items():
        session.headers["Authorization"] = f"Bearer {(credentials or {}).get(name, API_KEY)}"
    for name in servers:  # warm up connections, validators and caches
        timed_calls(sessions[name], urls[name], 100)
    samples: dict[str, list[float]] = {name: [] for name in servers}
    cpu = dict.fromkeys(servers, 0.0)
    ratios: dict[str, list[float]] = {name: [] for name in connectors}
    rounds = 20
    for _ in range(rounds):
        medians = {}
        for name, server in servers.items():
            before = server.cpu_seconds()
            batch = timed_calls(sessions[name], urls[name], total // rounds)
            cpu[name] += server.cpu_seconds() - before
            samples[name] += batch
            medians[name] = statistics.median(batch)
        for name in connectors:
            ratios[name].append(medians[name] / medians["bare"])
    count = rounds * (total // rounds)
    result = {name: {"ms": statistics.median(samples[name]) * 1000, "cpu_ms": cpu[name] / count * 1000}
              for name in servers}
    for name in connectors:
        result[name]["ratio"] = statistics.median(ratios[name])
    return result


def throughput(server: Server, concurrency: int, seconds: float) -> tuple[float, int]:
    done, errors = [0] * concurrency, [0] * concurrency
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            response = session.post(f"{server.url}/chatgpt/prs/list", json=LIST_BODY,
                                    headers={"Authorization": f"Bearer {API_KEY}"})
            done[index] += 1
            errors[index] += response.status_code != 200

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - start), sum(errors)


COLD_START = """
import time
start = time.perf_counter()
from connector.app import create_app
from connector.config.settings import Settings
from connector.types import Secret
create_app(Settings(api_keys=(Secret("k" * 32),), github_token=Secret("t"), github_api_url="http://127.0.0.1:9"))
print(time.perf_counter() - start)
"""

# What the bare ASGI app needs to start (its own code is a few lines): PyGithub and Starlette.
COLD_START_FLOOR = """
import time
start = time.perf_counter()
from github import Auth, Github
from starlette.concurrency import run_in_threadpool
print(time.perf_counter() - start)
"""


def cold_start(python: str, runs: int = 7) -> dict[str, tuple[float, float]]:
    """Median and fastest of `runs` fresh interpreters importing the app and building it, and of
    as many importing what the bare app needs, interleaved so that load hits both alike."""
    # A deployed connector imports compiled bytecode; make sure the project's own modules are
    # compiled even where PYTHONDONTWRITEBYTECODE is set (installed dependencies already are).
    subprocess.run([python, "-m", "compileall", "-q", "connector"], cwd=ROOT, check=True)
    times: dict[str, list[float]] = {"connector": [], "floor": []}
    for _ in range(runs):
        for name, code in (("floor", COLD_START_FLOOR), ("connector", COLD_START)):
            # `-c` puts the working directory first on sys.path: this checkout's code is measured
            # even where the interpreter has the project installed.
            out = subprocess.run([python, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
            times[name].append(float(out.stdout.strip().splitlines()[-1]))
    return {name: (statistics.median(values), min(values)) for name, values in times.items()}


def install_kind(python: str) -> str:
    has_test_extra = subprocess.run([python, "-c", "import importlib.util as u; print(u.find_spec('pytest') is not None)"],
                                    capture_output=True, text=True, check=True).stdout.strip() == "True"
    return "with the test extra" if has_test_extra else "production install (no test extra)"


def calls_per_operation(double: GitHubDouble, connector: Server) -> dict[str, int]:
    session, auth = requests.Session(), {"Authorization": f"Bearer {API_KEY}"}
    pr = 3
    operations = {
        "dispatch_event": ("/chatgpt/dispatch", {"event_type": "deploy"}),
        "list_pull_requests": ("/chatgpt/prs/list", {}),
        "comment_on_pull_request": ("/chatgpt/prs/comment", {"number": pr, "body": "bench"}),
        "add_labels_to_pull_request": ("/chatgpt/prs/label", {"number": pr, "labels": ["bug"]}),
        "add_labels_to_pull_request, label list cached": ("/chatgpt/prs/label", {"number": pr, "labels": ["bug"]}),
    }
    counts = {}
    for name, (path, body) in operations.items():
        double.clear_requests()
        response = session.post(connector.url + path, json=body, headers=auth)
        assert response.status_code < 300, response.text
        counts[name] = len(double.requests)
    return counts


def pygithub_write_pacing(double: GitHubDouble, writes: int = 5) -> tuple[float, float]:
    """Wall time of `writes` comments in a row (say, from different users) through one shared
    client: PyGithub's default pacing (1 s after the previous write, 0.25 s after any request)
    against the connector's client, which leaves pacing to GitHub's rate limits."""
    from github import Auth, Github

    from connector.github.client import GitHub
    from connector.types import Repository, Secret

    repo = Repository("octo-demo", "hello-connector")
    default = Github(auth=Auth.Token(TOKEN), base_url=double.url)
    ours = GitHub(base_url=double.url, token=Secret(TOKEN), timeout=10)
    path = f"{repo.path}/issues/3/comments"

    start = time.perf_counter()
    for _ in range(writes):
        default.requester.requestJsonAndCheck("POST", path, input={"body": "paced"})
    paced = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(writes):
        ours.create_comment(repo, 3, "unpaced")
    return paced, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter for the servers and cold starts (default: this one)")
    args = parser.parse_args()
    Server.python = args.python

    start = cold_start(args.python)  # first, on a quiet machine
    if pin(1) is not None:
        pin(1)()  # the load generator shares the GitHub double's core
    github = Server("double")
    connector, bare = Server("connector", github.url), Server("bare", github.url)
    validating = Server("connector-validating", github.url)
    key_file, access_token = oauth_credentials()
    with_oauth = Server("connector-oauth", github.url, env={"BENCH_OAUTH_KEY_FILE": key_file})
    try:
        time.sleep(0.5)
        rss_idle = connector.rss_mb()
        latency = overhead({"connector": connector, "validating": validating, "oauth": with_oauth}, bare,
                           args.requests, credentials={"oauth": access_token})
        rss_sequential = connector.rss_mb()
        rps, errors = throughput(connector, args.concurrency, args.seconds)
        bare_rps, _ = throughput(bare, args.concurrency, args.seconds)
        rss_concurrent = connector.rss_mb()
    finally:
        for server in (connector, validating, with_oauth, bare, github):
            server.stop()
        os.unlink(key_file)

    # Call counts need the double's request log, so this double runs in this process.
    double = GitHubDouble(token=TOKEN).start()
    seed_demo(double)
    counted = Server("connector", double.url)
    try:
        counts = calls_per_operation(double, counted)
        paced, unpaced = pygithub_write_pacing(double)
    finally:
        counted.stop()
        double.stop()

    print(f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {platform.node()}")
    print(f"{platform.machine()}, {_cpu()}, {_cores()} cores, Python {platform.python_version()}; "
          f"servers and cold starts: {args.python}, {install_kind(args.python)}\n")
    print("| measure | result | target |")
    print("| --- | --- | --- |")
    default, checked, floor = latency["connector"], latency["validating"], latency["bare"]
    print(f"| overhead ratio: latency, connector / bare ASGI app, list_pull_requests (median of 20 "
          f"interleaved rounds) | {default['ratio']:.2f} ({default['ms']:.2f} ms / {floor['ms']:.2f} ms) | ≤ 1.5 |")
    print(f"| overhead ratio with response validation on (CONNECTOR_VALIDATE_RESPONSES=true, as in the tests) | "
          f"{checked['ratio']:.2f} ({checked['ms']:.2f} ms / {floor['ms']:.2f} ms) | — |")
    oauth = latency["oauth"]
    print(f"| overhead ratio with OAuth on (CONNECTOR_OAUTH=embedded), called with an access token | "
          f"{oauth['ratio']:.2f} ({oauth['ms']:.2f} ms / {floor['ms']:.2f} ms) | ≤ 1.5 |")
    print(f"| server CPU time per request, connector / with an access token | {default['cpu_ms']:.2f} ms / "
          f"{oauth['cpu_ms']:.2f} ms | — |")
    print(f"| server CPU time per request, connector / with response validation / bare | {default['cpu_ms']:.2f} ms / "
          f"{checked['cpu_ms']:.2f} ms / {floor['cpu_ms']:.2f} ms | — |")
    print(f"| throughput, one worker, {args.concurrency} clients | {rps:.0f} req/s "
          f"(bare: {bare_rps:.0f} req/s; ratio {bare_rps / rps:.2f}), {errors} errors | — |")
    print(f"| cold start (import + spec load and check + app build), median (fastest) of 7 | "
          f"{start['connector'][0]:.3f} s ({start['connector'][1]:.3f} s) | ≤ 0.5 s |")
    print(f"| cold-start floor, same run: import of what the bare app needs (PyGithub, Starlette), "
          f"median (fastest) of 7 | {start['floor'][0]:.3f} s ({start['floor'][1]:.3f} s) | — |")
    print(f"| cold start ÷ floor, medians | {start['connector'][0] / start['floor'][0]:.2f} | ≤ 2.5 |")
    print(f"| resident memory of the worker: started / after the sequential run / after {args.concurrency} "
          f"concurrent clients | {rss_idle:.1f} / {rss_sequential:.1f} / {rss_concurrent:.1f} MB | ≤ 80 MB |")
    print(f"| 5 comments in a row through one shared PyGithub client: default pacing / the connector's | "
          f"{paced:.2f} s / {unpaced:.3f} s | — |")
    for name, count in counts.items():
        print(f"| GitHub calls: {name} | {count} | minimum |")


def oauth_credentials() -> tuple[str, str]:
    """A signing-key file for the OAuth connector, and an access token it signed for the bench's
    API key (the connector verifies it on the first request and finds it verified after that)."""
    import tempfile

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from connector.config.keys import KeyRing
    from connector.oauth.signing import SigningKeys
    from connector.oauth.tokens import TokenIssuer
    from connector.types import Secret

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    handle, path = tempfile.mkstemp(suffix=".pem")
    os.write(handle, pem.encode())
    os.close(handle)
    key = KeyRing((Secret(API_KEY),)).find(API_KEY)
    assert key is not None
    token = TokenIssuer(SigningKeys.from_pem(Secret(pem)), lifetime=3600).issue(
        issuer=OAUTH_ISSUER, subject=key.subject, client_id="bench", scopes=["prs:read"],
        audience=OAUTH_ISSUER + "/mcp", grant_id="bench", key_name=key.name)
    return path, token


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu n/a"


def _cores() -> int:
    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
