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
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatkeeper.errors import ConfigError
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
