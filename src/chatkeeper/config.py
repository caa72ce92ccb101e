"""Settings: environment variables (``CHATKEEPER_*``) over an optional TOML file over defaults.

Built once by an entry point (:func:`load_settings`) and passed down; nothing reads the
environment at import time. An invalid value stops start-up with a ``ConfigError`` that names
the setting and what is valid; nothing falls back silently.

| setting | env | default |
| --- | --- | --- |
| data_dir | CHATKEEPER_DATA_DIR | ./chatkeeper-data |
| database_url | CHATKEEPER_DATABASE_URL | sqlite in the data folder |
| config_file | CHATKEEPER_CONFIG | <data_dir>/chatkeeper.toml if present |
| ingest.batch_size | CHATKEEPER_INGEST__BATCH_SIZE | 5000 |
| ingest.workers | CHATKEEPER_INGEST__WORKERS | 1 reader process (0: none; more on more cores) |
| ingest.worker_min_bytes | CHATKEEPER_INGEST__WORKER_MIN_BYTES | 4194304 (smaller: no worker) |
| search.default_limit | CHATKEEPER_SEARCH__DEFAULT_LIMIT | 20 |
| search.max_limit | CHATKEEPER_SEARCH__MAX_LIMIT | 1000 |
| display.utc_offset_minutes | CHATKEEPER_DISPLAY__UTC_OFFSET_MINUTES | 480 (Asia/Shanghai) |
| privacy.suite | CHATKEEPER_PRIVACY__SUITE | AES-256-GCM (or SM4-GCM, AES-256-GCM+SM4-GCM) |
| privacy.kek | CHATKEEPER_PRIVACY__KEK | file (or env, kms:NAME) |
| privacy.key_file | CHATKEEPER_PRIVACY__KEY_FILE | <data_dir>/keys/kek.json |
| privacy.kek_env | CHATKEEPER_PRIVACY__KEK_ENV | CHATKEEPER_KEK |
| privacy.masking | CHATKEEPER_PRIVACY__MASKING | {} (every type: mask) |
| ledger.anchor | CHATKEEPER_LEDGER__ANCHOR | none (KIND:SPEC, e.g. file:/mnt/notary) |
| governance.approval_ttl_hours | CHATKEEPER_GOVERNANCE__APPROVAL_TTL_HOURS | 72 |
| governance.grant_days | CHATKEEPER_GOVERNANCE__GRANT_DAYS | 7 |
| governance.grant_max_days | CHATKEEPER_GOVERNANCE__GRANT_MAX_DAYS | 90 |
| governance.approvals | CHATKEEPER_GOVERNANCE__APPROVALS | key operations (docs/permissions.md) |
| governance.review_days | CHATKEEPER_GOVERNANCE__REVIEW_DAYS | agent 2, supervisor 3, legal 5 |
| governance.review_level | CHATKEEPER_GOVERNANCE__REVIEW_LEVEL | high |
| classify.rules_file | CHATKEEPER_CLASSIFY__RULES_FILE | the shipped rules |
| classify.lexicon_file | CHATKEEPER_CLASSIFY__LEXICON_FILE | the shipped lexicon |
| lifecycle.cold_after_days | CHATKEEPER_LIFECYCLE__COLD_AFTER_DAYS | 30 |
| lifecycle.recycle_bin_days | CHATKEEPER_LIFECYCLE__RECYCLE_BIN_DAYS | 30 |
| lifecycle.schedule | CHATKEEPER_LIFECYCLE__SCHEDULE | 0 22 * * * (cron) |
| lifecycle.timezone | CHATKEEPER_LIFECYCLE__TIMEZONE | Asia/Shanghai |
| lifecycle.cold_dir | CHATKEEPER_LIFECYCLE__COLD_DIR | <data_dir>/cold |
| lifecycle.segment_mb | CHATKEEPER_LIFECYCLE__SEGMENT_MB | 8 |
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatkeeper.errors import ChatKeeperError, ConfigError
from chatkeeper.governance.approvals import DEFAULT_RULES, ApprovalRule
from chatkeeper.governance.permissions import PERMISSIONS
from chatkeeper.governance.roles import Role
from chatkeeper.privacy.findings import PiiType
from chatkeeper.privacy.operators import Operator
from chatkeeper.store.engine import sqlite_url


class IngestConfig(BaseModel):
    """How ingest batches its work."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    batch_size: int = Field(5000, ge=1, le=100_000)
    workers: int = Field(1, ge=0, le=8)
    worker_min_bytes: int = Field(4 << 20, ge=0)


class SearchConfig(BaseModel):
    """Search paging limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    default_limit: int = Field(20, ge=1, le=1000)
    max_limit: int = Field(1000, ge=1, le=100_000)


class DisplayConfig(BaseModel):
    """How times are shown and days are bucketed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    utc_offset_minutes: int = Field(480, ge=-720, le=840)


class PrivacyConfig(BaseModel):
    """Detection, masking and encryption at rest (see docs/privacy.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    suite: Literal["AES-256-GCM", "SM4-GCM", "AES-256-GCM+SM4-GCM"] = "AES-256-GCM"
    kek: str = Field("file", pattern=r"^(file|env|kms:[a-z0-9_-]+)$")
    key_file: Path | None = None
    kek_env: str = "CHATKEEPER_KEK"
    masking: dict[PiiType, Operator] = Field(default_factory=dict)

    def key_path(self, data_dir: Path) -> Path:
        """Where the local key-encryption key lives."""
        return self.key_file or data_dir / "keys" / "kek.json"


class LedgerConfig(BaseModel):
    """Where signed checkpoints are anchored (``KIND:SPEC``, e.g. ``file:/mnt/notary``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    anchor: str | None = None


class ApprovalRuleConfig(BaseModel):
    """Who must approve one operation, and how many of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    approvers: list[Role] = Field(min_length=1)
    count: int = Field(1, ge=1, le=5)


class GovernanceConfig(BaseModel):
    """Approvals, grants and review deadlines (see docs/permissions.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    approval_ttl_hours: int = Field(72, ge=1, le=24 * 90)
    grant_days: int = Field(7, ge=1, le=365)
    grant_max_days: int = Field(90, ge=1, le=3650)
    # Operation -> rule, over the defaults; an empty table ({}) for an operation removes its rule.
    approvals: dict[str, ApprovalRuleConfig | dict[str, Any]] = Field(default_factory=dict)
    review_days: dict[str, int] = Field(
        default_factory=lambda: {"agent": 2, "supervisor": 3, "legal": 5}
    )
    review_level: Literal["low", "medium", "high"] = "high"

    @field_validator("approvals")
    @classmethod
    def _known_operations(
        cls, value: dict[str, ApprovalRuleConfig | dict[str, Any]]
    ) -> dict[str, ApprovalRuleConfig | dict[str, Any]]:
        known = set(PERMISSIONS) | set(DEFAULT_RULES)
        for operation, rule in value.items():
            if operation not in known:
                raise ValueError(
                    f"'{operation}' is not an operation; known: {', '.join(sorted(known))}"
                )
            if isinstance(rule, dict) and rule:
                raise ValueError(f"'{operation}': give approvers (and count), or {{}} for none")
        return value

    @field_validator("review_days")
    @classmethod
    def _stages(cls, value: dict[str, int]) -> dict[str, int]:
        for stage, days in value.items():
            if stage not in ("agent", "supervisor", "legal"):
                raise ValueError(f"'{stage}' is not a review stage (agent, supervisor, legal)")
            if not 1 <= days <= 365:
                raise ValueError(f"review_days.{stage} must be between 1 and 365")
        return value

    def rules(self) -> dict[str, ApprovalRule]:
        """The effective approval rules: the defaults with configuration applied."""
        out = dict(DEFAULT_RULES)
        for operation, rule in self.approvals.items():
            if isinstance(rule, ApprovalRuleConfig):
                out[operation] = ApprovalRule(frozenset(rule.approvers), rule.count)
            else:
                out.pop(operation, None)
        return out


class ClassifyConfig(BaseModel):
    """Classification rules and the risk lexicon (see docs/classification.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rules_file: Path | None = None
    lexicon_file: Path | None = None


class LifecycleConfig(BaseModel):
    """When conversations go cold, how long the recycle bin keeps them, when the daily job runs
    (see docs/lifecycle.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cold_after_days: int = Field(30, ge=1, le=3650)
    recycle_bin_days: int = Field(30, ge=1, le=3650)
    schedule: str = "0 22 * * *"
    timezone: str = "Asia/Shanghai"
    cold_dir: Path | None = None
    segment_mb: int = Field(8, ge=1, le=4096)

    def cold_path(self, data_dir: Path) -> Path:
        """The blob store folder of cold segments."""
        return self.cold_dir or data_dir / "cold"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from chatkeeper.lifecycle.schedule import parse_cron

        try:
            parse_cron(value, "UTC")
        except ChatKeeperError as exc:
            raise ValueError(exc.message) from None
        return value


class Settings(BaseSettings):
    """Every setting of ChatKeeper; see the table in the module docstring."""

    model_config = SettingsConfigDict(
        env_prefix="CHATKEEPER_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Path("chatkeeper-data")
    database_url: str | None = None
    ingest: IngestConfig = IngestConfig()
    search: SearchConfig = SearchConfig()
    display: DisplayConfig = DisplayConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    ledger: LedgerConfig = LedgerConfig()
    governance: GovernanceConfig = GovernanceConfig()
    classify: ClassifyConfig = ClassifyConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or SQLite inside the data folder."""
        return self.database_url or sqlite_url(self.data_dir.resolve())


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, section by section (an env var for one key of a section
    keeps the file's other keys of it)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"])
    return f"setting '{key}': {error['msg']}"


def load_settings(
    data_dir: Path | None = None, config_file: Path | None = None, **overrides: Any
) -> Settings:
    """Build the settings: defaults < TOML file < environment < explicit arguments."""
    file_values: dict[str, Any] = {}
    path = config_file or (
        Path(os.environ["CHATKEEPER_CONFIG"]) if "CHATKEEPER_CONFIG" in os.environ else None
    )
    if path is None:
        base = data_dir or Path(os.environ.get("CHATKEEPER_DATA_DIR", "chatkeeper-data"))
        candidate = base / "chatkeeper.toml"
        path = candidate if candidate.is_file() else None
    if path is not None:
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(
                f"{path}: cannot read the configuration file ({exc.strerror})"
            ) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: the configuration file is not UTF-8 ({exc.reason})"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    try:
        env_settings = Settings()  # environment and defaults
        merged = _merge(_merge(file_values, env_settings.model_dump(exclude_unset=True)), overrides)
        return Settings.model_validate(merged) if merged else env_settings
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        source = f" (in {path} or the environment)" if path else " (in the environment)"
        raise ConfigError(f"invalid configuration{source}: {problems}") from exc
