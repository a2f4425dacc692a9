"""The API description: ``openapi.yaml`` as loaded, and as served at ``/openapi.json``.

``openapi.yaml`` at the top of the repository is the only place the API is described. The served
document differs in one thing: ``servers`` holds the one https origin ChatGPT will call, because its
importer refuses a document whose server is not on the origin it was imported from.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SPEC_PATH", "load_document", "served_document", "served_json"]

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


@lru_cache(maxsize=1)
def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_document(path: Path = SPEC_PATH) -> dict[str, Any]:
    """A fresh copy of the document (callers may mutate it)."""
    return copy.deepcopy(_load(path))


def served_document(base_url: str, path: Path = SPEC_PATH) -> dict[str, Any]:
    document = load_document(path)
    document["servers"] = [{"url": base_url.rstrip("/")}]
    return document


def served_json(base_url: str, path: Path = SPEC_PATH) -> str:
    return json.dumps(served_document(base_url, path), ensure_ascii=False, separators=(",", ":"))
