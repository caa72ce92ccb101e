"""The README keeps its promises: every command and setting documented, its commands real."""

from __future__ import annotations

import re
from pathlib import Path

from chatkeeper.cli.app import app
from chatkeeper.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _settings_keys() -> list[str]:
    keys = []
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        sub = getattr(annotation, "model_fields", None)
        if sub:
            keys += [f"{name}.{child}" for child in sub]
        else:
            keys.append(name)
    return keys


def test_every_command_is_in_the_readme():
    names = [command.name or command.callback.__name__ for command in app.registered_commands]
    for group in app.registered_groups:
        names += [f"{group.name} {c.name}" for c in group.typer_instance.registered_commands]
    assert names, "no commands registered"
    missing = [name for name in names if f"`{name}" not in README]
    assert not missing, f"commands missing from README: {missing}"


def test_every_setting_is_in_the_readme_with_its_environment_variable():
    for key in _settings_keys():
        assert f"`{key}`" in README, key
        env = "CHATKEEPER_" + key.upper().replace(".", "__")
        assert env in README, env


def test_the_two_commands_are_make_targets_and_ci_runs_the_test_one():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.MULTILINE)


def test_the_formats_document_names_every_canonical_field():
    from chatkeeper.formats.canonical import FIELDS

    formats = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    missing = [field for field in FIELDS if f"`{field}`" not in formats]
    assert not missing, missing
