"""Front-end assets served by gridgis itself, so every page works without internet.

The files come from the npm registry once per user (``gridgis assets fetch``, run by
``scripts/bootstrap.sh``) into a directory outside the package, ``GRIDGIS_ASSETS_DIR``
or ``$XDG_DATA_HOME/gridgis/assets`` (``~/.local/share/gridgis/assets``), shared by every
``GRIDGIS_HOME`` of that user, and are served under ``/static/vendor``. Nothing in a page
points at a CDN.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridgis.gis.errors import ConfigurationError

VENDOR_URL = "/static/vendor"
FETCH_COMMAND = "gridgis assets fetch"


def user_data_dir() -> Path:
    """The user's data directory (XDG base directories)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


class AssetSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGIS_", extra="ignore")

    assets_dir: Path = Field(
        default_factory=lambda: user_data_dir() / "gridgis" / "assets",
        description="Where the map libraries are fetched to and served from.")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: tuple[str, ...]  # paths inside the package; directories copied whole


GEOMAN = "@geoman-io/leaflet-geoman-free"
PACKAGES = (
    Package("leaflet", "1.9.4", ("dist/leaflet.js", "dist/leaflet.css", "dist/images")),
    Package("leaflet.markercluster", "1.5.3", (
        "dist/leaflet.markercluster.js", "dist/MarkerCluster.css",
        "dist/MarkerCluster.Default.css")),
    Package("leaflet.heat", "0.2.0", ("dist/leaflet-heat.js",)),
    Package("leaflet.fullscreen", "3.0.2", ("Control.FullScreen.js", "Control.FullScreen.css",
                                            "icon-fullscreen.svg")),
    Package(GEOMAN, "2.18.3", ("dist/leaflet-geoman.js", "dist/leaflet-geoman.css")),
    Package("leaflet.vectorgrid", "1.3.0", ("dist/Leaflet.VectorGrid.bundled.min.js",)),
    Package("swagger-ui-dist", "5.17.14", ("swagger-ui-bundle.js", "swagger-ui.css",
                                           "favicon-32x32.png")),
)


def url(package: str, path: str) -> str:
    """The local URL of a file of a vendored package."""
    return f"{VENDOR_URL}/{package}/{path}"


def missing(root: Path) -> list[str]:
    """The files of the vendored packages that are not in ``root``."""
    return [f"{p.name}/{f}" for p in PACKAGES for f in p.files if not (root / p.name / f).exists()]


def require(root: Path) -> None:
    """Raise the error that tells how to get the map libraries when any is missing."""
    absent = missing(root)
    if absent:
        raise ConfigurationError(
            f"the map libraries are missing from {root} ({absent[0]}"
            + (f" and {len(absent) - 1} more" if len(absent) > 1 else "")
            + f"); run `{FETCH_COMMAND}` once (it needs npm and the npm registry), or set "
            "GRIDGIS_ASSETS_DIR to where they are.")


def fetch(root: Path, force: bool = False) -> list[str]:
    """Download the packages with npm into ``root`` and copy the files pages need.
    Returns what was fetched."""
    wanted = [p for p in PACKAGES
              if force or any(not (root / p.name / f).exists() for f in p.files)]
    if not wanted:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise ConfigurationError(
            "npm is needed once to fetch the map libraries (Leaflet and its plugins) from "
            f"the npm registry; install it (`apt-get install npm`) and run `{FETCH_COMMAND}`.")
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [npm, "pack", "--silent", "--pack-destination", tmp,
             *(f"{p.name}@{p.version}" for p in wanted)],
            capture_output=True, text=True, cwd=tmp)
        if result.returncode != 0:
            raise ConfigurationError(f"npm pack failed: {result.stderr.strip()}")
        for package in wanted:
            # npm names a scoped package's tarball without the @ and with - for /
            packed = package.name.lstrip("@").replace("/", "-")
            tarball = Path(tmp) / f"{packed}-{package.version}.tgz"
            target = root / package.name
            shutil.rmtree(target, ignore_errors=True)
            with tarfile.open(tarball) as archive:
                archive.extractall(Path(tmp) / package.name, filter="data")
            source = Path(tmp) / package.name / "package"
            for item in package.files:
                destination = target / item
                destination.parent.mkdir(parents=True, exist_ok=True)
                if (source / item).is_dir():
                    shutil.copytree(source / item, destination)
                else:
                    shutil.copy2(source / item, destination)
    return [f"{p.name}@{p.version}" for p in wanted]
