"""Connecting to the database (embedded or external), PostGIS and migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import Connection, Engine

from .cluster import EmbeddedCluster
from .errors import ConfigurationError, DatabaseUnavailable, NotFound, NotInitialised
from .incident_cells import tend_incident_cells_quietly
from .partitions import place_waiting_incidents
from .replica import Reads
from .settings import DatabaseSettings

if TYPE_CHECKING:
    import pandas

MIN_SERVER_VERSION = 130000
MIN_POSTGIS_MAJOR = 3


APP_ROLE = "gridgis_app"  # the service's database role (migration 0008)
POOL_TIMEOUT_S = 10  # a request waiting longer for a connection gets a 503
MAX_ID = 2**63 - 1  # bigserial


def require_id(value: int, what: str) -> int:
    """An id a row could have; any other names no row (NotFound, not a database error)."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"no {what} with id {value}")
    return value


def create_db_engine(url: str, *, statement_timeout_ms: int = 30_000,
                     pool_size: int = 5, max_overflow: int | None = None,
                     role: str | None = None, application_name: str = "gridgis") -> Engine:
    """An engine whose errors never carry bound values (they may be personal data, and
    errors reach logs). With ``role``, every session acts as that role (SET ROLE at
    connection start). ``application_name`` names its sessions in pg_stat_activity."""
    options = f"-c statement_timeout={statement_timeout_ms} -c timezone=UTC"
    if role is not None:
        options += f" -c role={role}"
    return sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_timeout=POOL_TIMEOUT_S,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={
            "connect_timeout": 10,
            "options": options,
            "application_name": application_name,
        },
    )


@dataclass
class Database:
    """An engine on the gridgis database and, for the embedded default, its cluster."""

    engine: Engine
    cluster: EmbeddedCluster | None = None
    statement_timeout_ms: int = 30_000
    session_role: str | None = None  # the role every session switches to, if any
    _srid: int | None = field(default=None, repr=False)

    @property
    def srid(self) -> int:
        if self._srid is None:
            with self.engine.connect() as conn:
                self._srid = current_srid(conn)
            if self._srid is None:
                raise NotInitialised(
                    "The gridgis database has no schema yet. Run `gridgis init --srid EPSG` "
                    "(or `--like FILE` to choose a UTM zone from your data), or import areas "
                    "or grids first."
                )
        return self._srid

    def forget_srid(self) -> None:
        self._srid = None

    def for_service(self, pool_size: int = 8, max_overflow: int | None = None) -> Database:
        """The same database as the service's own role (``gridgis_app``: no superuser,
        owns nothing, may not change the audit log). On the embedded cluster the
        service signs in as that role; on another server the configured user's sessions
        switch to it."""
        url = self.engine.url
        role: str | None = APP_ROLE
        if self.cluster is not None:
            url, role = url.set(username=APP_ROLE), None
        engine = create_db_engine(url.render_as_string(hide_password=False),
                                  statement_timeout_ms=self.statement_timeout_ms,
                                  pool_size=pool_size, max_overflow=max_overflow,
                                  role=role)
        return Database(engine, self.cluster, self.statement_timeout_ms, session_role=role)

    def replica_reads(self, settings: DatabaseSettings, pool_size: int = 8,
                      max_overflow: int | None = None) -> Reads:
        """Reads of map pages and analyses: from ``settings.replica_url`` as the
        service's role, once it has caught up (:mod:`.replica`), else from this
        database. The replica's pool is sized as this one's (a standby allows at least
        the primary's ``max_connections``)."""
        replica = None
        if settings.replica_url is not None:
            replica = create_db_engine(settings.replica_url, pool_size=pool_size,
                                       statement_timeout_ms=self.statement_timeout_ms,
                                       max_overflow=max_overflow, role=APP_ROLE)
        return Reads(self.engine, replica, settings.replica_wait_s)

    def listen_connection(self) -> psycopg.Connection:
        """A connection of its own, outside the pool, in autocommit: for LISTEN."""
        _, params = self.engine.dialect.create_connect_args(self.engine.url)
        params.pop("context", None)
        options = "-c timezone=UTC" + (f" -c role={self.session_role}"
                                       if self.session_role else "")
        # Over TCP, a server that went away without closing the connection is noticed
        # within about half a minute (the listener's heartbeat waits no longer).
        return psycopg.connect(**params, options=options, autocommit=True,
                               connect_timeout=10, application_name="gridgis-listener",
                               keepalives=1, keepalives_idle=10, keepalives_interval=5,
                               keepalives_count=3, tcp_user_timeout=30_000)


@dataclass(frozen=True)
class ConnectionStrings:
    """The same database for other tools: a libpq URI and key=value string (psql, GDAL,
    QGIS), and the SQLAlchemy URL (Python)."""

    uri: str
    conninfo: str
    sqlalchemy: str


def embedded_cluster(settings: DatabaseSettings) -> EmbeddedCluster:
    return EmbeddedCluster(settings.home, port=settings.db_port, listen=settings.db_listen)


def connection_strings(settings: DatabaseSettings | None = None) -> ConnectionStrings:
    settings = settings or DatabaseSettings()
    if settings.embedded:
        cluster = embedded_cluster(settings)
        return ConnectionStrings(cluster.libpq_uri(), cluster.conninfo(), cluster.url())
    if settings.database_url is None:
        raise ConfigurationError("GRIDGIS_DATABASE_URL is empty")
    url = sa.engine.make_url(settings.database_url)
    uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
    parts = conninfo_to_dict(uri)
    return ConnectionStrings(uri, make_conninfo(**{k: str(v) for k, v in parts.items()}),
                             url.render_as_string(hide_password=False))


@contextmanager
def open_database(settings: DatabaseSettings | None = None, *,
                  pool_size: int = 5) -> Iterator[Database]:
    """Connect for the life of the block: start the embedded cluster when no URL is set
    (stopping it afterwards if this process was its last user), make sure PostGIS exists,
    and dispose of the pool on exit."""
    settings = settings or DatabaseSettings()
    if settings.embedded:
        cluster = embedded_cluster(settings)
        with cluster.session():
            engine = create_db_engine(cluster.url(), pool_size=pool_size,
                                      statement_timeout_ms=settings.statement_timeout_ms)
            try:
                ensure_postgis(engine)
                upgrade_if_initialised(engine)
                yield Database(engine, cluster, settings.statement_timeout_ms)
            finally:
                engine.dispose()
    else:
        engine = create_db_engine(connection_strings(settings).sqlalchemy, pool_size=pool_size,
                                  statement_timeout_ms=settings.statement_timeout_ms)
        try:
            ensure_postgis(engine)
            upgrade_if_initialised(engine)
            yield Database(engine, statement_timeout_ms=settings.statement_timeout_ms)
        finally:
            engine.dispose()


SERVICE_ROLES = ("gridgis_app", "gridgis_gis_reader", "gridgis_planner")


def ensure_roles(engine: Engine) -> None:
    """Create the database roles gridgis uses (migration 0008 grants them their rights)
    where they are missing: they belong to the whole server, so this needs CREATEROLE."""
    with engine.begin() as conn:
        missing = [r for r in SERVICE_ROLES if conn.execute(
            sa.text("SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :r)"),
            {"r": r}).scalar()]
        if not missing:
            return
        allowed = conn.execute(sa.text(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )).scalar()
        if not allowed:
            raise ConfigurationError(
                f"the database roles {', '.join(missing)} do not exist and "
                f"{conn.execute(sa.text('SELECT current_user')).scalar()} may not create "
                "them: have an administrator create them (CREATE ROLE name LOGIN), or "
                "connect as a role with CREATEROLE once")
        for role in missing:  # names from the constant above, never from input
            conn.execute(sa.text(f"""
                DO $$ BEGIN
                    CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
                        NOREPLICATION NOBYPASSRLS;
                EXCEPTION WHEN duplicate_object THEN NULL;  -- another process was first
                END $$"""))


def upgrade_if_initialised(engine: Engine) -> None:
    """Apply pending migrations to a database that already has the gridgis schema (a new
    one is initialised by the first import, ``gridgis init`` or ``gridgis demo``)."""
    current, head = schema_revision(engine)
    if current is not None and current != head:
        migrate(engine)


def ensure_postgis(engine: Engine) -> None:
    """Check the server and create the PostGIS extension, with actionable errors."""
    try:
        with engine.begin() as conn:
            version = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
            if int(version) < MIN_SERVER_VERSION:
                raise ConfigurationError(
                    f"gridgis needs PostgreSQL 13 or newer; the server is {version}."
                )
            available = conn.execute(sa.text(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'"
            )).scalar_one_or_none()
            if available is None:
                major = int(version) // 10000
                raise ConfigurationError(
                    f"PostGIS is not installed for the PostgreSQL {major} server. Install it "
                    f"(on Debian/Ubuntu: `apt-get install postgresql-{major}-postgis-3`) and "
                    "start gridgis again."
                )
            if int(str(available).split(".")[0]) < MIN_POSTGIS_MAJOR:
                raise ConfigurationError(f"gridgis needs PostGIS 3; the server has {available}.")
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except sa.exc.OperationalError as exc:
        raise DatabaseUnavailable(
            f"Cannot connect to the database: {exc.orig}. Check that the server is running "
            "and GRIDGIS_DATABASE_URL is right (unset it to use the embedded database)."
        ) from exc
    except sa.exc.ProgrammingError as exc:
        raise ConfigurationError(
            f"Could not enable PostGIS: {exc.orig}. The database user needs the right to "
            "CREATE EXTENSION, or an administrator must run `CREATE EXTENSION postgis` once."
        ) from exc


def _alembic_config(connection: Connection, srid: int | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("gridgis.gis").joinpath("migrations")))
    config.attributes["connection"] = connection
    config.attributes["srid"] = srid
    return config


def current_srid(conn: Connection) -> int | None:
    exists = conn.execute(sa.text("SELECT to_regclass('gridgis_meta')")).scalar_one()
    if exists is None:
        return None
    value = conn.execute(sa.text("SELECT value FROM gridgis_meta WHERE key = 'srid'")).scalar()
    return int(value) if value is not None else None


def table_columns(conn: Connection, table: str) -> list[str]:
    """The table's column names in column order (a temporary table's too)."""
    return [name for (name,) in conn.execute(sa.text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"), {"t": table})]


def migrate(engine: Engine, srid: int | None = None) -> int:
    """Bring the schema to the newest revision; the first run needs the metric ``srid``.

    Returns the deployment's SRID. Raises if ``srid`` contradicts an initialised database.
    """
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('gridgis-migrate'))"))
        existing = current_srid(conn)
        if existing is None and srid is None:
            raise NotInitialised(
                "The gridgis database has no schema yet and no metric CRS was given. Run "
                "`gridgis init --srid EPSG` (or `--like FILE`), or set GRIDGIS_SRID."
            )
        if existing is not None and srid is not None and srid != existing:
            raise ConfigurationError(
                f"The database stores geometry in EPSG:{existing}; it cannot switch to "
                f"EPSG:{srid}. Unset GRIDGIS_SRID or use another database."
            )
        if existing is None:
            check_metric_srid(srid)  # type: ignore[arg-type]
        command.upgrade(_alembic_config(conn, existing or srid), "head")
    place_waiting_incidents(engine)  # next year's partitions, before its first incident
    tend_incident_cells_quietly(engine)
    return existing or srid  # type: ignore[return-value]


def schema_revision(engine: Engine) -> tuple[str | None, str]:
    """(current revision, newest revision)."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config(conn, None)).get_current_head()
    return current, head or ""


def check_metric_srid(srid: int) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_epsg(srid)
    except CRSError as exc:
        raise ConfigurationError(f"EPSG:{srid} is not a known coordinate reference system.") \
            from exc
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise ConfigurationError(
            f"EPSG:{srid} ({crs.name}) is not a projected CRS in metres; gridgis stores "
            "geometry in one, so that areas and distances are exact. Choose a UTM zone or a "
            "CGCS2000 Gauss-Krüger zone (e.g. EPSG:4547)."
        )


def copy_frame(conn: sa.Connection, query: str, params: dict[str, Any],
               dtypes: dict[str, Any]) -> pandas.DataFrame:
    """The rows of ``query`` (SQL with ``:name`` parameters) as a frame with ``dtypes``'
    columns, read with COPY … TO STDOUT as CSV and parsed by pandas: for millions of
    rows, several times as fast as fetching them as Python rows."""
    import io

    import pandas as pd

    compiled = sa.text(query).bindparams(**params).compile(dialect=conn.dialect)
    raw: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(
            f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)", compiled.params) as copy:
        while block := copy.read():
            buffer.write(block)
    buffer.seek(0)
    if not buffer.getbuffer().nbytes:
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in dtypes.items()})
    return pd.read_csv(buffer, names=list(dtypes), dtype=dtypes, keep_default_na=False,
                       na_values=[""])
