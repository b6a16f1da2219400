"""Schemathesis over the whole OpenAPI of a live ``civicloop serve``, as five callers: anonymous, a resident,
field staff and an administrator (each with their own token), and an Open311 client with an api_key (its
operations only; ``open311_hooks.py`` puts the key, and often a real category and place, in the generated
service requests, so the create itself is fuzzed, not only its 403). The checks: ``not_a_server_error`` (no
input, valid or not, may get a 5xx: issue 12's quality bar), ``response_schema_conformance`` (every
answer matches the schema its operation documents for that status: issue 13, item 4) and
``status_code_conformance`` (every status answered, errors included, is one its operation documents:
``api.openapi_errors``).

    .venv/bin/python bench/schemathesis/run.py [--max-examples 20] [--phases examples,coverage,fuzzing]
        [--checks not_a_server_error,response_schema_conformance,status_code_conformance]
        [--callers anonymous,...] [--include-path-regex '^/open311/']

What runs: a throw-away database ``civicloop_bench_schemathesis`` on the local cluster with the demo
loaded (its accounts sign in for the tokens), one ``civicloop serve`` (no worker, rate limits off so
fuzzing is not answered 429), and ``st run`` once per caller with ``{jurisdiction}`` fixed to the demo's
``amsterdam`` (other path parameters are generated). For the callers with a token, the operations that
end the token (sign-out, password change, account deletion) are left out, or the rest of the run would
only see 401s; the anonymous run covers them. Prints a table and writes the figures as JSON next to
the other benchmark results (``.civicloop/bench/``); exits 1 if any caller found a 5xx, an answer
that does not match its schema or a status its operation does not document.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from core.local_postgres import create_database, drop_database, ensure_local_cluster  # noqa: E402
from core.settings import PROJECT_DIR  # noqa: E402

DATABASE = "civicloop_bench_schemathesis"
DEMO_PASSWORD = "civicloop-demo"
# The Open311 client runs before the signed-in callers: the administrator's run changes the demo's
# categories and settings (with generated values), which would turn its service requests into 404s.
CALLERS = {
    "anonymous": None,
    "open311": None,
    "resident": "bewoner@demo.example.org",
    "field_staff": "wegen@demo.example.org",
    "admin": "admin@demo.example.org",
}
HERE = Path(__file__).resolve().parent
# Operations that end the caller's own token: run them anonymously only.
TOKEN_ENDING = [
    ("DELETE", "/api/v1/auth/tokens/current"),
    ("DELETE", "/api/v1/auth/tokens"),
    ("PUT", "/api/v1/auth/password"),
    ("DELETE", "/api/v1/me"),
    ("POST", "/api/v1/auth/password-resets/confirmations"),
]
CHECKS = ["not_a_server_error", "response_schema_conformance", "status_code_conformance"]
CONFIG = """
[parameters]
"path.jurisdiction" = "amsterdam"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(url: str, scratch: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CIVICLOOP_") and k != "DATABASE_URL"}
    return {
        **base,
        "DATABASE_URL": url,
        "CIVICLOOP_RUN_WORKER": "false",
        "CIVICLOOP_RATE_LIMITS": "false",
        "CIVICLOOP_MEDIA_DIR": str(scratch / "media"),
        "CIVICLOOP_VAPID_PRIVATE_KEY_FILE": str(scratch / "vapid.pem"),
    }


def open311_client(env: dict[str, str], base: str) -> dict[str, str]:
    """The environment of the ``open311`` caller's run: a fresh api_key of the demo municipality, its
    service codes, and the hooks that put them into generated service requests."""
    issued = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "apikey",
            "create",
            "--jurisdiction",
            "amsterdam",
            "--name",
            "fuzzer",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    services = httpx.get(
        f"{base}/open311/v2/services.json", params={"jurisdiction_id": "amsterdam"}, timeout=30
    )
    services.raise_for_status()
    return {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "open311_hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        "CIVICLOOP_FUZZ_API_KEY": issued.stdout.strip(),
        "CIVICLOOP_FUZZ_SERVICE_CODES": ",".join(service["service_code"] for service in services.json()),
    }


def demo_admin_email() -> str:
    from api.demo import MARKER_EMAIL

    return MARKER_EMAIL


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-examples", type=int, default=20, help="test cases per operation and phase")
    parser.add_argument(
        "--open311-examples",
        type=int,
        default=300,
        help="test cases per operation for the open311 caller (7 operations; hooks apply in fuzzing only)",
    )
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    # One worker: with several threads, CPython 3.11 sometimes fails compiling in schemathesis itself
    # ("AST constructor recursion depth mismatch"), a runtime error of the tool, not an answer of ours.
    parser.add_argument("--workers", default="1")
    parser.add_argument("--callers", default=",".join(CALLERS))
    parser.add_argument("--checks", default=",".join(CHECKS))
    parser.add_argument("--include-path-regex", default=None, help="only the operations of these paths")
    arguments = parser.parse_args()

    cluster = ensure_local_cluster(PROJECT_DIR / ".civicloop")
    url = cluster.url(DATABASE)
    scratch = Path(tempfile.mkdtemp(prefix="civicloop-schemathesis-"))
    env = environment(url, scratch)
    drop_database(cluster, DATABASE)
    create_database(cluster, DATABASE)
    for command in (["migrate"], ["demo", "load"]):
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", *command], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (scratch / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    results: dict[str, dict[str, object]] = {}
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        config = scratch / "schemathesis.toml"
        config.write_text(CONFIG)
        for caller in arguments.callers.split(","):
            email = CALLERS[caller]
            if caller == "admin":
                email = demo_admin_email()
            command = [
                str(Path(sys.executable).with_name("st")),
                "--config-file",
                str(config),
                "run",
                f"{base}/openapi.json",
                "--checks",
                arguments.checks,
                "--phases",
                arguments.phases,
                "--max-examples",
                str(arguments.open311_examples if caller == "open311" else arguments.max_examples),
                "--workers",
                arguments.workers,
                "--continue-on-failure",
                "--suppress-health-check",
                "all",
                "--seed",
                "2026",
            ]
            run_env = None
            if caller == "open311":
                command += ["--include-path-regex", arguments.include_path_regex or "^/open311/"]
                run_env = open311_client(env, base)
            elif arguments.include_path_regex:
                command += ["--include-path-regex", arguments.include_path_regex]
            if email is not None:
                answer = httpx.post(
                    f"{base}/api/v1/auth/tokens",
                    json={"jurisdiction": "amsterdam", "email": email, "password": DEMO_PASSWORD},
                    timeout=30,
                )
                answer.raise_for_status()
                command += ["-H", f"Authorization: Bearer {answer.json()['token']}"]
                pattern = "|".join(f"^{re.escape(path)}$" for _, path in TOKEN_ENDING)
                command += ["--exclude-path-regex", pattern]
            started = time.monotonic()
            done = subprocess.run(command, cwd=scratch, env=run_env, capture_output=True, text=True)
            seconds = time.monotonic() - started
            output = done.stdout + done.stderr
            (scratch / f"schemathesis-{caller}.txt").write_text(output)
            results[caller] = {
                "exit_code": done.returncode,
                "seconds": round(seconds, 1),
                "server_errors": len(re.findall(r"Server error", output)),
                "schema_violations": len(re.findall(r"Response violates schema", output)),
                "undocumented_statuses": len(re.findall(r"Undocumented HTTP status code", output)),
                "tool_errors": len(re.findall(r"Runtime Error", output)),
                "summary": [
                    line.strip()
                    for line in output.splitlines()
                    if re.search(r"\d+ (passed|failed|errored|skipped)|test cases|operations", line)
                ][-4:],
            }
            print(
                f"{caller:12} exit {done.returncode}  {seconds:6.1f} s  {results[caller]['summary']}",
                flush=True,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        server_log = (scratch / "server.log").read_text()
        drop_database(cluster, DATABASE)
    tracebacks = server_log.count("Traceback")
    out = PROJECT_DIR / ".civicloop" / "bench" / f"schemathesis-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"results": results, "server_tracebacks": tracebacks, "logs": str(scratch)}, indent=2)
    )
    print(f"server tracebacks: {tracebacks}; outputs in {scratch}; figures in {out}")
    failed = any(
        r["server_errors"] or r["schema_violations"] or r["undocumented_statuses"] for r in results.values()
    )
    return 0 if not failed and tracebacks == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
