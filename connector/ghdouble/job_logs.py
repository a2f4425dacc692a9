"""Job logs: the text a runner writes, and the signed short-lived URLs GitHub hands out for it.

``GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs`` answers 302 with a ``Location`` on
another host, blob storage, whose URL carries its own credential (an Azure SAS: ``se`` expiry,
``sig`` signature; "This link expires after 1 minute"). A client must follow it *without* its
GitHub token. ``JobLogs`` signs those URLs, says what a blob request gets, and records every
request the storage host (``storage_host``) saw. A job that has not completed has no log blob
yet: GitHub still redirects, and the storage answers 404 ``BlobNotFound`` (as observed against
github.com); so does a job no runner ever picked up.

The default log is generated from the job's steps in the runner's format: a UTF-8 byte order
mark, every line starting with an ISO timestamp with seven fractional digits and ``Z ``,
``##[group]``/``##[endgroup]`` around set-up output, ``##[error]`` for a failing step, and ANSI
colour sequences around echoed commands. Tests can replace a job's bytes (``set_raw``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from .records import RecordedRequest
from .run_model import Job, Run

__all__ = ["JobLogs", "default_log"]

_SAS_VERSION = "2025-01-05"


def _when(stamp: str | None, fallback: datetime) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else fallback


def default_log(run: Run, job: Job) -> bytes:
    """The log a runner would have written for ``job``'s steps."""
    clock = _when(job.started_at or job.created_at, datetime.now(UTC))
    lines: list[str] = []

    def say(text: str, at: str | None = None) -> None:
        nonlocal clock
        clock = max(clock + timedelta(microseconds=1371), _when(at, clock))
        lines.append(f"{clock:%Y-%m-%dT%H:%M:%S}.{clock.microsecond:06d}{len(lines) % 10}Z {text}")

    for step in job.steps:
        if step.conclusion == "skipped" or step.status == "queued":
            continue
        if step.number == 1:
            say("Current runner version: '2.321.0'", step.started_at)
            for group, body in (("Runner Image Provisioner", ["Hosted Compute Agent", "Version: 20250120.1"]),
                                ("Operating System", ["Ubuntu", "24.04.1", "LTS"]),
                                ("GITHUB_TOKEN Permissions", ["Actions: write", "Contents: read", "Metadata: read"])):
                say(f"##[group]{group}")
                for text in body:
                    say(text)
                say("##[endgroup]")
            say("Secret source: Actions")
            say("Prepare workflow directory")
            say(f"Complete job name: {job.name}")
        elif step.name == "Complete job":
            say("Cleaning up orphan processes", step.started_at)
        else:
            command = step.name.removeprefix("Run ")
            say(f"##[group]Run make {command}", step.started_at)
            say(f"\x1b[36;1mmake {command}\x1b[0m")
            say("shell: /usr/bin/bash -e {0}")
            say("##[endgroup]")
            say(f"\x1b[32mbuilding {run.repo.name} ({command})\x1b[0m")
        if step.conclusion == "failure":
            say("##[error]Process completed with exit code 1.", step.completed_at)
        elif step.conclusion == "cancelled":
            say("##[error]The operation was canceled.", step.completed_at)
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


class JobLogs:
    """Signed log URLs and what the storage host answers for them."""

    def __init__(self, find: Callable[[int], tuple[Run, Job] | None]) -> None:
        self.lock = threading.Lock()
        self._find = find
        self._key = secrets.token_bytes(32)
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self._raw: dict[int, bytes] = {}
            self._blobs: dict[str, int] = {}  # blob path -> job id
            self.requests: list[RecordedRequest] = []
            self.url_seconds = 60  # how long a signed URL works ("This link expires after 1 minute")
            self.ignore_range = False  # answer 200 with the whole log even to a Range request

    def set_raw(self, job_id: int, data: bytes | str) -> None:
        if self._find(job_id) is None:
            raise KeyError(f"no job {job_id} in the double")
        with self.lock:
            self._raw[job_id] = data.encode() if isinstance(data, str) else bytes(data)

    def _signature(self, path: str, expiry: str) -> str:
        return base64.b64encode(hmac.new(self._key, f"{path}\n{expiry}".encode(), hashlib.sha256).digest()).decode()

    def signed_url(self, base: str, job_id: int) -> str:
        """A fresh URL for ``job_id``'s log on the storage host at ``base``."""
        run_part = uuid.uuid5(uuid.NAMESPACE_URL, f"job-run/{job_id}")
        path = f"/actions-results/{uuid.uuid5(uuid.NAMESPACE_URL, f'job/{job_id}')}/workflow-job-run-{run_part}" \
               f"/logs/job/job-logs.txt"
        now = datetime.now(UTC)
        with self.lock:
            self._blobs[path] = job_id
            expiry = (now + timedelta(seconds=self.url_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = {"rsct": "text/plain", "se": expiry, "sig": self._signature(path, expiry), "sp": "r",
                 "sr": "b", "st": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"), "sv": _SAS_VERSION}
        return f"{base}{path}?{urlencode(query)}"

    def refusal(self, path: str, query: Mapping[str, str]) -> str | None:
        """Why storage refuses the URL (an ``AuthenticationErrorDetail``), or None when it is good."""
        expiry, sig = query.get("se"), query.get("sig")
        if not expiry or not sig:
            return "Signature fields not well formed."
        if not hmac.compare_digest(sig, self._signature(path, expiry)):
            return f"Signature did not match. String to sign used was r\n\n{expiry}\n/blob/actions-results{path}"
        try:
            ends = datetime.fromisoformat(expiry.replace("Z", "+00:00"))
        except ValueError:
            return "Signature fields not well formed."
        now = datetime.now(UTC)
        if ends <= now:
            return (f"Signed expiry time [{ends:%a, %d %b %Y %H:%M:%S} GMT] must be after current time "
                    f"[{now:%a, %d %b %Y %H:%M:%S} GMT]")
        return None

    def blob(self, path: str) -> bytes | None:
        """The log behind ``path``; None when there is no such blob (yet)."""
        with self.lock:
            job_id = self._blobs.get(path)
            raw = self._raw.get(job_id) if job_id is not None else None
        found = self._find(job_id) if job_id is not None else None
        if found is None:
            return None
        run, job = found
        if job.status != "completed" or not job.runner and raw is None:
            return None
        return raw if raw is not None else default_log(run, job)

    def record(self, rec: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(rec)
