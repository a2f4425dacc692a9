"""The event catalog: which ``repository_dispatch`` events callers may send, and with what payload.

Without a catalog any ``event_type`` is dispatched. With ``CONNECTOR_EVENTS_FILE`` (YAML) the
operator lists the events the workflows really handle, each with a description for the model and a
JSON Schema (Draft 2020-12) for its ``client_payload``::

    events:
      deploy:
        description: Deploy a version of the application to an environment.
        payload:
          type: object
          required: [env, version]
          additionalProperties: false
          properties:
            env: {type: string, enum: [dev, staging, prod], description: Where to deploy.}
            version: {type: string, minLength: 1, description: Tag, branch or commit to deploy.}

It may also list the workflows ``dispatch_workflow`` may start (file names in
``.github/workflows``), each with a description; their inputs are read from the workflow file
itself, which stays their only description::

    workflows:
      release.yml:
        description: Build and publish a release from a tag.

Each section restricts only its own kind: a file with ``workflows`` alone still lets any event
through, and one with ``events`` alone any workflow.

The file is checked once at start-up; a mistake in it stops the connector with a message naming
the event and what is wrong, because a catalog that silently allows less (or more) than the
operator meant is worse than none.

The served spec advertises the catalog in forms ChatGPT's importer handles (an ``enum`` of event
names, and one flat object listing every event's arguments); the server then checks each payload
against its own event's full schema (:meth:`EventCatalog.check_payload`).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ..config.settings import SettingsError
from ..errors import UnknownEvent, WorkflowNotDispatchable
from .json_validation import check_request_value
from .schema_errors import json_path

__all__ = ["Event", "EventCatalog", "EventsFileError", "Workflow", "load_catalog", "MAX_WORKFLOWS"]

# GitHub takes any event_type of up to 100 characters; a catalog name is also something a model
# has to spell and a workflow's `types:` list has to match, so it is kept to a plain token.
_EVENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}\Z")
_WORKFLOW_FILE = re.compile(r"^[A-Za-z0-9._-]{1,95}\.ya?ml\Z")
MAX_DESCRIPTION = 300  # ChatGPT's importer refuses longer descriptions
MAX_WORKFLOWS = 20  # listing them reads each workflow file once a minute
_NO_ARGUMENTS = {"type": "object", "properties": {}, "additionalProperties": False}


class EventsFileError(SettingsError):
    """The events file is malformed; the message names the file, the event and what is wrong."""


@dataclass(frozen=True)
class Event:
    name: str
    description: str
    payload: dict[str, Any]  # JSON Schema for client_payload (or the gateway's args)

    @property
    def required(self) -> list[str]:
        return list(self.payload.get("required", []))

    @property
    def arguments(self) -> dict[str, dict[str, Any]]:
        return self.payload.get("properties", {})

    def check_payload(self, payload: dict[str, Any] | None, *, at: tuple[str, ...]) -> dict[str, Any]:
        """The payload, checked against this event's full schema (defaults filled in);
        :class:`~connector.errors.BadRequest` lists every bad field by its path in the request."""
        payload = {} if payload is None else payload
        check_request_value(self.payload, payload, at=at)
        return payload


@dataclass(frozen=True)
class Workflow:
    file: str  # its name in .github/workflows
    description: str


class EventCatalog:
    def __init__(self, events: list[Event], workflows: list[Workflow] | None = None) -> None:
        self.events = {event.name: event for event in events}
        self.workflows = {workflow.file: workflow for workflow in workflows or []}

    @property
    def restricts_events(self) -> bool:
        return bool(self.events)

    @property
    def restricts_workflows(self) -> bool:
        return bool(self.workflows)

    def check_workflow(self, path: str) -> None:
        """Refuse a workflow file outside the catalog (when it lists workflows) with
        :class:`WorkflowNotDispatchable` naming the ones allowed."""
        file = path.rsplit("/", 1)[-1]
        if not self.workflows or (file in self.workflows and path == f".github/workflows/{file}"):
            return
        close = difflib.get_close_matches(file, list(self.workflows), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(match) for match in close)}?" if close else "."
        raise WorkflowNotDispatchable(
            f"{file[:100]!r} is not a workflow this connector may start{hint} Allowed: {', '.join(self.workflows)}.",
            allowed=list(self.workflows))

    @property
    def names(self) -> list[str]:
        return list(self.events)

    def get(self, name: str) -> Event:
        """The event called ``name``; :class:`UnknownEvent` with close names and the list otherwise."""
        event = self.events.get(name)
        if event is not None:
            return event
        close = difflib.get_close_matches(name, self.names, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(match) for match in close)}?" if close else "."
        raise UnknownEvent(
            f"event_type {name[:100]!r} is not one this connector may dispatch{hint} "
            f"Allowed: {', '.join(self.names)}.",
            allowed=self.names,
        )

    def describe_in(self, schema: dict[str, Any], *, name_field: str, payload_field: str) -> None:
        """Describe the catalog in a request schema, in place: what each event does, and the payload
        as one flat object with every event's arguments (each says which events take it).

        The event names are not made an ``enum`` here, because this schema is also the one requests
        are validated with, and an unknown name deserves ``unknown_event`` with suggestions rather
        than a bare schema error; :meth:`advertise_names` adds the enum to the served copy.
        """
        if not self.events:
            return
        properties = schema["properties"]
        properties[name_field] = {
            **properties[name_field],
            "description": _clip("One of: " + "; ".join(f"{e.name} ({e.description.rstrip('.')})"
                                                         for e in self.events.values()) + "."),
        }
        payload = properties[payload_field]
        payload["properties"] = self._arguments_union()
        needs = [f"{e.name} needs {', '.join(e.required)}" for e in self.events.values() if e.required]
        optional = [e.name for e in self.events.values() if not e.required]
        if optional:
            needs.append(f"{', '.join(optional)}: all optional")
        payload["description"] = _clip(f"Arguments of the chosen event: {'; '.join(needs)}.")
        if all(event.payload.get("additionalProperties") is False for event in self.events.values()):
            payload["additionalProperties"] = False
        payload.pop("examples", None)
        example = self._example()
        if example is not None:
            payload["examples"] = [example]

    def advertise_names(self, schema: dict[str, Any], *, name_field: str) -> None:
        """Make the event name an ``enum`` in a served schema (in place), so a model sees the choices."""
        if not self.events:
            return
        schema["properties"][name_field] = {**schema["properties"][name_field], "enum": self.names}

    def describe_workflows_in(self, schema: dict[str, Any], *, name_field: str) -> None:
        """Say in a request schema (in place) which workflows may be started and what each does."""
        if self.workflows:
            schema["properties"][name_field] = {**schema["properties"][name_field], "description": _clip(
                "One of: " + "; ".join(f"{w.file} ({w.description.rstrip('.')})" for w in self.workflows.values()) + ".")}

    def advertise_workflows(self, schema: dict[str, Any], *, name_field: str) -> None:
        """Make the workflow an ``enum`` of the allowed files in a served schema (in place)."""
        if self.workflows:
            schema["properties"][name_field] = {**schema["properties"][name_field], "enum": list(self.workflows)}

    def _arguments_union(self) -> dict[str, dict[str, Any]]:
        """Every argument of every event; where events define one name differently, only what they share."""
        union: dict[str, dict[str, Any]] = {}
        users: dict[str, list[str]] = {}
        for event in self.events.values():
            for name, schema in event.arguments.items():
                users.setdefault(name, []).append(event.name)
                if name not in union:
                    union[name] = _standalone(schema)
                elif union[name] != schema:
                    shared = union[name].get("type") if union[name].get("type") == schema.get("type") else None
                    union[name] = {"type": shared} if shared else {}
        for name, schema in union.items():
            own = next((e.arguments[name].get("description") for e in self.events.values()
                        if e.arguments.get(name, {}).get("description")), "")
            schema["description"] = _clip(f"For {', '.join(users[name])}. {own}".strip())
        return union

    def _example(self) -> dict[str, Any] | None:
        for event in self.events.values():
            examples = event.payload.get("examples")
            if isinstance(examples, list) and examples and isinstance(examples[0], dict):
                return examples[0]
        return None


def _standalone(schema: dict[str, Any]) -> dict[str, Any]:
    """An argument's schema as it can stand in the shared object.

    Without ``default``: the request validator fills defaults in, and one event's default must not
    land in another event's payload (each event's own schema fills it in later). Without anything
    that refers into the event's schema (``$ref``), which would not resolve inside the OpenAPI
    document; the event's full schema still applies on the server.
    """
    if "$ref" in json.dumps(schema):
        return {key: schema[key] for key in ("type", "enum", "description") if key in schema}
    return {key: copy.deepcopy(value) for key, value in schema.items() if key != "default"}


def load_catalog(path: Path) -> EventCatalog:
    """Read and check an events file; :class:`EventsFileError` says what is wrong and where."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise EventsFileError(f"CONNECTOR_EVENTS_FILE {path} cannot be read as YAML: "
                              f"{str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not (data.get("events") or data.get("workflows")) or \
            set(data) - {"events", "workflows"}:
        raise EventsFileError(f"{path} must have a non-empty 'events' mapping of event names to "
                              "{description, payload}, a 'workflows' mapping of workflow files to {description}, "
                              "or both; see examples/events.yaml")
    events, workflows = data.get("events") or {}, data.get("workflows") or {}
    for section, entries in (("events", events), ("workflows", workflows)):
        if not isinstance(entries, dict):
            raise EventsFileError(f"{path}: {section!r} must be a mapping; see examples/events.yaml")
    if len(workflows) > MAX_WORKFLOWS:
        raise EventsFileError(f"{path}: at most {MAX_WORKFLOWS} workflows (listing them reads each file)")
    return EventCatalog([_event(path, name, entry) for name, entry in events.items()],
                        [_workflow(path, name, entry) for name, entry in workflows.items()])


def _workflow(path: Path, name: Any, entry: Any) -> Workflow:
    where = f"{path}: workflow {name!r}"
    if not isinstance(name, str) or not _WORKFLOW_FILE.match(name):
        raise EventsFileError(f"{where}: give the workflow's file name in .github/workflows, e.g. deploy.yml")
    if not isinstance(entry, dict) or set(entry) != {"description"}:
        raise EventsFileError(f"{where} must be a mapping with 'description' (its inputs are read from the file)")
    return Workflow(file=name, description=_description(where, entry.get("description")))


def _event(path: Path, name: Any, entry: Any) -> Event:
    where = f"{path}: event {name!r}"
    if not isinstance(name, str) or not _EVENT_NAME.match(name):
        raise EventsFileError(f"{where}: a name is 1-100 letters, digits and . _ : - , starting with a "
                              "letter or digit (the workflow lists it under on.repository_dispatch.types)")
    if not isinstance(entry, dict) or set(entry) - {"description", "payload"}:
        raise EventsFileError(f"{where} must be a mapping with 'description' and optionally 'payload'")
    description = _description(where, entry.get("description"))
    payload = entry.get("payload", _NO_ARGUMENTS)
    error = best_match(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(payload))
    if error is not None:
        raise EventsFileError(f"{where}: payload is not a valid JSON Schema at "
                              f"{json_path(error.absolute_path)}: {error.message[:200]}")
    if payload.get("type") != "object" or not isinstance(payload.get("properties"), dict):
        raise EventsFileError(f"{where}: payload must be a schema with type: object and properties "
                              "(ChatGPT's importer refuses objects without properties; use {} for none)")
    if "request_id" in payload["properties"]:
        raise EventsFileError(f"{where}: payload must not define request_id; the connector sets it")
    for argument, schema in payload["properties"].items():
        text = schema.get("description", "") if isinstance(schema, dict) else ""
        if len(text) > MAX_DESCRIPTION:
            raise EventsFileError(f"{where}: the description of {argument!r} is over {MAX_DESCRIPTION} characters")
    return Event(name=name, description=description, payload=payload)


def _description(where: str, description: Any) -> str:
    if not isinstance(description, str) or not description.strip() or len(description) > MAX_DESCRIPTION:
        raise EventsFileError(f"{where} needs a description of 1-{MAX_DESCRIPTION} characters "
                              "(the model reads it to choose)")
    return description.strip()


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1].rstrip() + "…"
