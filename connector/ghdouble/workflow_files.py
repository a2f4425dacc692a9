"""Workflow files as GitHub reads them: the triggers under ``on:``, the jobs, ``run-name``, and the
``workflow_dispatch`` inputs GitHub checks a dispatch against.

GitHub decides what a ``workflow_dispatch`` may carry from the workflow file *at the ref
dispatched to*, so the double keeps real YAML text (``contents.Files``) and parses it here at
dispatch time: a branch whose file declares other inputs answers differently, as on GitHub.
The validation messages are GitHub's: ``Unexpected inputs provided: ["x"]``, ``Required input
'x' not provided``, ``Provided value 'x' for input 'y' not in the list of allowed values``; the
boolean and number messages are the double's reading (GitHub's were not found documented).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ["INPUT_TYPES", "Definition", "Input", "check_inputs", "parse", "render", "resolve", "title"]

INPUT_TYPES = frozenset({"string", "boolean", "choice", "number", "environment"})


@dataclass(frozen=True)
class Input:
    name: str
    type: str = "string"
    required: bool = False
    default: Any = None
    options: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class Definition:
    """What the double reads from a workflow file."""

    name: str | None
    run_name: str | None
    repository_dispatch: bool
    types: frozenset[str] | None  # repository_dispatch types; None = every type
    dispatch_inputs: dict[str, Input] | None  # None: no workflow_dispatch trigger
    jobs: tuple[str, ...]


def _input(name: str, spec: Any) -> Input:
    spec = spec if isinstance(spec, Mapping) else {}
    kind = str(spec.get("type", "string"))
    if kind not in INPUT_TYPES:
        raise ValueError(f"input {name!r}: type must be one of {sorted(INPUT_TYPES)}, not {kind!r}")
    return Input(name, kind, bool(spec.get("required", False)), spec.get("default"),
                 tuple(str(o) for o in spec.get("options") or ()), spec.get("description"))


def parse(text: str) -> Definition:
    """Read a workflow file (``ValueError`` for one GitHub would not run either)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"the workflow file is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ValueError("a workflow file is a mapping")
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` key as true
    triggers: Mapping[Any, Any] = (on if isinstance(on, Mapping) else {on: None} if isinstance(on, str)
                                   else dict.fromkeys(on) if isinstance(on, list) else {})
    types = None
    rd = triggers.get("repository_dispatch")
    if isinstance(rd, Mapping) and rd.get("types") is not None:
        types = frozenset([rd["types"]] if isinstance(rd["types"], str) else map(str, rd["types"]))
    inputs = None
    if "workflow_dispatch" in triggers:
        wd = triggers["workflow_dispatch"]
        declared = (wd.get("inputs") if isinstance(wd, Mapping) else None) or {}
        inputs = {str(k): _input(str(k), v) for k, v in declared.items()}
    jobs = data.get("jobs") or {}
    names = tuple(str(v.get("name") or k) if isinstance(v, Mapping) else str(k) for k, v in jobs.items())
    return Definition(data.get("name"), data.get("run-name"), "repository_dispatch" in triggers, types,
                      inputs, names)


def render(name: str, *, types: Iterable[str] | None, repository_dispatch: bool,
           dispatch_inputs: Mapping[str, Mapping[str, Any]] | None, jobs: Iterable[str],
           run_name: str | None) -> str:
    """A workflow file with these triggers and jobs (each job runs one step)."""
    on: dict[str, Any] = {}
    if repository_dispatch:
        on["repository_dispatch"] = {"types": sorted(types)} if types is not None else None
    if dispatch_inputs is not None:
        on["workflow_dispatch"] = {"inputs": {k: dict(v) for k, v in dispatch_inputs.items()}} \
            if dispatch_inputs else None
    doc: dict[str, Any] = {"name": name}
    if run_name:
        doc["run-name"] = run_name
    doc["on"] = on
    doc["jobs"] = {re.sub(r"[^A-Za-z0-9_-]+", "-", job): {"name": job, "runs-on": "ubuntu-latest",
                                                        "steps": [{"run": f"make {job}"}]} for job in jobs}
    return yaml.safe_dump(doc, sort_keys=False)


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def check_inputs(declared: Mapping[str, Input], given: Mapping[str, Any]) -> str | None:
    """GitHub's 422 message for ``given`` against the file's inputs, or None when they are fine."""
    unexpected = [name for name in given if name not in declared]
    if unexpected:
        return f"Unexpected inputs provided: {json.dumps(unexpected)}"
    for spec in declared.values():
        value = given.get(spec.name)
        if value is None or value == "":
            if spec.required and spec.default in (None, ""):
                return f"Required input '{spec.name}' not provided"
            continue
        text = _text(value)
        if spec.type == "choice" and text not in spec.options:
            return f"Provided value '{text}' for input '{spec.name}' not in the list of allowed values"
        if spec.type == "boolean" and text not in ("true", "false"):
            return f"Provided value '{text}' for boolean input '{spec.name}' is not 'true' or 'false'"
        if spec.type == "number":
            try:
                float(text)
            except ValueError:
                return f"Provided value '{text}' for number input '{spec.name}' is not a number"
    return None


def resolve(declared: Mapping[str, Input], given: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs a run sees: what was given, else the file's defaults."""
    out = {name: spec.default for name, spec in declared.items() if spec.default is not None}
    out.update(given)
    return out


_INPUT = re.compile(r"\$\{\{\s*(?:github\.event\.)?inputs\.([A-Za-z_][\w-]*)\s*\}\}")
_OTHER = re.compile(r"\$\{\{.*?\}\}")


def title(run_name: str | None, fallback: str, inputs: Mapping[str, Any]) -> str:
    """A dispatched run's display title: ``run-name`` with ``${{ inputs.x }}`` filled in (other
    expressions, such as a repository dispatch's ``client_payload``, are empty here); the
    workflow's name when that leaves nothing."""
    filled = _OTHER.sub("", _INPUT.sub(lambda m: _text(inputs.get(m.group(1), "")), run_name or ""))
    return filled.strip() or fallback
