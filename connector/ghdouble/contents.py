"""Files in the double's repositories, by branch, and ``repos/get-content``'s JSON for them.

Only what a workflow_dispatch client reads is modelled: workflow files under
``.github/workflows/``, on the default branch and on branches a test adds where a file differs
(a branch overlays the default branch: a path it does not set reads as on the default branch,
one set to ``None`` is gone). Kept apart from ``state.py``, which knows nothing of files.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Mapping
from typing import Any

from .state import HTML, Repo

__all__ = ["Files", "content_view", "directory_view"]


def _branch(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


class Files:
    """Text files per repository and branch (keys: ``owner/name`` lower-cased)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self._default: dict[str, dict[str, str]] = {}
            self._branches: dict[str, dict[str, dict[str, str | None]]] = {}

    def put(self, repo: Repo, path: str, text: str | None, branch: str | None = None) -> None:
        """Write (``None``: delete) ``path`` on ``branch`` (default: the default branch)."""
        key, path = repo.full_name.lower(), path.strip("/")
        with self.lock:
            if branch is None or _branch(branch) == repo.default_branch:
                files = self._default.setdefault(key, {})
                if text is None:
                    files.pop(path, None)
                else:
                    files[path] = text
            else:
                self._branches.setdefault(key, {}).setdefault(_branch(branch), {})[path] = text

    def add_branch(self, repo: Repo, branch: str, files: Mapping[str, str | None] | None = None) -> None:
        with self.lock:
            self._branches.setdefault(repo.full_name.lower(), {}).setdefault(_branch(branch), {})
        for path, text in (files or {}).items():
            self.put(repo, path, text, branch)

    def has_ref(self, repo: Repo, ref: str) -> bool:
        with self.lock:
            return _branch(ref) == repo.default_branch or _branch(ref) in self._branches.get(repo.full_name.lower(), {})

    def tree(self, repo: Repo, ref: str | None) -> dict[str, str]:
        """Every file on ``ref`` (default: the default branch), by path."""
        key = repo.full_name.lower()
        with self.lock:
            files = dict(self._default.get(key, {}))
            if ref is not None and _branch(ref) != repo.default_branch:
                for path, text in self._branches.get(key, {}).get(_branch(ref), {}).items():
                    if text is None:
                        files.pop(path, None)
                    else:
                        files[path] = text
            return files

    def read(self, repo: Repo, path: str, ref: str | None = None) -> str | None:
        return self.tree(repo, ref).get(path.strip("/"))


def _entry(api: str, repo: Repo, path: str, ref: str, kind: str, data: bytes) -> dict[str, Any]:
    sha = hashlib.sha1(b"blob %d\0" % len(data) + data if kind == "file" else path.encode()).hexdigest()
    url = f"{api}/repos/{repo.full_name}/contents/{path}?ref={ref}"
    git = f"{api}/repos/{repo.full_name}/git/{'blobs' if kind == 'file' else 'trees'}/{sha}"
    html = f"{HTML}/{repo.full_name}/{'blob' if kind == 'file' else 'tree'}/{ref}/{path}"
    return {"name": path.rsplit("/", 1)[-1], "path": path, "sha": sha, "size": len(data) if kind == "file" else 0,
            "url": url, "html_url": html, "git_url": git,
            "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{path}" if kind == "file" else None,
            "type": kind, "_links": {"self": url, "git": git, "html": html}}


def content_view(api: str, repo: Repo, path: str, ref: str, text: str) -> dict[str, Any]:
    """A file as GitHub sends it: base64 in lines of 60 characters, each ending in a newline."""
    data = text.encode()
    encoded = base64.b64encode(data).decode()
    lines = "".join(encoded[i:i + 60] + "\n" for i in range(0, len(encoded), 60))
    return {**_entry(api, repo, path, ref, "file", data), "content": lines, "encoding": "base64"}


def directory_view(api: str, repo: Repo, path: str, ref: str, tree: Mapping[str, str]) -> list[dict[str, Any]] | None:
    """The entries directly under ``path`` (None when it is no directory), files and directories."""
    prefix = f"{path.strip('/')}/" if path.strip("/") else ""
    entries: dict[str, dict[str, Any]] = {}
    for name, text in sorted(tree.items()):
        if not name.startswith(prefix):
            continue
        head, _, rest = name[len(prefix):].partition("/")
        child = prefix + head
        entries.setdefault(child, _entry(api, repo, child, ref, "dir" if rest else "file",
                                         b"" if rest else text.encode()))
    return list(entries.values()) if entries else None
