"""The self-provisioned cluster, exercised for real: initdb, start, PostGIS, idempotence, stop.

One test on purpose: initdb costs a second or two, and the steps only make sense in order.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import psycopg
import pytest

from core import local_postgres
from core.local_postgres import (
    create_database,
    drop_database,
    ensure_local_cluster,
    stop_cluster,
)


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def test_provisions_a_private_postgis_cluster_idempotently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base_dir = tmp_path / "postgres"
    # Occupy the "default" port with a foreign listener: the cluster must move aside and remember where
    # it went. This also keeps the test clear of a developer's real cluster on 54329.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken_port = squatter.getsockname()[1]
        monkeypatch.setattr(local_postgres, "DEFAULT_PORT", taken_port)

        try:
            cluster = ensure_local_cluster(base_dir)
            assert cluster.port != taken_port
            assert (base_dir / "port").read_text().strip() == str(cluster.port)
            assert cluster.url("civicloop_probe") == (
                f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/civicloop_probe"
            )
            if os.geteuid() == 0:
                assert cluster.data_dir.stat().st_uid != 0, "the server must not run as root"

            create_database(cluster, "civicloop_probe")
            create_database(cluster, "civicloop_probe")  # exists_ok by default
            with pytest.raises(psycopg.errors.DuplicateDatabase):
                create_database(cluster, "civicloop_probe", exists_ok=False)

            with psycopg.connect(cluster.conninfo("civicloop_probe"), autocommit=True) as connection:
                connection.execute("CREATE EXTENSION postgis")
                version = connection.execute("SELECT postgis_full_version()").fetchone()
                assert version is not None and "POSTGIS=" in version[0]
                distance = connection.execute(
                    "SELECT ST_Distance('SRID=4326;POINT(4.9 52.37)'::geography,"
                    " 'SRID=4326;POINT(4.9 52.38)'::geography)"
                ).fetchone()
                assert distance is not None and 1100 < distance[0] < 1120
                listen = connection.execute("SHOW listen_addresses").fetchone()
                assert listen == ("127.0.0.1",)
                assert connection.execute("SHOW max_connections").fetchone() == ("200",)

            # Second call: same cluster, same process, no initdb, no restart.
            pid = _postmaster_pid(cluster.data_dir)
            again = ensure_local_cluster(base_dir)
            assert again == cluster
            assert _postmaster_pid(cluster.data_dir) == pid

            drop_database(cluster, "civicloop_probe")
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(cluster.conninfo("civicloop_probe"), connect_timeout=2).close()

            stop_cluster(base_dir)
            assert not (cluster.data_dir / "postmaster.pid").exists()
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(cluster.conninfo("postgres"), connect_timeout=2).close()
            stop_cluster(base_dir)  # stopping a stopped cluster is a no-op

            # Restart keeps the remembered port even though the default is still taken.
            restarted = ensure_local_cluster(base_dir)
            assert restarted.port == cluster.port
            with psycopg.connect(restarted.conninfo("postgres")) as connection:
                assert connection.execute("SELECT 1").fetchone() == (1,)
        finally:
            stop_cluster(base_dir)
