"""Start and stop the uvicorn servers the bench drivers measure (``reports/``, ``map/``, ``participation/``).

One uvicorn process (master and workers) in a session of its own, so that one signal stops it and all its
children, also on Ctrl-C or an error; ready once ``/healthz`` answers; its CPU time read from ``/proc``
over the whole process tree, so a run with several workers counts them all. Always 127.0.0.1, uvloop,
httptools, no access log: the settings the figures in docs/benchmarks*.md were measured with.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

HOST = "127.0.0.1"


class UvicornServer:
    """``app`` (``module:attribute``) from ``app_dir``, served on ``port``; its output goes to ``log``."""

    def __init__(
        self,
        name: str,
        app: str,
        *,
        app_dir: Path,
        port: int,
        environment: Mapping[str, str],
        log: Path,
        cwd: Path,
        workers: int = 1,
        graceful_shutdown_seconds: int | None = 3,
    ) -> None:
        self.name, self.port, self.log_path = name, port, log
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--app-dir",
            str(app_dir),
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        if graceful_shutdown_seconds is not None:
            command += ["--timeout-graceful-shutdown", str(graceful_shutdown_seconds)]
        self.log = open(log, "w")  # closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(environment),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: the server exited; see {self.log_path}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: not ready after {timeout} s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """User + system CPU of the uvicorn process and all its workers."""
        return sum(cpu_of(pid) for pid in _process_tree(self.process.pid))

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


def _process_tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
    return found


def cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
