"""Service settings (``GRIDGIS_API_…``), beside the database settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridgis.gis.settings import DatabaseSettings
from gridgis.maps.assets import AssetSettings


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGIS_API_", extra="ignore")

    default_limit: int = Field(default=100, ge=1)
    max_limit: int = Field(default=5_000, ge=1)
    max_bbox_km2: float = Field(default=10_000.0, gt=0,
                                description="largest bbox a list request may ask for")
    max_body_bytes: int = Field(default=20 * 2**20, ge=1024)
    lang: Literal["zh", "en"] = "zh"
    tile_url: str | None = Field(default=None, description="XYZ tile URL, e.g. an intranet "
                                 "tile server; by default no external tiles")
    tile_attribution: str = ""
    map_max_features: int = Field(default=20_000, ge=1)
    publish_timeout_ms: int = Field(
        default=300_000, ge=1_000, description="the longest a plan publish over HTTP may run "
        "(it relinks every entity); a larger city publishes with the CLI")

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
