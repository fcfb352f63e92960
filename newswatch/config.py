"""One typed settings object: defaults that work offline, then `newswatch.toml`,
then `NEWSWATCH_*` environment variables, then command-line flags.

    NEWSWATCH_DB=/srv/news.duckdb newswatch digest --dry-run

Secrets (the SMTP password) come only from the environment or a Prefect
block; a config file that holds one is refused rather than read.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from newswatch.errors import NewswatchError, one_line
from newswatch.extractors.date_languages import DEFAULT_DATE_LANGUAGES, unknown_date_languages
from newswatch.extractors.policy import FetchPolicy

DEFAULT_CONFIG = Path("newswatch.toml")
# the configuration file of runs started without a command line (`serve`'s runs, a
# worker's): what `--config` says to `serve`, or what the operator sets
CONFIG_ENV = "NEWSWATCH_CONFIG"
# Constraints that a value outside hangs, ingests nothing or crashes
Count = Annotated[int, Field(ge=1)]            # at least one
Tries = Annotated[int, Field(ge=0)]            # zero or more
Seconds = Annotated[float, Field(gt=0)]        # more than nothing
Delay = Annotated[float, Field(ge=0)]          # nothing or more
# A list in the environment: a JSON list, or items separated by commas
Items = Annotated[list[str], NoDecode]
_SECRET_KEYS = {"smtp_password", "password"}


class ConfigError(NewswatchError):
    """A configuration file or value that cannot be used."""


def packaged_seeds_dir() -> Path:
    """The seed articles and watchlist that ship with newswatch."""
    return Path(str(resources.files("newswatch.seeds")))


_POLICY = FetchPolicy()
# settings that are the fetch policy's fields under another name
_POLICY_NAMES = {"fetch_retries": "retries", "max_page_bytes": "max_bytes"}


class Settings(BaseSettings):
    """Every setting newswatch reads; the README documents each one."""

    model_config = SettingsConfigDict(env_prefix="NEWSWATCH_", extra="forbid")

    db: Path = Path("data/newswatch.duckdb")
    # Seed articles; None = ./seeds if it exists, else the seeds shipped with newswatch.
    seeds_dir: Path | None = None
    # The watchlist; None = watchlist.toml in the seeds directory.
    watchlist: Path | None = None
    # Metadata the seed texts do not carry; None = manifest.toml in the seeds directory.
    manifest: Path | None = None
    digests_dir: Path = Path("digests")
    timezone: str = "Asia/Almaty"
    max_seed_bytes: Count = 5_000_000
    batch_size: Count = 200
    lock_timeout: Delay = 30.0
    # `newswatch sql`: a query is stopped after this many seconds and prints at most
    # this many rows (--max-rows changes it for one query)
    sql_timeout: Seconds = 60.0
    sql_max_rows: Count = 100_000
    # Fetching: say who we are and how to reach the operator.
    # (the defaults are FetchPolicy's: written once, in extractors/policy.py)
    user_agent: str = _POLICY.user_agent
    max_connections: Count = _POLICY.max_connections
    max_per_host: Count = _POLICY.max_per_host
    per_host_delay: Delay = _POLICY.per_host_delay
    connect_timeout: Seconds = _POLICY.connect_timeout
    read_timeout: Seconds = _POLICY.read_timeout
    fetch_retries: Tries = _POLICY.retries
    max_page_bytes: Count = _POLICY.max_bytes
    obey_robots: bool = _POLICY.obey_robots
    # Private, loopback and link-local addresses are refused unless allowed here.
    allow_private: bool = _POLICY.allow_private
    allowed_networks: Items = []
    # Each load opens the warehouse and checkpoints it on close (~0.1-0.3 s, more as
    # it grows): 250 pages a batch amortise that. Real news pages average 170 KB, so
    # a batch in flight is ~40 MB; at 500 the run's peak was 42 MB higher (2,000 pages).
    url_batch_size: Count = 250
    # DuckDB's memory while a batch loads or the warehouse is compacted (None: its
    # default, 80% of RAM). Compacting merges row groups: it rewrites a table's last
    # one whole (up to 122,880 articles), caching every block it touches; uncapped,
    # that grew with the warehouse (+250 MB at 10,000 articles). Capped, DuckDB
    # evicts and spills: loads took no longer at 48MB. But a batch of 500 real pages
    # holds 35-45 MB uncommitted (their compressed HTML ~20 MB), which does not spill:
    # at 48MB a 10,000-page run of real pages failed in a load.
    load_memory_limit: str | None = "128MB"
    # Polling: the sources file (None = sources.toml in the seeds folder), how
    # often the schedule polls, and what a first poll of a new source takes.
    sources: Path | None = None
    poll_interval_minutes: Count = 30
    max_new_per_poll: Count = 200
    first_poll_days: Tries = 3
    max_child_sitemaps: Tries = 20
    extract_workers: Count = 2
    min_article_chars: Tries = 500
    # the languages of dates written out in words ("6 января 2022"), as dateparser's
    # codes; an empty list reads all 205 of them, ~27 MB more in every worker
    date_languages: Items = list(DEFAULT_DATE_LANGUAGES)
    mail_from: str = "newswatch@localhost"
    mail_to: Items = []
    smtp_host: str = "localhost"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_security: str = "starttls"      # starttls, ssl (implicit TLS) or none
    smtp_user: str | None = None
    smtp_timeout: Seconds = 30.0
    smtp_ca_file: str | None = None       # an extra CA to trust (a private relay)
    smtp_retries: Tries = 3
    # the name of a prefect-email EmailServerCredentials block: when set, its server,
    # port, security, user and password replace the smtp_* settings above
    smtp_block: str | None = None
    # secret: from the environment (NEWSWATCH_SMTP_PASSWORD) only, never a file
    smtp_password: SecretStr | None = None
    # Scale-out (README, "Running at scale"): "local" fetches and extracts in the
    # flow's process and its pool; "dask" sends each batch to a Dask cluster
    # (dask_address, else a local one of dask_workers processes), whose workers
    # write Parquet under staging_dir for the flow to merge into the warehouse.
    task_runner: Literal["local", "dask"] = "local"
    dask_address: str | None = None
    dask_workers: Count = 2
    staging_dir: Path = Path("data/staging")

    @field_validator("allowed_networks", "mail_to", "date_languages", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)
                except ValueError as exc:
                    raise ValueError(f"not a JSON list: {exc}") from exc
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for spec in value:
            try:
                ipaddress.ip_network(spec, strict=False)
            except ValueError:
                raise ValueError(f"{spec!r} is not a network: write 10.0.0.0/8 or "
                                 "127.0.0.1/32, several separated by commas") from None
        return value

    @field_validator("date_languages")
    @classmethod
    def _date_languages(cls, value: list[str]) -> list[str]:
        unknown = unknown_date_languages(value)
        if unknown:
            raise ValueError(f"dateparser does not know {', '.join(map(repr, unknown))}: "
                             "write its language codes (en, ru, kk), or [] for all")
        return value

    @field_validator("mail_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [email_address(address) for address in value]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def resolved_seeds_dir(self) -> Path:
        if self.seeds_dir is not None:
            return self.seeds_dir
        local = Path("seeds")
        return local if local.is_dir() else packaged_seeds_dir()

    def resolved_watchlist(self) -> Path:
        if self.watchlist is not None:
            return self.watchlist
        local = self.resolved_seeds_dir() / "watchlist.toml"
        return local if local.is_file() else packaged_seeds_dir() / "watchlist.toml"

    def fetch_policy(self) -> FetchPolicy:
        """The fetcher's policy: every setting that is one of its fields."""
        fields = {_POLICY_NAMES.get(name, name): value for name, value in self
                  if _POLICY_NAMES.get(name, name) in FetchPolicy.__dataclass_fields__}
        return FetchPolicy(**{**fields, "allowed_networks": tuple(self.allowed_networks)})

    def resolved_sources(self) -> Path:
        return self.sources or self.resolved_seeds_dir() / "sources.toml"

    def resolved_manifest(self) -> Path:
        return self.manifest or self.resolved_seeds_dir() / "manifest.toml"


_ADDRESS = re.compile(r"[^@\s<>,;:\"()\[\]]+@[^@\s<>,;:\"()\[\]]+\.[^@\s<>,;:\"()\[\].]+")


def email_address(value: str) -> str:
    """A bare e-mail address (ann@example.org), else ValueError: a recipient goes into
    a header, where a name, a comma or a line break would be someone else's."""
    address = value.strip()
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"not an e-mail address: {value!r} (write ann@example.org)")
    return address


def _check_file(path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    secrets = _SECRET_KEYS & set(data)
    if secrets:
        raise ConfigError(
            f"{path}: {', '.join(sorted(secrets))} must not be in a file; set "
            "NEWSWATCH_SMTP_PASSWORD in the environment or use a Prefect block"
        )


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Settings from defaults < config file < environment < `overrides`.

    `config` defaults to $NEWSWATCH_CONFIG, else ./newswatch.toml when that file
    exists. Overrides that are None are ignored, so CLI options can be passed
    straight through.
    """
    if config is None and os.environ.get(CONFIG_ENV):
        config = Path(os.environ[CONFIG_ENV])
    path = config if config is not None else (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"no configuration file at {path}")
        _check_file(path)

    class _FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            return tuple(sources)

    try:
        return _FromFile(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        where = f" ({path} or the environment)" if path else ""
        raise ConfigError(f"invalid configuration{where}: {_problems(exc)}") from None
    except ValueError as exc:  # a source that could not parse a value
        raise ConfigError(f"invalid configuration: {one_line(exc)}") from None


def settings_for(given: Settings | None, **overrides: Any) -> Settings:
    """A flow's settings: those its caller loaded once (the command line, from
    --config, the environment and its flags) with the flow's own non-None
    parameters on top; loaded here when the run has no caller that did (a
    deployment's run: environment, $NEWSWATCH_CONFIG or ./newswatch.toml)."""
    if given is None:
        return load_settings(**overrides)
    changes = {k: v for k, v in overrides.items() if v is not None}
    if not changes:
        return given
    try:
        return type(given).model_validate({**given.model_dump(), **changes})
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {_problems(exc)}") from None


_PLAINER = (("Input should be greater than or equal to", "must be at least"),
            ("Input should be greater than", "must be more than"),
            ("Input should be less than or equal to", "must be at most"),
            ("Input should be", "must be"))


def _problems(exc: ValidationError) -> str:
    """pydantic's report as one line: `name` (NEWSWATCH_NAME): what is wrong (got x)."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = error["msg"].removeprefix("Value error, ")
        for pydantic_words, ours in _PLAINER:
            message = message.replace(pydantic_words, ours)
        got = error.get("input")
        shown = f" (got {got!r})" if got is not None and not isinstance(got, dict) else ""
        if error["type"] == "extra_forbidden":  # a misspelt name may hold a secret
            message, shown = "not a setting of newswatch", ""
        problems.append(f"{name} (NEWSWATCH_{name.upper()}): {message}{shown}")
    return "; ".join(problems)
