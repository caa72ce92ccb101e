"""Settings: defaults < TOML file < environment < explicit arguments; bad values stop start-up.

Every test runs with no ``CHATKEEPER_*`` variable set and in an empty working folder, so the
default ``./chatkeeper-data`` holds no configuration file unless the test writes one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from chatkeeper.config import Settings, load_settings
from chatkeeper.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CHATKEEPER_* variables, and an empty working folder."""
    for name in list(os.environ):
        if name.startswith("CHATKEEPER_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder that exists (and holds no configuration file yet)."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def write_config(folder: Path, text: str, name: str = "chatkeeper.toml") -> Path:
    """Write a TOML configuration file into ``folder``."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


class TestDefaults:
    """GIVEN no environment and no file WHEN settings load THEN the documented defaults."""

    def test_defaults(self) -> None:
        """GIVEN nothing configured WHEN loaded THEN every setting has its default."""
        settings = load_settings()
        assert settings.data_dir == Path("chatkeeper-data")
        assert settings.database_url is None
        assert settings.ingest.batch_size == 5000
        assert (settings.search.default_limit, settings.search.max_limit) == (20, 1000)
        assert settings.display.utc_offset_minutes == 480

    def test_default_database_is_sqlite_in_the_data_folder(self, data_dir: Path) -> None:
        """GIVEN no database URL WHEN the effective URL is asked for THEN it is SQLite inside
        the data folder."""
        url = load_settings(data_dir=data_dir).effective_database_url
        assert url.startswith("sqlite")
        assert str(data_dir.resolve()) in url

    def test_settings_are_frozen(self) -> None:
        """GIVEN loaded settings WHEN a value is assigned THEN it is refused."""
        settings = load_settings()
        with pytest.raises(ValidationError):
            settings.data_dir = Path("elsewhere")  # type: ignore[misc]


class TestEnvironment:
    """GIVEN CHATKEEPER_* variables WHEN settings load THEN they are used."""

    @pytest.mark.parametrize(
        ("name", "value", "attribute", "expected"),
        [
            ("CHATKEEPER_DATA_DIR", "/srv/chatkeeper", ("data_dir",), Path("/srv/chatkeeper")),
            ("CHATKEEPER_DATABASE_URL", "sqlite:////tmp/x.db", ("database_url",),
             "sqlite:////tmp/x.db"),
            ("CHATKEEPER_INGEST__BATCH_SIZE", "100", ("ingest", "batch_size"), 100),
            ("CHATKEEPER_INGEST__BATCH_SIZE", "100000", ("ingest", "batch_size"), 100_000),
            ("CHATKEEPER_SEARCH__DEFAULT_LIMIT", "50", ("search", "default_limit"), 50),
            ("CHATKEEPER_SEARCH__MAX_LIMIT", "5000", ("search", "max_limit"), 5000),
            ("CHATKEEPER_DISPLAY__UTC_OFFSET_MINUTES", "-300",
             ("display", "utc_offset_minutes"), -300),
        ],
    )  # fmt: skip
    def test_variable(
        self,
        monkeypatch: pytest.MonkeyPatch,
        name: str,
        value: str,
        attribute: tuple[str, ...],
        expected: object,
    ) -> None:
        """GIVEN the variable WHEN loaded THEN the setting has its value."""
        monkeypatch.setenv(name, value)
        got: object = load_settings()
        for part in attribute:
            got = getattr(got, part)
        assert got == expected

    def test_effective_database_url_prefers_the_configured_one(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """GIVEN CHATKEEPER_DATABASE_URL WHEN the effective URL is asked for THEN it is it."""
        monkeypatch.setenv("CHATKEEPER_DATABASE_URL", "postgresql+psycopg://u@h/db")
        assert load_settings().effective_database_url == "postgresql+psycopg://u@h/db"


class TestConfigFile:
    """GIVEN a chatkeeper.toml WHEN settings load THEN its values are used."""

    def test_file_in_the_data_folder(self, data_dir: Path) -> None:
        """GIVEN [ingest] batch_size = 100 in <data_dir>/chatkeeper.toml WHEN loaded with
        that data folder THEN the batch size is 100 and the rest stays default."""
        write_config(data_dir, "[ingest]\nbatch_size = 100\n")
        settings = load_settings(data_dir=data_dir)
        assert settings.ingest.batch_size == 100
        assert settings.search.default_limit == 20
        assert settings.data_dir == data_dir

    def test_file_in_the_data_folder_named_by_the_environment(
        self, monkeypatch: pytest.MonkeyPatch, data_dir: Path
    ) -> None:
        """GIVEN CHATKEEPER_DATA_DIR and a file in that folder WHEN loaded THEN it is read."""
        write_config(data_dir, "[ingest]\nbatch_size = 100\n")
        monkeypatch.setenv("CHATKEEPER_DATA_DIR", str(data_dir))
        settings = load_settings()
        assert (settings.data_dir, settings.ingest.batch_size) == (data_dir, 100)

    def test_file_in_the_default_data_folder(self) -> None:
        """GIVEN ./chatkeeper-data/chatkeeper.toml WHEN loaded with no folder named THEN it
        is read."""
        folder = Path("chatkeeper-data")
        folder.mkdir()
        write_config(folder, "[search]\ndefault_limit = 7\n")
        assert load_settings().search.default_limit == 7

    def test_file_named_by_chatkeeper_config(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
    ) -> None:
        """GIVEN CHATKEEPER_CONFIG naming a file elsewhere WHEN loaded THEN that file is read
        instead of the data folder's."""
        write_config(data_dir, "[ingest]\nbatch_size = 100\n")
        other = write_config(tmp_path, "[ingest]\nbatch_size = 300\n", name="other.toml")
        monkeypatch.setenv("CHATKEEPER_CONFIG", str(other))
        assert load_settings(data_dir=data_dir).ingest.batch_size == 300

    def test_file_named_by_argument(self, tmp_path: Path, data_dir: Path) -> None:
        """GIVEN config_file= WHEN loaded THEN that file is read."""
        other = write_config(tmp_path, "[display]\nutc_offset_minutes = 0\n", name="x.toml")
        settings = load_settings(data_dir=data_dir, config_file=other)
        assert settings.display.utc_offset_minutes == 0

    def test_every_section_in_one_file(self, data_dir: Path) -> None:
        """GIVEN a file setting every section WHEN loaded THEN all values are used."""
        write_config(
            data_dir,
            'database_url = "sqlite:////tmp/other.db"\n'
            "[ingest]\nbatch_size = 100\n"
            "[search]\ndefault_limit = 7\nmax_limit = 70\n"
            "[display]\nutc_offset_minutes = 540\n",
        )
        settings = load_settings(data_dir=data_dir)
        assert settings.database_url == "sqlite:////tmp/other.db"
        assert settings.ingest.batch_size == 100
        assert (settings.search.default_limit, settings.search.max_limit) == (7, 70)
        assert settings.display.utc_offset_minutes == 540

    def test_no_file_is_fine(self, data_dir: Path) -> None:
        """GIVEN a data folder without a file WHEN loaded THEN defaults, no error."""
        assert load_settings(data_dir=data_dir).ingest.batch_size == 5000


class TestPrecedence:
    """GIVEN the same setting in several places WHEN loaded THEN arguments beat the
    environment, which beats the file, which beats the defaults."""

    def test_environment_overrides_file(
        self, monkeypatch: pytest.MonkeyPatch, data_dir: Path
    ) -> None:
        """GIVEN batch_size 100 in the file and 200 in the environment WHEN loaded THEN 200."""
        write_config(data_dir, "[ingest]\nbatch_size = 100\n")
        monkeypatch.setenv("CHATKEEPER_INGEST__BATCH_SIZE", "200")
        assert load_settings(data_dir=data_dir).ingest.batch_size == 200

    def test_environment_for_one_key_keeps_the_files_other_keys(
        self, monkeypatch: pytest.MonkeyPatch, data_dir: Path
    ) -> None:
        """GIVEN [search] default_limit = 7 in the file and only CHATKEEPER_SEARCH__MAX_LIMIT
        in the environment WHEN loaded THEN both are used: the variable overrides one key,
        not the file's whole [search] table."""
        write_config(data_dir, "[search]\ndefault_limit = 7\n")
        monkeypatch.setenv("CHATKEEPER_SEARCH__MAX_LIMIT", "500")
        settings = load_settings(data_dir=data_dir)
        assert (settings.search.default_limit, settings.search.max_limit) == (7, 500)

    def test_environment_for_another_section_keeps_the_file(
        self, monkeypatch: pytest.MonkeyPatch, data_dir: Path
    ) -> None:
        """GIVEN the file sets [ingest] and the environment sets search WHEN loaded THEN
        both apply."""
        write_config(data_dir, "[ingest]\nbatch_size = 100\n")
        monkeypatch.setenv("CHATKEEPER_SEARCH__DEFAULT_LIMIT", "9")
        settings = load_settings(data_dir=data_dir)
        assert (settings.ingest.batch_size, settings.search.default_limit) == (100, 9)

    def test_arguments_override_environment(
        self, monkeypatch: pytest.MonkeyPatch, data_dir: Path, tmp_path: Path
    ) -> None:
        """GIVEN CHATKEEPER_DATA_DIR and CHATKEEPER_DATABASE_URL WHEN loaded with explicit
        data_dir and database_url THEN the arguments win."""
        monkeypatch.setenv("CHATKEEPER_DATA_DIR", str(tmp_path / "from-env"))
        monkeypatch.setenv("CHATKEEPER_DATABASE_URL", "sqlite:////tmp/env.db")
        settings = load_settings(data_dir=data_dir, database_url="sqlite:////tmp/arg.db")
        assert (settings.data_dir, settings.database_url) == (data_dir, "sqlite:////tmp/arg.db")

    def test_data_dir_argument_picks_the_file(
        self, monkeypatch: pytest.MonkeyPatch, data_dir: Path, tmp_path: Path
    ) -> None:
        """GIVEN CHATKEEPER_DATA_DIR pointing elsewhere WHEN loaded with data_dir= THEN the
        file in the argument's folder is the one read."""
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        write_config(elsewhere, "[ingest]\nbatch_size = 1\n")
        write_config(data_dir, "[ingest]\nbatch_size = 100\n")
        monkeypatch.setenv("CHATKEEPER_DATA_DIR", str(elsewhere))
        assert load_settings(data_dir=data_dir).ingest.batch_size == 100


# file text, the key the message names, part of the message on what is valid
INVALID_FILE_ROWS = [
    ("[ingest]\nbatch_size = 0\n", "ingest.batch_size", "greater than or equal to 1"),
    ("[ingest]\nbatch_size = -5\n", "ingest.batch_size", "greater than or equal to 1"),
    ("[ingest]\nbatch_size = 100001\n", "ingest.batch_size", "less than or equal to 100000"),
    ('[ingest]\nbatch_size = "many"\n', "ingest.batch_size", "valid integer"),
    ("[ingest]\nbatch_size = 1.5\n", "ingest.batch_size", "integer"),
    ("[ingest]\nbatchsize = 100\n", "ingest.batchsize", "not permitted"),
    ("colour = 'red'\n", "colour", "not permitted"),
    ("[logging]\nlevel = 'debug'\n", "logging", "not permitted"),
    ("[search]\ndefault_limit = 0\n", "search.default_limit", "greater than or equal to 1"),
    ("[display]\nutc_offset_minutes = 900\n", "display.utc_offset_minutes", "840"),
    ("ingest = 5\n", "ingest", "valid"),
]


class TestInvalid:
    """GIVEN an invalid setting WHEN settings load THEN ConfigError names the key (and the
    file it came from) and what is valid; nothing falls back silently."""

    @pytest.mark.parametrize(("text", "key", "valid"), INVALID_FILE_ROWS)
    def test_invalid_value_in_file(self, data_dir: Path, text: str, key: str, valid: str) -> None:
        """GIVEN the bad file WHEN loaded THEN ConfigError names the key, the file and the
        rule."""
        path = write_config(data_dir, text)
        with pytest.raises(ConfigError) as info:
            load_settings(data_dir=data_dir)
        message = str(info.value)
        assert f"'{key}'" in message
        assert str(path) in message
        assert valid in message

    @pytest.mark.parametrize(
        ("name", "value", "key"),
        [
            ("CHATKEEPER_INGEST__BATCH_SIZE", "0", "ingest.batch_size"),
            ("CHATKEEPER_INGEST__BATCH_SIZE", "lots", "ingest.batch_size"),
            ("CHATKEEPER_INGEST__BATCHSIZE", "10", "ingest.batchsize"),
            ("CHATKEEPER_SEARCH__MAX_LIMIT", "-1", "search.max_limit"),
            ("CHATKEEPER_DISPLAY__UTC_OFFSET_MINUTES", "eight", "display.utc_offset_minutes"),
        ],
    )
    def test_invalid_value_in_environment(
        self, monkeypatch: pytest.MonkeyPatch, name: str, value: str, key: str
    ) -> None:
        """GIVEN the bad variable WHEN loaded THEN ConfigError names the key."""
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError) as info:
            load_settings()
        assert f"'{key}'" in str(info.value)
        assert "environment" in str(info.value)

    @pytest.mark.parametrize(
        "text",
        ["[ingest\nbatch_size = 1\n", "batch_size == 1\n", "[ingest]\nbatch_size = \n", "\x00"],
    )
    def test_bad_toml_names_the_file(self, data_dir: Path, text: str) -> None:
        """GIVEN a file that is not TOML WHEN loaded THEN ConfigError names the file."""
        path = write_config(data_dir, text)
        with pytest.raises(ConfigError) as info:
            load_settings(data_dir=data_dir)
        assert str(path) in str(info.value)
        assert "TOML" in str(info.value)

    def test_file_that_is_not_utf8(self, data_dir: Path) -> None:
        """GIVEN a configuration file that is not UTF-8 WHEN loaded THEN ConfigError names the
        file (not a bare UnicodeDecodeError)."""
        path = data_dir / "chatkeeper.toml"
        path.write_bytes(b"[ingest]\n# \xff\xfe\nbatch_size = 1\n")
        with pytest.raises(ConfigError) as info:
            load_settings(data_dir=data_dir)
        assert str(path) in str(info.value)

    def test_missing_file_named_by_chatkeeper_config(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """GIVEN CHATKEEPER_CONFIG naming a file that does not exist WHEN loaded THEN
        ConfigError names it (it is not silently ignored)."""
        missing = tmp_path / "missing.toml"
        monkeypatch.setenv("CHATKEEPER_CONFIG", str(missing))
        with pytest.raises(ConfigError) as info:
            load_settings()
        assert str(missing) in str(info.value)

    def test_config_error_code(self, data_dir: Path) -> None:
        """GIVEN an invalid file WHEN loaded THEN the error has code config_invalid and the
        CLI exit code 78 (EX_CONFIG)."""
        write_config(data_dir, "[ingest]\nbatch_size = 0\n")
        with pytest.raises(ConfigError) as info:
            load_settings(data_dir=data_dir)
        assert (str(info.value.code), info.value.exit_code) == ("config_invalid", 78)

    def test_settings_class_forbids_unknown_fields(self) -> None:
        """GIVEN an unknown field WHEN Settings is validated directly THEN it is refused."""
        with pytest.raises(ValidationError):
            Settings.model_validate({"colour": "red"})
