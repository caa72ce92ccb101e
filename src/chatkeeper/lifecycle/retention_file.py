"""The retention file: a policy, a floors table and lifecycle settings, in TOML.

The shipped defaults are ``chatkeeper/lifecycle/data/retention.toml`` (read with
:func:`default_policy`, :func:`default_floors`, :func:`default_settings`); a deployment's own
file has the same shape and is read with :func:`load_retention`. Every error names the file and
the key (``policy.rules[2].keep``); unknown keys are refused, never ignored.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from os import PathLike
from pathlib import Path
from typing import Any

from chatkeeper.lifecycle.durations import parse_duration
from chatkeeper.lifecycle.errors import LifecycleConfigError, RetentionBelowFloor, ScheduleInvalid
from chatkeeper.lifecycle.policy import (
    CONVERSATION_RECORDS,
    Floor,
    FloorScope,
    RetentionPolicy,
    RetentionRule,
    check_floors,
)
from chatkeeper.lifecycle.settings import LifecycleSettings

_RULE_KEYS = {"name", "service_type", "keep", "department", "platform", "tag"}
_FLOOR_KEYS = {"law", "law_zh", "article", "records", "service_types", "platforms", "minimum"}
_SETTING_KEYS = {"cold_after", "recycle_bin_window", "schedule", "timezone"}


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """Everything a retention file holds; the policy has been checked against the floors."""

    policy: RetentionPolicy
    floors: tuple[Floor, ...]
    settings: LifecycleSettings


def load_retention(path: str | PathLike[str]) -> RetentionConfig:
    """Read and check a retention TOML file."""
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LifecycleConfigError(f"{source}: cannot be read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise LifecycleConfigError(f"{source}: not valid TOML ({exc})") from exc
    return parse_retention(data, source=str(source))


def parse_retention(data: Mapping[str, Any], *, source: str = "retention") -> RetentionConfig:
    """Build the policy, floors and settings from parsed TOML; refuse a policy below a floor."""
    _only(data, {"policy", "floors", "lifecycle"}, source, "")
    policy = _policy(data.get("policy"), source)
    floors = tuple(
        _floor(item, source, f"floors[{i}]") for i, item in enumerate(_list(data, "floors", source))
    )
    settings = _settings(data.get("lifecycle", {}), source)
    try:
        check_floors(policy, floors)
    except RetentionBelowFloor as exc:
        raise RetentionBelowFloor(f"{source}: {exc.message}", **exc.details) from exc
    return RetentionConfig(policy, floors, settings)


@cache
def _shipped() -> RetentionConfig:
    text = files("chatkeeper.lifecycle").joinpath("data/retention.toml").read_text("utf-8")
    return parse_retention(tomllib.loads(text), source="chatkeeper/lifecycle/data/retention.toml")


def default_policy() -> RetentionPolicy:
    """The shipped policy: consultation and after-sales 6 months, complaints 1 year,
    transactions 3 years, legal disputes permanent."""
    return _shipped().policy


def default_floors() -> tuple[Floor, ...]:
    """The shipped floors table (PRC law; see ``docs/lifecycle.md``)."""
    return _shipped().floors


def default_settings() -> LifecycleSettings:
    """The shipped lifecycle settings (cold after 30 days, bin 30 days, 22:00 Asia/Shanghai)."""
    return _shipped().settings


def _policy(data: object, source: str) -> RetentionPolicy:
    table = _table(data, source, "policy")
    _only(table, {"version", "rules"}, source, "policy")
    version = table.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _error(source, "policy.version", "must be a whole number (1, 2, ...)")
    rules = tuple(
        _rule(item, source, f"policy.rules[{i}]")
        for i, item in enumerate(_list(table, "rules", source, "policy."))
    )
    try:
        return RetentionPolicy(version, rules)
    except LifecycleConfigError as exc:
        raise _error(source, "policy", exc.message) from exc


def _rule(data: object, source: str, key: str) -> RetentionRule:
    table = _table(data, source, key)
    _only(table, _RULE_KEYS, source, key)
    name = _text(table, "name", source, key)
    keep = parse_duration(table.get("keep"), field=f"{source}: {key}.keep")
    return RetentionRule(
        name=name,
        service_type=_text(table, "service_type", source, key),
        keep=keep,
        department=_optional(table, "department", source, key),
        platform=_optional(table, "platform", source, key),
        tag=_optional(table, "tag", source, key),
    )


def _floor(data: object, source: str, key: str) -> Floor:
    table = _table(data, source, key)
    _only(table, _FLOOR_KEYS, source, key)
    scope = FloorScope(
        records=_optional(table, "records", source, key) or CONVERSATION_RECORDS,
        service_types=_names(table, "service_types", source, key),
        platforms=_names(table, "platforms", source, key),
    )
    try:
        return Floor(
            law=_text(table, "law", source, key),
            article=_text(table, "article", source, key),
            minimum=parse_duration(table.get("minimum"), field=f"{source}: {key}.minimum"),
            scope=scope,
            law_zh=_optional(table, "law_zh", source, key),
        )
    except LifecycleConfigError as exc:
        raise _error(source, key, exc.message) from exc


def _settings(data: object, source: str) -> LifecycleSettings:
    table = _table(data, source, "lifecycle")
    _only(table, _SETTING_KEYS, source, "lifecycle")
    defaults = LifecycleSettings()
    try:
        return _make_settings(table, source, defaults)
    except ScheduleInvalid as exc:
        raise ScheduleInvalid(f"{source}: lifecycle: {exc.message}", **exc.details) from exc


def _make_settings(
    table: Mapping[str, Any], source: str, defaults: LifecycleSettings
) -> LifecycleSettings:
    return LifecycleSettings(
        cold_after=parse_duration(
            table.get("cold_after", str(defaults.cold_after)),
            field=f"{source}: lifecycle.cold_after",
        ),
        recycle_bin_window=parse_duration(
            table.get("recycle_bin_window", str(defaults.recycle_bin_window)),
            field=f"{source}: lifecycle.recycle_bin_window",
        ),
        schedule=_optional(table, "schedule", source, "lifecycle") or defaults.schedule,
        timezone=_optional(table, "timezone", source, "lifecycle") or defaults.timezone,
    )


def _error(source: str, key: str, reason: str) -> LifecycleConfigError:
    return LifecycleConfigError(f"{source}: {key}: {reason}", field=key)


def _only(table: Mapping[str, Any], allowed: set[str], source: str, key: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        where = f"{key}." if key else ""
        raise _error(
            source,
            where + unknown[0],
            f"unknown key; the valid keys are {', '.join(sorted(allowed))}",
        )


def _table(data: object, source: str, key: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _error(source, key, "must be a table")
    return data


def _list(table: Mapping[str, Any], name: str, source: str, prefix: str = "") -> list[Any]:
    value = table.get(name, [])
    if not isinstance(value, list):
        raise _error(source, prefix + name, f"must be an array of tables ([[{prefix}{name}]])")
    return value


def _text(table: Mapping[str, Any], name: str, source: str, key: str) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _error(source, f"{key}.{name}", "must be a non-empty string")
    return value


def _optional(table: Mapping[str, Any], name: str, source: str, key: str) -> str | None:
    return None if table.get(name) is None else _text(table, name, source, key)


def _names(table: Mapping[str, Any], name: str, source: str, key: str) -> frozenset[str]:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _error(source, f"{key}.{name}", "must be a list of non-empty strings")
    return frozenset(value)
