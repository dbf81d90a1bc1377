"""``gridgis db …``, ``gridgis init`` and ``gridgis relink``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .console import out, progress

if TYPE_CHECKING:
    from gridgis.gis.cluster import EmbeddedCluster
    from gridgis.gis.settings import DatabaseSettings

app = typer.Typer(help="Look after the database (the embedded cluster by default).",
                  no_args_is_help=True)


def _embedded(settings: DatabaseSettings) -> EmbeddedCluster:
    from gridgis.gis.db import embedded_cluster
    from gridgis.gis.errors import ConfigurationError

    if not settings.embedded:
        raise ConfigurationError("GRIDGIS_DATABASE_URL is set, so gridgis uses that server and "
                                 "has no embedded cluster to look after.")
    return embedded_cluster(settings)


@app.command()
def status() -> None:
    """Show where the data lives and whether the server runs."""
    from gridgis.gis.db import open_database, schema_revision
    from gridgis.gis.settings import DatabaseSettings

    settings = DatabaseSettings()
    if not settings.embedded:
        with open_database(settings) as db:
            current, head = schema_revision(db.engine)
        out.print(f"external database, schema {current or 'none'} (newest {head})")
        return
    st = _embedded(settings).status()
    out.print(f"data directory: {st.data_dir}")
    out.print(f"socket:         {st.socket_dir}")
    version = f"yes (PostgreSQL {st.server_version})" if st.initialised else "no"
    out.print(f"initialised:    {version}")
    out.print(f"running:        {'yes, pid ' + str(st.pid) if st.running else 'no'}")


@app.command()
def start() -> None:
    """Start the embedded cluster and keep it running until `gridgis db stop`."""
    from gridgis.gis.settings import DatabaseSettings

    cluster = _embedded(DatabaseSettings())
    started = cluster.start(autostop=False)
    out.print(("started" if started else "already running") + f"; socket in {cluster.socket_dir}")


@app.command()
def stop() -> None:
    """Stop the embedded cluster."""
    from gridgis.gis.settings import DatabaseSettings

    out.print("stopped" if _embedded(DatabaseSettings()).stop() else "was not running")


@app.command()
def url(
    conninfo: Annotated[bool, typer.Option(
        "--conninfo", help="key=value form (for GDAL's PG: prefix and QGIS)")] = False,
    sqlalchemy: Annotated[bool, typer.Option(
        "--sqlalchemy", help="SQLAlchemy URL (postgresql+psycopg://) for Python")] = False,
    role: Annotated[str | None, typer.Option(
        help="connect as a desktop role instead of the owner: gis-reader (the gis.* "
             "layers, no personal fields) or planner (also edits draft-plan grids)")]
    = None,
    reset_password: Annotated[bool, typer.Option(
        help="with --role: give the role a new password (the old one stops working)")]
    = False,
) -> None:
    """Print how other tools connect: a libpq URI that psql, GDAL (PG:URI) and QGIS
    accept. The embedded server must be running for them (`gridgis db start`)."""
    from gridgis.gis.db import connection_strings

    if role is not None:
        _role_url(role, reset_password, conninfo)
        return
    strings = connection_strings()
    out.print(strings.sqlalchemy if sqlalchemy else strings.conninfo if conninfo
              else strings.uri, highlight=False)


def _role_url(role: str, reset: bool, conninfo: bool) -> None:
    import sqlalchemy as sa
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from gridgis.gis.db import embedded_cluster, open_database
    from gridgis.gis.db_roles import role_name, role_password
    from gridgis.gis.settings import DatabaseSettings

    from .console import err

    settings = DatabaseSettings()
    name = role_name(role)
    with open_database(settings) as db:
        secrets_dir = settings.home / "secrets" if settings.embedded else None
        password = role_password(db.engine, role, secrets_dir, reset=reset)
    if settings.embedded:
        cluster = embedded_cluster(settings)
        uri = cluster.tcp_uri(name, password or "")
        if uri is None:
            uri = cluster.libpq_uri(user=name)
            err.print("the embedded server listens on its socket only, which only this "
                      "user reaches: set GRIDGIS_DB_LISTEN=localhost (and restart it) for "
                      "QGIS running as another user", highlight=False)
    else:
        url = sa.engine.make_url(settings.database_url or "").set(
            drivername="postgresql", username=name, password=password)
        uri = url.render_as_string(hide_password=False)
        if password is None:
            err.print(f"gridgis does not keep passwords for this server: add "
                      f"--reset-password to give {name} a new one", highlight=False)
    if conninfo:
        uri = make_conninfo("", **{k: str(v) for k, v in conninfo_to_dict(uri).items()})
    out.print(uri, highlight=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def psql(ctx: typer.Context) -> None:
    """Open psql on the gridgis database (extra arguments go to psql). An embedded
    server started for it stops when psql ends, unless other gridgis processes use it."""
    import shutil
    import signal
    import subprocess

    from gridgis.gis.db import connection_strings, embedded_cluster
    from gridgis.gis.errors import ConfigurationError
    from gridgis.gis.settings import DatabaseSettings

    if shutil.which("psql") is None:
        raise ConfigurationError("psql is not installed (apt-get install postgresql-client)")
    settings = DatabaseSettings()

    def run() -> int:
        # psql handles Ctrl-C itself (it cancels the running query); we wait for it.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return subprocess.call(["psql", connection_strings(settings).uri, *ctx.args])
        finally:
            signal.signal(signal.SIGINT, previous)

    if settings.embedded:
        with embedded_cluster(settings).session():
            code = run()
    else:
        code = run()
    raise typer.Exit(code)


def register(root: typer.Typer) -> None:
    @root.command()
    def init(
        srid: Annotated[int | None, typer.Option(
            help="metric EPSG code for stored geometry")] = None,
        like: Annotated[Path | None, typer.Option(
            help="choose the UTM zone at the centre of this file's data")] = None,
    ) -> None:
        """Create the schema (the embedded cluster too, on first use)."""
        from gridgis.gis.db import migrate, open_database
        from gridgis.gis.errors import InvalidInput
        from gridgis.gis.settings import DatabaseSettings

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
        import sqlalchemy as sa

        from gridgis.gis.access import audit
        from gridgis.gis.db import open_database
        from gridgis.gis.linking import LINKED_TABLES, unassigned_counts
        from gridgis.gis.linking import relink as relink_all

        from .users import cli_actor

        with open_database() as db, db.engine.begin() as conn, \
                progress("relinking", total=len(LINKED_TABLES)) as steps:
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))  # a CLI job, unbounded

            def done(table: str) -> None:
                steps.advance()
                steps.describe(f"relinked {table}")

            changed = relink_all(conn, progress=done)
            unassigned = sum(unassigned_counts(conn).values())
            audit.record(conn, None, audit.Entry(
                "relink", None, detail=f"{changed} entities changed grid; {unassigned} "
                "outside every grid"), user_name=cli_actor())
        out.print(f"{changed} entities changed grid; {unassigned} lie outside every grid")


@app.command()
def partitions(
    place: Annotated[bool, typer.Option(
        "--place", help="Make the missing partitions and move the incidents waiting in a "
        "default partition into them.")] = False,
    redistrict: Annotated[bool, typer.Option(
        "--redistrict", help="With --place: compute every incident's district again first "
        "(a repair; the database keeps them as districts change).")] = False,
) -> None:
    """Show how incidents are stored: a partition per district, one per year within it,
    and the incidents in each."""
    from rich.table import Table

    from gridgis.gis.access import audit
    from gridgis.gis.db import open_database
    from gridgis.gis.partitions import incident_partitions, place_incidents, rows_per_partition

    from .users import cli_actor

    with open_database() as db:
        if place or redistrict:
            with db.engine.begin() as conn:
                moved = place_incidents(conn, redistrict=redistrict)
                audit.record(conn, None, audit.Entry(
                    "place incidents", "incidents", detail=f"{moved} moved"
                    + (", districts computed again" if redistrict else "")),
                    user_name=cli_actor())
            out.print(f"{moved} incidents moved to their partitions")
        with db.engine.connect() as conn:
            layout, rows = incident_partitions(conn), rows_per_partition(conn)
    table = Table("partition", "holds", "incidents", title="incidents by district and year")
    for part in layout:
        if not part.partitioned:
            table.add_row(part.name, part.bound.removeprefix("FOR VALUES "),
                          f"{rows.get(part.name, 0):,}")
    out.print(table)
    waiting = sum(n for name, n in rows.items() if name.endswith("_other"))
    if waiting:
        out.print(f"{waiting:,} incidents are in a default partition (outside every "
                  "district, or in a year without its own partition yet): "
                  "`gridgis db partitions --place` moves those it can")
