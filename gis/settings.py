"""Database settings, read from ``GRIDGIS_…`` environment variables."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .replica import WAIT_S


class DataSettings(BaseSettings):
    """What counts as plausible data, at every way in (imports and the API)."""

    model_config = SettingsConfigDict(env_prefix="GRIDGIS_", extra="ignore")

    earliest_date: date = Field(default=date(1900, 1, 1),
                                description="dates before it are refused as implausible")
    future_skew_hours: float = Field(default=24.0, ge=0, description="how far past the "
                                     "clock an occurrence may lie (clocks and zones differ)")
    foot_kmh: float = Field(default=5.0, gt=0, le=20, description="walking speed")
    bike_kmh: float = Field(default=15.0, gt=0, le=50, description="cycling speed")
    car_kmh: dict[str, float] = Field(
        default_factory=dict, description="driving speed by highway class, over the "
        "defaults (JSON, e.g. {\"residential\": 20})")
    timezone: str | None = Field(default=None, description="the district's local time "
                                 "zone: shift times such as 08:00-16:00 are wall-clock "
                                 "time here (default: the database's, else Asia/Shanghai)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"GRIDGIS_TIMEZONE {value!r} is not a time zone "
                                 "(e.g. Asia/Shanghai)") from None
        return value


class DatabaseSettings(BaseSettings):
    """Where the data lives.

    Without ``GRIDGIS_DATABASE_URL`` gridgis runs its own PostgreSQL + PostGIS cluster
    under ``GRIDGIS_HOME`` (the embedded default).
    """

    model_config = SettingsConfigDict(env_prefix="GRIDGIS_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="SQLAlchemy/libpq URL of an external PostgreSQL with PostGIS."
    )
    home: Path = Field(
        default_factory=lambda: Path.cwd() / ".gridgis",
        description="Directory of the embedded cluster and other local state.",
    )
    srid: int | None = Field(
        default=None,
        description="Metric EPSG code for stored geometry; chosen from the data when unset.",
    )
    statement_timeout_ms: int = Field(default=30_000, ge=100)
    db_listen: str | None = Field(
        default=None, description="embedded cluster: also listen on TCP at these addresses "
        "(e.g. localhost), for desktop GIS; every TCP connection needs a password")
    db_port: int = Field(default=5432, ge=1024, le=65535,
                         description="embedded cluster: its port (TCP, and the socket's name)")
    replica_url: str | None = Field(
        default=None, description="a streaming replica (hot standby) of the database, for "
        "the reads of map pages and analyses (see gis/replica.py)")
    replica_wait_s: float = Field(
        default=WAIT_S, ge=0, le=60, description="how long a read waits for the replica to "
        "catch up with the primary before it reads from the primary")

    @field_validator("database_url", "replica_url")
    @classmethod
    def _normalise_url(cls, url: str | None) -> str | None:
        if not url:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @field_validator("db_listen")
    @classmethod
    def _check_listen(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9.:*,\- ]+", value):
            raise ValueError("GRIDGIS_DB_LISTEN is host names or addresses, comma-separated")
        return value or None

    @property
    def embedded(self) -> bool:
        return self.database_url is None
