"""The embedded default: a private PostgreSQL + PostGIS cluster under ``GRIDGIS_HOME``.

The cluster listens only on a Unix socket inside its own directory (no TCP port, so it
never clashes with another PostgreSQL), uses the system's server binaries, and is created
on first use. Several gridgis processes share one cluster: each registers itself as a
client, and the last client to leave stops a cluster that a client started (a cluster
started by ``gridgis db start`` stays up until ``gridgis db stop``).

PostgreSQL refuses to run as root; when gridgis runs as root the server runs as the
``postgres`` system user (or ``nobody``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg.conninfo import make_conninfo

from .errors import ConfigurationError, DatabaseUnavailable

DATABASE = "gridgis"
SUPERUSER = "gridgis"
PORT = 5432  # names the socket file; TCP only when asked (listen)
# Written at every start: the socket directory is private to the server's user (who
# may also copy the cluster for a replica), and every TCP connection must give a password.
PG_HBA = """# written by gridgis at every start; edits are lost
local all all trust
local replication all trust
host  all all all scram-sha-256
"""
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, leave room
_SERVER_SETTINGS = {
    "listen_addresses": "''",
    "shared_buffers": "256MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}


@dataclass(frozen=True)
class ClusterStatus:
    initialised: bool
    running: bool
    pid: int | None
    data_dir: Path
    socket_dir: Path
    server_version: str | None = None


def find_bindir() -> Path:
    """The newest PostgreSQL server binaries, preferring a version that has PostGIS."""
    override = os.environ.get("GRIDGIS_PG_BINDIR")
    if override:
        return Path(override)
    candidates = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "postgres").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    with_postgis = [p for p in candidates if _postgis_control(p.parent.name).exists()]
    if with_postgis:
        return with_postgis[0]
    if candidates:
        return candidates[0]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise ConfigurationError(
        "No PostgreSQL server binaries were found (looked in /usr/lib/postgresql/*/bin and "
        "on PATH). Install them, for example `apt-get install postgresql-15 "
        "postgresql-15-postgis-3`, or set GRIDGIS_DATABASE_URL to use an existing server."
    )


def _postgis_control(major: str) -> Path:
    return Path(f"/usr/share/postgresql/{major}/extension/postgis.control")


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user the server runs as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("GRIDGIS_PG_USER"), "postgres", "nobody"):
        if not name:
            continue
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ConfigurationError(
        "gridgis is running as root and PostgreSQL refuses to: no unprivileged user "
        "('postgres' or 'nobody') exists to run the server as. Create one, or set "
        "GRIDGIS_PG_USER to an existing unprivileged user."
    )


class EmbeddedCluster:
    """A private PostgreSQL cluster in ``home``; see the module docstring."""

    def __init__(self, home: Path, bindir: Path | None = None, *, port: int = PORT,
                 listen: str | None = None) -> None:
        self.home = Path(home).absolute()
        self.port = port
        self.listen = listen
        self.data_dir = self.home / "pgdata"
        self.log_file = self.home / "log" / "postgresql.log"
        self._lock_path = self.home / "cluster.lock"
        self._clients_dir = self.home / "clients"
        self._autostop_marker = self.home / "autostop"
        self._bindir = bindir
        self._user = _server_user()

    # -- locations -------------------------------------------------------------------

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_bindir()
        return self._bindir

    @property
    def socket_dir(self) -> Path:
        preferred = self.home / "run"
        if len(str(preferred / f".s.PGSQL.{self.port}")) <= _MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
        return Path("/tmp") / f"gridgis-{digest}"

    def url(self, database: str = DATABASE, user: str = SUPERUSER) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of a database in this cluster."""
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql+psycopg://{user}@/{database}?host={host}&port={self.port}"

    def conninfo(self, database: str = DATABASE, user: str = SUPERUSER) -> str:
        """libpq key=value connection string (psql, GDAL's ``PG:``, QGIS)."""
        return make_conninfo(host=str(self.socket_dir), port=str(self.port), user=user,
                             dbname=database)

    def libpq_uri(self, database: str = DATABASE, user: str = SUPERUSER) -> str:
        """libpq connection URI (psql, GDAL's ``PG:``) over the socket."""
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql://{user}@/{database}?host={host}&port={self.port}"

    def tcp_uri(self, user: str, password: str, database: str = DATABASE) -> str | None:
        """A libpq URI over TCP (for desktop GIS as another OS user), if the cluster
        listens on TCP."""
        if not self.listen:
            return None
        host = self.listen.split(",")[0].strip()
        host = "localhost" if host in ("*", "0.0.0.0", "::") else host
        return (f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:"
                f"{self.port}/{database}")

    # -- lifecycle -------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        initialised = (self.data_dir / "PG_VERSION").exists()
        pid = self._running_pid() if initialised else None
        version = (self.data_dir / "PG_VERSION").read_text().strip() if initialised else None
        return ClusterStatus(initialised, pid is not None, pid, self.data_dir, self.socket_dir,
                             version)

    def start(self, *, autostop: bool = False) -> bool:
        """Create (on first use) and start the cluster. Returns True if this call started it."""
        with self._exclusive():
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            started = False
            if self._running_pid() is None:
                self._pg_ctl_start()
                started = True
                if autostop:
                    self._autostop_marker.touch()
                else:
                    self._autostop_marker.unlink(missing_ok=True)
            elif not autostop:
                self._autostop_marker.unlink(missing_ok=True)
            self._ensure_database()
            return started

    def stop(self) -> bool:
        """Stop the cluster if it runs. Returns True if it was running."""
        with self._exclusive():
            self._autostop_marker.unlink(missing_ok=True)
            if self._running_pid() is None:
                return False
            self._run([self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w",
                       "-t", "60", "stop"], what="stop the embedded PostgreSQL")
            return True

    @contextmanager
    def session(self) -> Iterator[EmbeddedCluster]:
        """Use the cluster for the life of a process: start it if needed, register as a
        client, and on exit stop it if this was the last client of an auto-started cluster."""
        self.start(autostop=True)
        self._clients_dir.mkdir(exist_ok=True)
        me = self._clients_dir / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        me.touch()
        try:
            yield self
        finally:
            me.unlink(missing_ok=True)
            if not self._live_clients() and self._autostop_marker.exists():
                self.stop()

    def make_replica(self, home: Path, *, port: int = PORT) -> EmbeddedCluster:
        """A streaming standby of this (running) cluster in ``home``, copied with
        ``pg_basebackup`` and started: it replays every change this cluster commits and
        answers reads (hot standby). Stop and start it as any embedded cluster."""
        replica = EmbeddedCluster(home, self._bindir, port=port)
        with replica._exclusive():
            if (replica.data_dir / "PG_VERSION").exists():
                raise ConfigurationError(f"{replica.data_dir} already holds a cluster: "
                                         "choose an empty directory for the replica")
            replica.data_dir.mkdir(mode=0o700, exist_ok=True)
            replica._own(replica.data_dir)
            # -R writes standby.signal and primary_conninfo (this cluster's socket)
            replica._run([replica._bin("pg_basebackup"), "-D", str(replica.data_dir),
                          "-d", self.conninfo("postgres"), "-R", "-X", "stream",
                          "-c", "fast", "--no-password"],
                         what=f"copy {self.data_dir} for a replica (pg_basebackup)")
            # the primary keeps the rows the replica's queries still read: replay need
            # not wait for (or cancel) those queries
            with (replica.data_dir / "postgresql.auto.conf").open("a") as conf:
                conf.write("hot_standby_feedback = on\n")
        replica.start()
        return replica

    # -- internals -------------------------------------------------------------------

    def _bin(self, name: str) -> str:
        path = self.bindir / name
        if not path.exists():
            raise ConfigurationError(
                f"{path} does not exist: the PostgreSQL server binaries are incomplete. "
                "Install the server package (for example `apt-get install postgresql-15`), "
                "or set GRIDGIS_PG_BINDIR to the directory holding initdb and pg_ctl."
            )
        return str(path)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """An OS file lock, released by the kernel even when a process is killed, so a
        lock can never go stale."""
        self._prepare_home()
        with open(self._lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _prepare_home(self) -> None:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / "log").mkdir(exist_ok=True)
            probe = self.home / ".write-test"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            raise ConfigurationError(
                f"The gridgis data directory {self.home} cannot be written ({exc.strerror}). "
                "Set GRIDGIS_HOME to a directory you can write to, or set "
                "GRIDGIS_DATABASE_URL to use an existing PostgreSQL server."
            ) from exc
        if self._user is not None:
            os.chmod(self.home, 0o755)
            self._check_reachable_by_server_user()
            os.chown(self.home / "log", self._user.pw_uid, self._user.pw_gid)

    def _check_reachable_by_server_user(self) -> None:
        assert self._user is not None
        result = subprocess.run(["test", "-x", str(self.home)], **self._as_server_user())
        if result.returncode != 0:
            raise ConfigurationError(
                f"gridgis runs as root, so PostgreSQL runs as the unprivileged user "
                f"'{self._user.pw_name}', who cannot reach {self.home} (a parent directory "
                "is not searchable by other users). Set GRIDGIS_HOME to a directory under a "
                "world-searchable path such as /var/lib/gridgis or /srv/gridgis."
            )

    def _as_server_user(self) -> dict:
        if self._user is None:
            return {}
        env = {**os.environ, "HOME": self._user.pw_dir, "USER": self._user.pw_name}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": [],
                "env": env, "cwd": "/"}

    def _own(self, path: Path) -> None:
        if self._user is not None:
            os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _run(self, cmd: list[str], *, what: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(cmd, capture_output=True, text=True, start_new_session=True,
                                **self._as_server_user())
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            log_tail = self._log_tail()
            raise ConfigurationError(
                f"Could not {what} (data directory {self.data_dir}): {detail}"
                + (f"\nLast server log lines:\n{log_tail}" if log_tail else "")
            )
        return result

    def _log_tail(self, lines: int = 8) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _initdb(self) -> None:
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ConfigurationError(
                f"{self.data_dir} exists but is not a PostgreSQL data directory. Move it "
                "away or set GRIDGIS_HOME to another directory."
            )
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self._own(self.data_dir)
        self._run([self._bin("initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                   "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"],
                  what="create the embedded PostgreSQL cluster (initdb)")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write("\n# gridgis embedded cluster\n")
            for key, value in _SERVER_SETTINGS.items():
                handle.write(f"{key} = {value}\n")

    def _pg_ctl_start(self) -> None:
        socket_dir = self.socket_dir
        socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._own(socket_dir)
        if self._user is not None and self.log_file.exists():
            self._own(self.log_file)
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(PG_HBA)
        self._own(hba)
        options = (f"-c unix_socket_directories='{socket_dir}' -c port={self.port} "
                   f"-c listen_addresses='{self.listen or ''}'")
        self._run([self._bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                   "-w", "-t", "60", "-o", options, "start"],
                  what="start the embedded PostgreSQL")

    def _running_pid(self) -> int | None:
        """The postmaster's PID if the server is up; a stale postmaster.pid left by a
        killed server reads as not running (PostgreSQL itself replaces it on start)."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        if not _process_alive(pid):
            return None
        result = subprocess.run([self._bin("pg_ctl"), "-D", str(self.data_dir), "status"],
                                capture_output=True, text=True, **self._as_server_user())
        return pid if result.returncode == 0 else None

    def _ensure_database(self) -> None:
        try:
            with psycopg.connect(self.conninfo("postgres"), autocommit=True,
                                 connect_timeout=10) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                      (DATABASE,)).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{DATABASE}"')
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"The embedded PostgreSQL started but does not accept connections on "
                f"{self.socket_dir}: {exc}. See {self.log_file}."
            ) from exc

    def _live_clients(self) -> list[int]:
        live = []
        for entry in self._clients_dir.glob("*"):
            match = re.fullmatch(r"(\d+)-\w+", entry.name)
            if match and _process_alive(int(match.group(1))):
                live.append(int(match.group(1)))
            else:
                entry.unlink(missing_ok=True)  # left by a killed process
        return live


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
