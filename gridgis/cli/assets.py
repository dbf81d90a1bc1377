"""``gridgis assets``: the map libraries every page needs, fetched once for offline use."""

from __future__ import annotations

from typing import Annotated

import typer

from .console import out

app = typer.Typer(help="Map libraries served by gridgis (fetched from npm once).",
                  no_args_is_help=True)


@app.command("fetch")
def fetch(force: Annotated[bool, typer.Option(help="fetch again even when present")] = False
          ) -> None:
    """Fetch Leaflet and its plugins (into GRIDGIS_ASSETS_DIR, by default
    ~/.local/share/gridgis/assets) so that every page works offline."""
    from gridgis.maps.assets import AssetSettings
    from gridgis.maps.assets import fetch as fetch_packages

    root = AssetSettings().assets_dir
    fetched = fetch_packages(root, force=force)
    out.print(("fetched " + ", ".join(fetched) if fetched else "assets already present")
              + f" in {root}", highlight=False)
