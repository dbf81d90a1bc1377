"""Service settings (``GRIDGIS_API_…``), beside the database settings."""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gridgis.gis.settings import DatabaseSettings
from gridgis.maps.assets import AssetSettings


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGIS_API_", extra="ignore")

    default_limit: int = Field(default=100, ge=1)
    max_limit: int = Field(default=5_000, ge=1)
    max_bbox_km2: float = Field(default=10_000.0, gt=0,
                                description="largest bbox a list request may ask for")
    max_body_bytes: int = Field(default=20 * 2**20, ge=1024)
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default=["localhost", "127.0.0.1", "[::1]"],
        description="host names the service answers to, comma-separated (* for any)")
    lang: Literal["zh", "en"] = "zh"
    tile_url: str | None = Field(default=None, description="XYZ tile URL, e.g. an intranet "
                                 "tile server; by default no external tiles")
    tile_attribution: str = ""
    map_max_features: int = Field(default=20_000, ge=1)
    analytics_slots: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) - 1), ge=1,
        description="analyses computed at once (the rest wait; light requests never do)")
    analytics_warm: bool = Field(default=True, description="start the analysis workers "
                                 "with the service (else on the first analysis)")
    analytics_threads: int = Field(default=8, ge=1, description="requests for analyses "
                                   "served at once; more wait without holding a thread")
    analytics_wait_s: float = Field(
        default=20.0, gt=0, description="how long a request waits for an analysis before "
        "a 503 with Retry-After (the computation goes on and its result is kept)")
    analytics_max_pending: int = Field(default=16, ge=1, description="analyses queued or "
                                       "computing at most; beyond, a 503 at once")
    commit_outcome_wait_s: float = Field(
        default=20.0, ge=0, description="when the connection drops during a commit, how long "
        "to wait for the database to come back and say whether the write was committed")
    publish_timeout_ms: int = Field(
        default=300_000, ge=1_000, description="the longest a plan publish over HTTP may run "
        "(it relinks every entity); a larger city publishes with the CLI")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        return [h.strip() for h in value.split(",") if h.strip()] \
            if isinstance(value, str) else value

    @model_validator(mode="after")
    def _limits_agree(self) -> ApiSettings:
        if self.default_limit > self.max_limit:
            raise ValueError(f"GRIDGIS_API_DEFAULT_LIMIT ({self.default_limit}) is above "
                             f"GRIDGIS_API_MAX_LIMIT ({self.max_limit})")
        return self


class Settings(BaseModel):
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    assets: AssetSettings = Field(default_factory=AssetSettings)
