"""The README's configuration table and the settings' declaration (connector.config.settings.VARIABLES)
describe the same variables, in the same order, with the same secrets and defaults."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from connector.config.settings import VARIABLES, Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SET_ELSEWHERE = {"sandbox"}  # chosen by `connector serve --sandbox` or the lack of credentials, not a variable


def configuration_rows() -> list[tuple[str, str, str]]:
    section = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = re.match(r"^\| `([A-Z0-9_]+)` \| (.*?) \| (.*) \|$", line)
        if match:
            rows.append(match.groups())
    return rows


def test_the_readme_lists_every_declared_variable_in_order():
    assert [name for name, _, _ in configuration_rows()] == [variable.name for variable in VARIABLES]


def test_every_settings_field_is_filled_by_one_variable():
    filled = [variable.field for variable in VARIABLES if variable.field is not None]
    assert sorted(filled) == sorted(field.name for field in dataclasses.fields(Settings)
                                    if field.name not in SET_ELSEWHERE)


def test_the_readme_says_which_variables_are_secrets():
    secret = {variable.name for variable in VARIABLES if variable.secret}
    assert {name for name, _, meaning in configuration_rows() if re.search(r"\. Secret\b", meaning)} == secret


def test_the_readme_shows_each_default_the_settings_have():
    defaults = {field.name: field.default for field in dataclasses.fields(Settings)}
    checked = 0
    for name, default, _ in configuration_rows():
        field = next(variable.field for variable in VARIABLES if variable.name == name)
        if field is None:
            continue
        value = defaults[field]
        literal = re.match(r"^`([^`]*)`", default)
        if literal:
            shown = ",".join(value) if isinstance(value, tuple) else str(value).lower() if isinstance(value, bool) else str(value)
            assert literal.group(1) == shown, name
            checked += 1
        elif default.startswith("—"):
            assert value in (None, (), False), name
            checked += 1
    assert checked >= len(VARIABLES) - 3  # all but the few whose default the README describes in words
