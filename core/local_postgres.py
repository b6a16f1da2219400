"""A self-provisioned PostgreSQL + PostGIS cluster living inside the project folder.

When no ``DATABASE_URL`` is configured, ``civicloop serve`` and the test suite need a real PostGIS (the
geometry rules are not emulable in SQLite), without asking a newcomer to administer a system-wide server. This
module installs the Debian packages when it may, then keeps one private cluster under ``base_dir``:

- it only ever listens on 127.0.0.1 (and on a Unix socket in a private directory), never on other addresses;
- authentication is ``trust``, which is acceptable only *because* of that: a development cluster reachable
  solely from this machine, holding throw-away data;
- the port defaults to 54329 so it never collides with a system cluster on 5432; if something that is not
  our cluster holds it, a free port is chosen and remembered in ``base_dir/port``.

PostgreSQL refuses to run as root, so when we are root every server-side binary runs as the ``postgres``
system user (the data, socket and log paths are chowned to it). The cluster superuser is always called
``postgres`` (``initdb -U postgres``), whoever runs it, so URLs are the same on every machine.

Connections go over TCP to 127.0.0.1 rather than through the socket: a socket path is limited to 107 bytes
(deep project folders and pytest's temp dirs exceed it), while the TCP form works identically for root,
for ordinary users and from inside containers.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

PREFERRED_MAJOR = 15
DEFAULT_PORT = 54329
SUPERUSER = "postgres"
HOST = "127.0.0.1"
SERVICE_USER = "postgres"

_POSTGRES_LIB = Path("/usr/lib/postgresql")
_SETTINGS_FILE = "civicloop.conf"
_PORT_FILE = "port"
_LOCK_FILE = ".lock"
_LOG_FILE = "postgres.log"
# sun_path is 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107
_START_TIMEOUT_SECONDS = 60


class LocalPostgresError(RuntimeError):
    """The local cluster could not be provisioned; an operator problem, never an HTTP response."""


@dataclass(frozen=True, slots=True)
class LocalCluster:
    """Where a running local cluster lives and how to reach it."""

    base_dir: Path
    data_dir: Path
    socket_dir: Path
    port: int
    bin_dir: Path
    user: str = SUPERUSER
    host: str = HOST

    def url(self, dbname: str) -> str:
        """A SQLAlchemy URL (psycopg 3 driver) over TCP to 127.0.0.1, for the reasons in the module doc."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str) -> str:
        """The same target as a libpq connection string, for plain psycopg."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    @property
    def log_file(self) -> Path:
        return self.base_dir / _LOG_FILE


# ----------------------------------------------------------------------------------------------------
# Installation


def _installed_majors() -> list[int]:
    if not _POSTGRES_LIB.is_dir():
        return []
    majors = []
    for entry in _POSTGRES_LIB.iterdir():
        if entry.name.isdigit() and (entry / "bin" / "postgres").is_file():
            majors.append(int(entry.name))
    return sorted(majors)


def _choose_major(majors: Sequence[int]) -> int | None:
    if not majors:
        return None
    return PREFERRED_MAJOR if PREFERRED_MAJOR in majors else max(majors)


def find_server_bin_dir() -> Path | None:
    """The server binaries of the preferred installed major (15 when present, else the newest)."""
    major = _choose_major(_installed_majors())
    return None if major is None else _POSTGRES_LIB / str(major) / "bin"


def _share_dir(bin_dir: Path) -> Path:
    # Debian ships a per-major pg_config next to the server; asking it beats guessing the layout.
    pg_config = bin_dir / "pg_config"
    if pg_config.is_file():
        result = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            return Path(result.stdout.strip())
    return Path("/usr/share/postgresql") / bin_dir.parent.name


def _apt_install(packages: Sequence[str]) -> None:
    command = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y " + " ".join(packages)
    if os.geteuid() != 0:
        raise LocalPostgresError(
            f"PostgreSQL/PostGIS packages are missing ({', '.join(packages)}). "
            f"Install them as root:\n    sudo sh -c '{command}'\n"
            "or set DATABASE_URL to an existing PostGIS database."
        )
    if shutil.which("apt-get") is None:
        raise LocalPostgresError(
            f"Cannot install {', '.join(packages)}: apt-get not found. Install PostgreSQL "
            f"{PREFERRED_MAJOR} with PostGIS 3 by other means, or set DATABASE_URL."
        )
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    logger.warning("Installing %s with apt-get (one-time setup)", ", ".join(packages))
    subprocess.run(["apt-get", "update"], check=True, env=environment)
    subprocess.run(["apt-get", "install", "-y", *packages], check=True, env=environment)


_INSTALL_LOCK = Path("/tmp/civicloop-apt-install.lock")


def ensure_postgis_installed() -> None:
    """Make sure a PostgreSQL server and the matching PostGIS extension are installed.

    Only installs what is missing; a no-op (no subprocess beyond ``pg_config``) on a prepared machine.
    Serialised by a file lock: the test workers of ``pytest -n auto`` all ask at once on a fresh machine,
    and a second ``apt-get`` would fail on dpkg's lock instead of waiting for the first.
    """
    try:
        lock = _INSTALL_LOCK.open("a")
    except OSError:  # another user's lock file: apt-get would need root anyway, so go on unlocked
        _ensure_postgis_installed_unlocked()
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _ensure_postgis_installed_unlocked()


def _ensure_postgis_installed_unlocked() -> None:
    bin_dir = find_server_bin_dir()
    if bin_dir is None:
        _apt_install([f"postgresql-{PREFERRED_MAJOR}", f"postgresql-{PREFERRED_MAJOR}-postgis-3"])
        bin_dir = find_server_bin_dir()
        if bin_dir is None:
            raise LocalPostgresError(
                "apt-get finished but no PostgreSQL server was found in /usr/lib/postgresql"
            )
    major = bin_dir.parent.name
    control = _share_dir(bin_dir) / "extension" / "postgis.control"
    if not control.is_file():
        _apt_install([f"postgresql-{major}-postgis-3"])
        if not control.is_file():
            raise LocalPostgresError(f"apt-get finished but {control} is still missing")


# ----------------------------------------------------------------------------------------------------
# Running binaries as the right user


@dataclass(frozen=True, slots=True)
class _Runner:
    """Runs server binaries directly, or as the postgres system user when we are root."""

    bin_dir: Path
    account: pwd.struct_passwd | None

    def run(
        self, program: str, arguments: Sequence[str], *, cwd: Path, check: bool = True, detach: bool = False
    ) -> subprocess.CompletedProcess[str]:
        # subprocess's user/group switch (setresuid/setgroups before exec) is what runuser/setpriv do,
        # without depending on util-linux or PAM being configured inside a container.
        drop: dict[str, Any] = {}
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        environment["LC_ALL"] = "C.UTF-8"
        if self.account is not None:
            drop = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
            environment.update(
                HOME=self.account.pw_dir, USER=self.account.pw_name, LOGNAME=self.account.pw_name
            )
        result = subprocess.run(
            [str(self.bin_dir / program), *arguments],
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            # Detached so that Ctrl-C on pytest or `serve` does not also kill the postmaster mid-write.
            start_new_session=detach,
            **drop,
        )
        if check and result.returncode != 0:
            raise LocalPostgresError(
                f"{program} {' '.join(arguments)} failed with exit code {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def give(self, path: Path) -> None:
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)


def _service_account() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    # The Debian package creates this user; we only get here on an unusual install.
    logger.warning("Creating the %r system user to run the local PostgreSQL cluster", SERVICE_USER)
    subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--home-dir",
            "/var/lib/postgresql",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            SERVICE_USER,
        ],
        check=True,
    )
    return pwd.getpwnam(SERVICE_USER)


def _can_traverse(directory: Path, account: pwd.struct_passwd) -> bool:
    info = directory.stat()
    if info.st_uid == account.pw_uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == account.pw_gid or info.st_gid in os.getgrouplist(account.pw_name, account.pw_gid):
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def _grant_traversal(target: Path, account: pwd.struct_passwd) -> None:
    """Let the service user reach ``target`` by adding search-only (o+x) permission where it is missing.

    Search without read lets it open a known path but not list the directory, the least we can grant;
    ``/tmp/pytest-of-root`` (mode 0700) is the usual case.
    """
    for directory in [*reversed(target.parents), target]:
        if not _can_traverse(directory, account):
            mode = stat.S_IMODE(directory.stat().st_mode)
            logger.warning(
                "Granting search permission (o+x) on %s for the %s user", directory, account.pw_name
            )
            os.chmod(directory, mode | stat.S_IXOTH)


# ----------------------------------------------------------------------------------------------------
# Cluster


@contextlib.contextmanager
def _locked(base_dir: Path) -> Iterator[None]:
    """Serialize provisioning between processes (pytest-xdist workers, a server and a test run)."""
    with open(base_dir / _LOCK_FILE, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _socket_dir(base_dir: Path, port: int) -> Path:
    candidate = base_dir / "socket"
    if len(str(candidate / f".s.PGSQL.{port}")) <= _MAX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha256(str(base_dir).encode()).hexdigest()[:12]
    return Path("/tmp") / f"civicloop-pg-{digest}"


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR as the postmaster uses it, so a port in TIME_WAIT does not count as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _remembered_port(base_dir: Path) -> int | None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        return int((base_dir / _PORT_FILE).read_text().strip())
    return None


def _running_port(data_dir: Path) -> int | None:
    """The port recorded by a live postmaster (line 4 of postmaster.pid), or None when it is not running."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # stale file after a crash; the postmaster removes it on the next start
    except PermissionError:
        pass  # alive, owned by another user
    return port


def _settings(port: int, socket_dir: Path) -> Mapping[str, str]:
    # Tuned for a 2-core / 24 GB development box shared with the app server and the test runner.
    return {
        "listen_addresses": f"'{HOST}'",
        "port": str(port),
        "unix_socket_directories": f"'{socket_dir}'",
        "max_connections": "200",
        "shared_buffers": "'512MB'",
        "effective_cache_size": "'4GB'",
        "work_mem": "'16MB'",
        "maintenance_work_mem": "'256MB'",
        "max_wal_size": "'2GB'",
        "max_worker_processes": "4",
        "max_parallel_workers_per_gather": "1",
        "random_page_cost": "1.1",
        "timezone": "'UTC'",
        "log_timezone": "'UTC'",
        "log_line_prefix": "'%m [%p] %q%u@%d '",
        "log_min_duration_statement": "'500ms'",
    }


_HBA = """\
# Written by civicloop.core.local_postgres: a private development cluster reachable only from this machine.
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
"""


def _initdb(runner: _Runner, data_dir: Path) -> None:
    logger.info("Initialising a PostgreSQL cluster in %s", data_dir)
    runner.run(
        "initdb",
        [
            "--pgdata",
            str(data_dir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
        ],
        cwd=data_dir.parent,
    )
    (data_dir / "pg_hba.conf").write_text(_HBA)
    with open(data_dir / "postgresql.conf", "a") as conf:
        conf.write(f"\ninclude_if_exists = '{_SETTINGS_FILE}'\n")


def _write_settings(runner: _Runner, data_dir: Path, settings: Mapping[str, str]) -> bool:
    """Write our settings file; True when it changed, so a running server needs a restart."""
    path = data_dir / _SETTINGS_FILE
    content = "# Managed by civicloop.core.local_postgres; rewritten on every start.\n" + "".join(
        f"{key} = {value}\n" for key, value in settings.items()
    )
    with contextlib.suppress(FileNotFoundError):
        if path.read_text() == content:
            return False
    path.write_text(content)
    runner.give(path)
    return True


def _wait_until_accepting(cluster: LocalCluster) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while True:
        try:
            with psycopg.connect(cluster.conninfo("postgres"), connect_timeout=2) as connection:
                connection.execute("SELECT 1")
            return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise LocalPostgresError(
                    f"PostgreSQL in {cluster.data_dir} does not accept connections; see {cluster.log_file}"
                ) from error
            time.sleep(0.1)


def _choose_port(base_dir: Path, requested: int | None) -> int:
    if requested is not None:
        if not _port_is_free(requested):
            raise LocalPostgresError(f"Port {requested} on {HOST} is already in use by another program")
        return requested
    for candidate in (_remembered_port(base_dir), DEFAULT_PORT):
        if candidate is not None and _port_is_free(candidate):
            chosen = candidate
            break
    else:
        chosen = _free_port()
        logger.warning("Port %s is taken by another program; the local cluster uses %s", DEFAULT_PORT, chosen)
    (base_dir / _PORT_FILE).write_text(f"{chosen}\n")
    return chosen


def ensure_local_cluster(base_dir: Path, *, port: int | None = None) -> LocalCluster:
    """Return a running local cluster under ``base_dir``, creating and starting it only when needed.

    Idempotent and cheap when the cluster already runs (no initdb, no restart), so both ``serve`` and every
    test session may call it. ``port`` pins a port; without it the remembered or default port is used.
    """
    ensure_postgis_installed()
    bin_dir = find_server_bin_dir()
    if bin_dir is None:  # pragma: no cover - ensure_postgis_installed raises first
        raise LocalPostgresError("No PostgreSQL server installed")
    base_dir = base_dir.resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    account = _service_account()
    runner = _Runner(bin_dir=bin_dir, account=account)
    data_dir = base_dir / "pgdata"

    with _locked(base_dir):
        if account is not None:
            _grant_traversal(base_dir, account)

        running_port = _running_port(data_dir)
        if running_port is not None and port in (None, running_port):
            chosen_port = running_port
        else:
            chosen_port = _choose_port(base_dir, port)
        socket_dir = _socket_dir(base_dir, chosen_port)
        cluster = LocalCluster(
            base_dir=base_dir, data_dir=data_dir, socket_dir=socket_dir, port=chosen_port, bin_dir=bin_dir
        )

        for directory in (data_dir, socket_dir):
            directory.mkdir(mode=0o700, exist_ok=True)
            runner.give(directory)
        cluster.log_file.touch(mode=0o640, exist_ok=True)
        runner.give(cluster.log_file)

        if not (data_dir / "PG_VERSION").is_file():
            if any(data_dir.iterdir()):
                raise LocalPostgresError(f"{data_dir} exists, is not empty and is not a PostgreSQL cluster")
            _initdb(runner, data_dir)

        changed = _write_settings(runner, data_dir, _settings(chosen_port, socket_dir))
        pg_ctl_base = ["--pgdata", str(data_dir), "--log", str(cluster.log_file), "--wait"]
        timeout = ["--timeout", str(_START_TIMEOUT_SECONDS)]
        if running_port is None:
            runner.run("pg_ctl", ["start", *pg_ctl_base, *timeout], cwd=base_dir, detach=True)
        elif changed:
            logger.info("Settings of %s changed; restarting it", data_dir)
            runner.run(
                "pg_ctl", ["restart", "--mode", "fast", *pg_ctl_base, *timeout], cwd=base_dir, detach=True
            )
        _wait_until_accepting(cluster)
        return cluster


def stop_cluster(base_dir: Path) -> None:
    """Stop the cluster under ``base_dir`` (fast shutdown); a no-op when it does not run or does not exist."""
    base_dir = base_dir.resolve()
    data_dir = base_dir / "pgdata"
    bin_dir = find_server_bin_dir()
    if bin_dir is None or not (data_dir / "PG_VERSION").is_file():
        return
    runner = _Runner(bin_dir=bin_dir, account=_service_account())
    with _locked(base_dir):
        if _running_port(data_dir) is None:
            return
        runner.run("pg_ctl", ["stop", "--pgdata", str(data_dir), "--mode", "fast", "--wait"], cwd=base_dir)


def restart_cluster(base_dir: Path) -> None:
    """Restart the running cluster under ``base_dir`` with a fast shutdown (every session is ended), and
    wait until it accepts connections again: what a database restart is, for the fault drills."""
    base_dir = base_dir.resolve()
    data_dir = base_dir / "pgdata"
    bin_dir = find_server_bin_dir()
    if bin_dir is None or not (data_dir / "PG_VERSION").is_file():
        raise LocalPostgresError(f"no local cluster in {base_dir}")
    runner = _Runner(bin_dir=bin_dir, account=_service_account())
    log = base_dir / _LOG_FILE
    with _locked(base_dir):
        runner.run(
            "pg_ctl",
            ["restart", "--pgdata", str(data_dir), "--mode", "fast", "--log", str(log), "--wait"],
            cwd=base_dir,
            detach=True,
        )


# ----------------------------------------------------------------------------------------------------
# Databases


def create_database(cluster: LocalCluster, name: str, *, exists_ok: bool = True) -> None:
    """Create database ``name``; CREATE DATABASE cannot run in a transaction, hence autocommit."""
    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as connection:
        try:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            if not exists_ok:
                raise


def drop_database(cluster: LocalCluster, name: str) -> None:
    """Drop database ``name`` if present, disconnecting leftover sessions (a crashed test's pool) first."""
    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
