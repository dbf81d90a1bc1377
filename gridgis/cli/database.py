"""``gridgis db …``, ``gridgis init`` and ``gridgis relink``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console

from gridgis.gis.cluster import EmbeddedCluster
from gridgis.gis.db import migrate, open_database, schema_revision
from gridgis.gis.errors import ConfigurationError, InvalidInput
from gridgis.gis.settings import DatabaseSettings

app = typer.Typer(help="Look after the database (the embedded cluster by default).",
                  no_args_is_help=True)
out = Console(soft_wrap=True)


def _embedded(settings: DatabaseSettings) -> EmbeddedCluster:
    if not settings.embedded:
        raise ConfigurationError("GRIDGIS_DATABASE_URL is set, so gridgis uses that server and "
                                 "has no embedded cluster to look after.")
    return EmbeddedCluster(settings.home)


@app.command()
def status() -> None:
    """Show where the data lives and whether the server runs."""
    settings = DatabaseSettings()
    if not settings.embedded:
        with open_database(settings) as db:
            current, head = schema_revision(db.engine)
        out.print(f"external database, schema {current or 'none'} (newest {head})")
        return
    cluster = _embedded(settings)
    st = cluster.status()
    out.print(f"data directory: {st.data_dir}")
    out.print(f"socket:         {st.socket_dir}")
    version = f"yes (PostgreSQL {st.server_version})" if st.initialised else "no"
    out.print(f"initialised:    {version}")
    out.print(f"running:        {'yes, pid ' + str(st.pid) if st.running else 'no'}")


@app.command()
def start() -> None:
    """Start the embedded cluster and keep it running until `gridgis db stop`."""
    cluster = _embedded(DatabaseSettings())
    started = cluster.start(autostop=False)
    out.print(("started" if started else "already running") + f"; socket in {cluster.socket_dir}")


@app.command()
def stop() -> None:
    """Stop the embedded cluster."""
    cluster = _embedded(DatabaseSettings())
    out.print("stopped" if cluster.stop() else "was not running")


@app.command()
def url() -> None:
    """Print the database URL (for other tools)."""
    settings = DatabaseSettings()
    out.print(settings.database_url or _embedded(settings).url(), highlight=False)


@app.command()
def psql(args: Annotated[list[str] | None, typer.Argument(help="passed to psql")] = None) -> None:
    """Open psql on the gridgis database."""
    settings = DatabaseSettings()
    if settings.embedded:
        cluster = _embedded(settings)
        cluster.start(autostop=False)
        conninfo = cluster.conninfo()
    else:
        assert settings.database_url is not None
        conninfo = sa.engine.make_url(settings.database_url).set(
            drivername="postgresql").render_as_string(hide_password=False)
    os.execvp("psql", ["psql", conninfo, *(args or [])])


def register(root: typer.Typer) -> None:
    @root.command()
    def init(
        srid: Annotated[int | None, typer.Option(
            help="metric EPSG code for stored geometry")] = None,
        like: Annotated[Path | None, typer.Option(
            help="choose the UTM zone at the centre of this file's data")] = None,
    ) -> None:
        """Create the schema (the embedded cluster too, on first use)."""
        settings = DatabaseSettings()
        chosen = srid or settings.srid
        if like is not None:
            if chosen:
                raise InvalidInput("give --srid or --like, not both")
            from gridgis.gis.crs import utm_srid_for_geometries
            from gridgis.gis.importing.readers import open_source

            source = open_source(like)
            chunk = next(source.chunks)
            if source.crs is None:
                raise InvalidInput(f"{like} has no CRS to choose a UTM zone from")
            chosen = utm_srid_for_geometries(chunk.geometry, source.crs)
        with open_database(settings) as db:
            result = migrate(db.engine, chosen)
        out.print(f"schema ready; geometry stored in EPSG:{result}")

    @root.command()
    def relink() -> None:
        """Re-link every person, place, thing and incident to its grid, in one transaction."""
        from gridgis.gis.linking import relink as relink_all

        with open_database() as db, db.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
            changed = relink_all(conn)
            unassigned = conn.execute(sa.text(
                "SELECT sum(n) FROM (SELECT count(*) n FROM incidents WHERE grid_id IS NULL "
                "UNION ALL SELECT count(*) FROM people WHERE grid_id IS NULL "
                "UNION ALL SELECT count(*) FROM places WHERE grid_id IS NULL "
                "UNION ALL SELECT count(*) FROM things WHERE grid_id IS NULL) s")).scalar()
        out.print(f"{changed} entities changed grid; {unassigned} lie outside every grid")
