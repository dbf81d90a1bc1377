"""The floors of the house (ARCHITECTURE.md), kept by import-linter's contracts."""

import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).parents[1]


def test_the_import_contracts_hold():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_the_contracts_state_the_documented_floors():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    floors = next(c for c in config["contracts"] if c["id"] == "floors")
    assert floors["layers"] == ["gridgis.cli", "gridgis.api", "gridgis.maps",
                                "gridgis.layers : gridgis.gis"]
    pure = next(c for c in config["contracts"] if c["id"] == "pure-analytics")
    assert pure["source_modules"] == ["gridgis.gis.hotspots", "gridgis.gis.blindspots",
                                        "gridgis.gis.network", "gridgis.gis.patrol",
                                        "gridgis.gis.planning"]
    assert {"sqlalchemy", "gridgis.gis.db"} <= set(pure["forbidden_modules"])
