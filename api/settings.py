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
    map_grids_embedded: int = Field(
        default=2_000, ge=0, description="most grids a map page embeds: more are drawn "
        "from vector tiles (incidents, roads and buildings: above map_max_features)")
    vector_tile_cache_mb: float = Field(
        default=64.0, ge=0, description="vector tiles kept per worker, keyed by the versions "
        "of the tables they are made from (0: none kept)")
    answer_cache_mb: float = Field(
        default=128.0, ge=0, description="map pages and analyses kept per worker, keyed by "
        "the data's version and the reader's view (0: none kept)")
    db_pool_size: int = Field(default=8, ge=1, description="database connections each "
                              "worker keeps open (`gridgis serve` derives it)")
    db_max_overflow: int = Field(default=8, ge=0, description="connections a worker may "
                                 "open beyond the pool under load (derived likewise)")
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


class AuthSettings(BaseSettings):
    """Sign-in and access (``GRIDGIS_AUTH_…``)."""

    model_config = SettingsConfigDict(env_prefix="GRIDGIS_AUTH_", extra="ignore")

    public_layers: Annotated[list[str], NoDecode] = Field(
        default=[], description="resources anyone may read without signing in, "
        "comma-separated (e.g. areas,grids); never their personal fields")
    secure_cookies: Literal["auto", "always", "never"] = Field(
        default="auto", description="mark the session cookie Secure: auto when the request "
        "came over HTTPS (behind a proxy on this host, X-Forwarded-Proto says so)")
    min_count: int = Field(default=5, ge=1, description="counts of people below this are "
                           "withheld from those who may not see individuals")
    sign_in_per_minute: int = Field(default=10, ge=1, description="sign-in attempts one "
                                    "client address may make per minute")
    principal_cache_s: float = Field(
        default=30, ge=0, le=3600, description="how long the user behind a token or "
        "session is kept in memory between requests (0: ask the database every time); "
        "any change to users, credentials, grids or areas empties it at once")

    @field_validator("public_layers", mode="before")
    @classmethod
    def _split_layers(cls, value: object) -> object:
        from gridgis.gis.access.roles import MAY_BE_PUBLIC

        layers = [v.strip() for v in value.split(",") if v.strip()] \
            if isinstance(value, str) else value
        if isinstance(layers, list):
            unknown = [v for v in layers if v not in MAY_BE_PUBLIC]
            if unknown:
                raise ValueError(f"GRIDGIS_AUTH_PUBLIC_LAYERS: {unknown[0]!r} cannot be "
                                 f"public; layers that can: {', '.join(MAY_BE_PUBLIC)}")
        return layers


class Settings(BaseModel):
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    assets: AssetSettings = Field(default_factory=AssetSettings)
