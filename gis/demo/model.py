"""The demo's documented parameters: ``data/demo_model.toml`` and ``data/osm_places.toml``.

They are read as package data of ``gridgis`` (not from the source tree), so the demo also
runs from a wheel or a non-editable install.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files

from ..errors import ConfigurationError

MODEL_FILE = "demo_model.toml"
PLACES_FILE = "osm_places.toml"
CITY_FILE = "city_model.toml"


def load_model() -> tuple[dict, dict]:
    """The demo model and the OSM tag → place category mapping."""
    return _read(MODEL_FILE), _read(PLACES_FILE)


def load_city_model() -> dict:
    """The generated city's model (``gridgis demo --city``)."""
    return _read(CITY_FILE)


def _read(name: str) -> dict:
    try:
        text = files("gridgis").joinpath("data", name).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"the demo model file gridgis/data/{name} is missing or unreadable ({exc}); "
            "the gridgis installation is incomplete: reinstall gridgis") from exc
    return tomllib.loads(text)
