"""A ``workflow_dispatch``'s inputs, checked against what the workflow file declares.

GitHub checks inputs too, but only once the dispatch is sent, and its 422 names one problem at a
time. Checked here first, every problem is a ``400 validation_error`` naming the input, before any
write: an input the workflow does not declare, a required one missing (without a default), a value
outside a ``choice``'s options, a ``boolean`` that is not true or false, a ``number`` that is not one.
Values are sent as GitHub's API takes them: strings.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import BadRequest, FieldError, WorkflowNotDispatchable

__all__ = ["DeclaredInputs", "declared_inputs", "checked_inputs", "MAX_INPUTS"]

MAX_INPUTS = 25  # GitHub's limit on a workflow_dispatch's inputs
DeclaredInputs = dict[str, dict[str, Any]]


def declared_inputs(workflow: Any, path: str) -> DeclaredInputs:
    """``on.workflow_dispatch.inputs`` of a parsed workflow file. YAML 1.1 reads a bare ``on`` key
    as ``True``, so both spellings are looked at."""
    triggers = workflow.get("on", workflow.get(True)) if isinstance(workflow, dict) else None
    if isinstance(triggers, str):
        triggers = {triggers: None}
    elif isinstance(triggers, list):
        triggers = dict.fromkeys(triggers)
    if not isinstance(triggers, dict) or "workflow_dispatch" not in triggers:
        raise WorkflowNotDispatchable(
            f"{path} has no workflow_dispatch trigger, so it cannot be started this way; add `on: "
            "workflow_dispatch` to it, or use dispatch_event for workflows that listen for repository_dispatch.")
    dispatch = triggers["workflow_dispatch"] or {}
    inputs = dispatch.get("inputs") if isinstance(dispatch, dict) else None
    if not isinstance(inputs, dict):
        return {}
    return {str(name): spec if isinstance(spec, dict) else {} for name, spec in inputs.items()}


def checked_inputs(given: dict[str, Any], declared: DeclaredInputs, *, at: str = "inputs") -> dict[str, str]:
    """``given`` as strings, or ``BadRequest`` listing every input that does not fit ``declared``."""
    errors: list[FieldError] = []
    sent: dict[str, str] = {}
    for name, value in given.items():
        spec = declared.get(name)
        if spec is None:
            known = ", ".join(sorted(declared)) or "none"
            errors.append(FieldError(f"$.{at}.{name}", f"the workflow declares no input {name!r} (it has: {known})"))
            continue
        text, problem = _as_declared(value, spec)
        if problem:
            errors.append(FieldError(f"$.{at}.{name}", problem))
        else:
            sent[name] = text
    for name, spec in declared.items():
        if spec.get("required") is True and name not in given and spec.get("default") in (None, ""):
            errors.append(FieldError(f"$.{at}.{name}", "is required by the workflow and has no default"))
    if errors:
        raise BadRequest(errors)
    return sent


def _as_declared(value: Any, spec: dict[str, Any]) -> tuple[str, str | None]:
    kind = str(spec.get("type") or "string")
    if kind == "boolean":
        if isinstance(value, bool):
            return ("true" if value else "false"), None
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower(), None
        return "", f"must be true or false (got {value!r})"
    if isinstance(value, bool):
        return "", f"must be a {kind}, not true or false"
    text = _text(value)
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return "", f"must be a number (got {value!r})"
    if kind == "choice":
        options = [_text(option) for option in spec.get("options") or []]
        if text not in options:
            return "", f"must be one of {', '.join(options)} (got {text!r})"
    return text, None


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
