"""The VAPID key file when several processes start at once on a fresh machine (``civicloop serve`` and
workers): every one of them starts, and they all sign with the same key.

Found by ``test_worker_processes``: of two workers started together, one died on start with
``FileExistsError`` (the other had created the file between its check and its create), and the test's
"a killed worker loses nothing" then had no worker left.
"""

from __future__ import annotations

import multiprocessing
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path

from notifications.channels.webpush import application_server_key, load_or_create_vapid

PROCESSES = 8


def _start(path: str, barrier: Barrier) -> str:
    barrier.wait()  # all at once, as processes started together do
    return application_server_key(load_or_create_vapid(Path(path)))


def test_processes_starting_together_all_start_and_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "vapid.pem"
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        barrier = manager.Barrier(PROCESSES)
        with context.Pool(PROCESSES) as pool:
            keys = pool.starmap(_start, [(str(path), barrier)] * PROCESSES, chunksize=1)
    assert len(set(keys)) == 1, "one key for every process"
    assert keys[0] == application_server_key(load_or_create_vapid(path)), "the key on disk"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "private"
    assert sorted(p.name for p in path.parent.iterdir()) == ["vapid.pem"], "no temporary file left"
