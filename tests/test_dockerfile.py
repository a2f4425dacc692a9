"""The Dockerfile and .dockerignore, read statically (no Docker here): the properties a careless edit loses."""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|PASSWD", re.IGNORECASE)
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|make|build-essential|python3?-dev|libffi-dev|libssl-dev|cargo|rustc)\b")

Instruction = tuple[str, str]


def instructions(text: str) -> list[Instruction]:
    """(KEYWORD, arguments) pairs, continuation lines joined and comments dropped, as Docker reads them."""
    result, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        result.append((keyword.upper(), arguments.strip()))
        pending = ""
    return result


def stages(parsed: list[Instruction]) -> dict[str, list[Instruction]]:
    """Each stage's instructions by stage name (its index when unnamed), FROM first; the final stage last."""
    result: dict[str, list[Instruction]] = {}
    for keyword, arguments in parsed:
        if keyword == "FROM":
            words = [word for word in arguments.split() if not word.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else str(len(result))
            result[name] = []
        result[next(reversed(result))].append((keyword, arguments))
    return result


def arguments(stage: list[Instruction], keyword: str) -> list[str]:
    return [args for kw, args in stage if kw == keyword]


def image(stage: list[Instruction]) -> str:
    return [word for word in stage[0][1].split() if not word.startswith("--")][0]


def copy_words(args: str) -> tuple[dict[str, str], list[str]]:
    """A COPY's --options and its paths (sources, then the destination)."""
    words = shlex.split(args)
    options = dict(word[2:].partition("=")[::2] for word in words if word.startswith("--"))
    return options, [word for word in words if not word.startswith("--")]


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or a directory above it decides; ``!`` re-includes."""
    parts = path.split("/")
    candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!").strip().removeprefix("./").strip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not negated
    return ignored


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # Go's filepath.Match plus Docker's **: a single * never crosses a /, so *.pem is top-level only.
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] in "*?":
            out, i = out + ("[^/]*" if pattern[i] == "*" else "[^/]"), i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i:end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


PARSED = instructions((ROOT / "Dockerfile").read_text())
STAGES = stages(PARSED)
FINAL = list(STAGES.values())[-1]
IGNORE_PATTERNS = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                   if line.strip() and not line.lstrip().startswith("#")]


def venv_stage() -> list[Instruction]:
    """The stage the final one copies /opt/venv from."""
    for args in arguments(FINAL, "COPY"):
        options, paths = copy_words(args)
        if "from" in options and paths[0].rstrip("/") == "/opt/venv":
            return STAGES[options["from"]]
    raise AssertionError("the final stage does not COPY --from=<builder> /opt/venv")


def healthcheck_argv() -> list[str]:
    [check] = arguments(FINAL, "HEALTHCHECK")
    return json.loads(re.split(r"(?:^|\s)CMD\s+", check, maxsplit=1)[-1])


def test_the_final_stage_runs_on_the_slim_python_image_the_venv_was_built_on():
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", image(FINAL)), image(FINAL)
    # The venv's bin/python is a link to the base image's interpreter, so it must be the same one.
    assert image(venv_stage()) == image(FINAL)


def test_the_final_stage_copies_the_venv_and_installs_nothing():
    runs = " ".join(arguments(FINAL, "RUN"))
    assert not re.search(r"\bpip3?\s+install\b|-m\s+pip\s+install\b", runs)
    assert not BUILD_TOOLS.search(runs)
    assert not arguments(FINAL, "ADD")
    # Nothing from the build context: only what an earlier stage built.
    assert all("from" in copy_words(args)[0] for args in arguments(FINAL, "COPY"))


def test_the_container_runs_as_a_numeric_non_root_user():
    users = arguments(FINAL, "USER")
    assert users, "no USER in the final stage: the container would run as root"
    uid = users[-1].split(":")[0]
    # Numeric, so that Kubernetes' runAsNonRoot can verify it without the image's /etc/passwd.
    assert uid.isdigit() and int(uid) != 0, users[-1]


def test_no_secret_is_baked_into_env_or_arg():
    names = []
    for keyword, args in PARSED:
        if keyword in ("ENV", "ARG"):
            words = shlex.split(args)
            legacy_env = keyword == "ENV" and "=" not in words[0]  # ENV NAME value
            names += [words[0]] if legacy_env else [word.partition("=")[0] for word in words]
    assert names
    # An ARG counts even without a default: build arguments are kept in the image's history.
    # NAME_FILE only names where a secret is mounted.
    assert [name for name in names if SECRET_NAME.search(name) and not name.endswith("_FILE")] == []


def test_serve_listens_on_all_interfaces_on_the_exposed_and_probed_port():
    [cmd] = arguments(FINAL, "CMD")
    argv = json.loads(cmd)
    assert argv[:2] == ["connector", "serve"]
    # connector serve's own default is 127.0.0.1, unreachable from outside the container.
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    port = argv[argv.index("--port") + 1]
    assert arguments(FINAL, "EXPOSE") == [port]
    assert f"http://127.0.0.1:{port}/health" in healthcheck_argv()[-1]


@contextlib.contextmanager
def health_server(status: int) -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status, healthy", [(200, True), (503, False)])
def test_healthcheck_gets_health_with_the_stdlib_and_bypasses_http_proxy(status, healthy):
    argv = healthcheck_argv()
    assert argv[:2] == ["python", "-c"], "slim images have no curl or wget"
    url = re.search(r"http://127\.0\.0\.1:\d+/health(?![/\w])", argv[2])
    assert url, "the health check must GET /health (liveness), not /health/ready or another path"
    with health_server(status) as port:
        code = argv[2].replace(url.group(0), f"http://127.0.0.1:{port}/health")
        # A proxy meant for GitHub must not swallow the loopback call (port 9 refuses it).
        proxy = "http://127.0.0.1:9"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30,
                                env={"http_proxy": proxy, "HTTP_PROXY": proxy, "no_proxy": ""})
    assert (result.returncode == 0) == healthy, result.stderr[-500:]


def test_the_builder_copies_what_the_wheel_needs_and_dockerignore_keeps_it():
    sources = []
    for args in arguments(venv_stage(), "COPY"):
        options, paths = copy_words(args)
        if "from" not in options:
            sources += [path.rstrip("/") for path in paths[:-1]]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert {"pyproject.toml", pyproject["project"]["readme"], "connector"} <= set(sources)
    for source in sources:
        top = ROOT / source
        assert top.exists(), f"COPY {source}: no such path in the repository"
        files = [top] if top.is_file() else [path for path in top.rglob("*") if "__pycache__" not in path.parts
                                             and (path.is_file() or path.is_symlink())]
        for path in files:
            relative = path.relative_to(ROOT).as_posix()
            assert not dockerignored(relative, IGNORE_PATTERNS), f"{relative} is copied but .dockerignore drops it"
            if path.is_symlink():  # connector/openapi.yaml -> ../openapi.yaml: its target must be copied too
                target = path.resolve().relative_to(ROOT).as_posix()
                assert any(target == s or target.startswith(s + "/") for s in sources), f"{relative} -> {target}"


@pytest.mark.parametrize("path", [".git/config", ".env", ".env.production", "tests/conftest.py",
                                  "app.private-key.pem", "secrets/github_token", "connector/__pycache__/app.pyc"])
def test_dockerignore_keeps_history_secrets_and_tests_out_of_the_context(path):
    assert dockerignored(path, IGNORE_PATTERNS)
