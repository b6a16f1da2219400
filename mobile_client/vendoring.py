"""Third-party browser code, vendored from the npm registry without node: ``make vendor``.

The app has no build step (a fresh Debian 12 gets node 18 from apt, too old for today's bundlers), so
the few libraries it uses are copied as files from the packages' tarballs. ``vendor/lock.json`` names
each package, its version, the tarball's sha512 integrity as the registry reports it, and for every
copied file where it goes and its own sha512. ``make vendor`` downloads the tarballs, checks their
integrity, copies the files and rewrites the lock; ``tests/mobile_client/test_vendor.py`` checks that
the files on disk are the ones the lock names, so a hand edit of a vendored file fails the suite.

The served scripts and style sheets also get a Brotli copy next to them (``<file>.br``, quality 11,
its sha512 in the lock too): the API sends it to browsers that accept ``br``. Compressing MapLibre at
quality 11 takes seconds, too slow for every server start, and the copy is ~20 % smaller than gzip at
level 9 (docs/benchmarks-mobile.md). ``--compress`` only redoes those copies from the files on disk.

Run as ``python -m mobile_client.vendoring [--check | --compress]``. The registry is reached with
``urllib`` and the tarball read with ``tarfile``; making the Brotli copies needs the ``brotli`` package
(a test dependency), checking them does not.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict

ROOT = Path(__file__).resolve().parent.parent
LOCK = Path(__file__).resolve().parent / "vendor" / "lock.json"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Wanted:
    """A package to vendor: which files of its tarball go where (paths relative to the project)."""

    name: str
    version: str
    files: dict[str, str]


WANTED = (
    Wanted(
        "maplibre-gl",
        "6.20.0",
        {
            "dist/maplibre-gl.mjs": "mobile_client/vendor/maplibre-gl/maplibre-gl.mjs",
            # maplibre-gl 6 loads its worker from next to the module ("Worker failed to load" otherwise).
            "dist/maplibre-gl-worker.mjs": "mobile_client/vendor/maplibre-gl/maplibre-gl-worker.mjs",
            "dist/maplibre-gl.css": "mobile_client/vendor/maplibre-gl/maplibre-gl.css",
            "LICENSE.txt": "mobile_client/vendor/maplibre-gl/LICENSE.txt",
        },
    ),
    Wanted(
        "idb",
        "8.0.4",
        {
            "build/index.js": "mobile_client/vendor/idb/index.js",
            "LICENSE": "mobile_client/vendor/idb/LICENSE",
        },
    ),
    Wanted(
        "swagger-ui-dist",
        "5.35.0",
        {
            "swagger-ui-bundle.js": "mobile_client/vendor/swagger-ui-dist/swagger-ui-bundle.js",
            "swagger-ui.css": "mobile_client/vendor/swagger-ui-dist/swagger-ui.css",
            "favicon-32x32.png": "mobile_client/vendor/swagger-ui-dist/favicon-32x32.png",
            "LICENSE": "mobile_client/vendor/swagger-ui-dist/LICENSE",
        },
    ),
    # Only the browser tests use axe-core; it is not served with the app.
    Wanted(
        "axe-core",
        "4.14.1",
        {
            "axe.min.js": "tests/mobile_client/vendor/axe-core/axe.min.js",
            "LICENSE": "tests/mobile_client/vendor/axe-core/LICENSE",
        },
    ),
)


def sri(data: bytes) -> str:
    """Subresource-integrity form, as npm writes ``dist.integrity``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


# One vendored file in lock.json: where it came from in the package, where it lies here, its integrity and,
# for the served scripts and style sheets, the integrity of its Brotli copy. "from" is a keyword, so only
# the functional form can name the field.
LockedFileEntry = TypedDict(
    "LockedFileEntry", {"from": str, "to": str, "integrity": str, "brotli": NotRequired[str]}
)


class LockedPackage(TypedDict):
    name: str
    version: str
    integrity: str
    files: list[LockedFileEntry]


def fetch(wanted: Wanted) -> LockedPackage:
    meta = json.loads(_get(f"{REGISTRY}/{wanted.name}/{wanted.version}"))
    tarball = _get(meta["dist"]["tarball"])
    integrity = meta["dist"]["integrity"]
    if sri(tarball) != integrity:
        raise SystemExit(f"{wanted.name}@{wanted.version}: the tarball does not match {integrity}")
    files: list[LockedFileEntry] = []
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for source, target in wanted.files.items():
            member = archive.extractfile(f"package/{source}")
            if member is None:
                raise SystemExit(f"{wanted.name}@{wanted.version} has no file {source}")
            data = member.read()
            path = ROOT / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            files.append({"from": source, "to": target, "integrity": sri(data)})
    return {"name": wanted.name, "version": wanted.version, "integrity": integrity, "files": files}


BROTLI_SUFFIXES = (".mjs", ".js", ".css")


def brotli_copy(path: Path) -> Path:
    """Where the Brotli copy of a vendored file lives (the API serves it for ``Accept-Encoding: br``)."""
    return path.with_name(path.name + ".br")


def precompress(packages: list[LockedPackage]) -> None:
    """Write the Brotli copy of every served script and style sheet and put its integrity in the lock."""
    import brotli  # a test dependency: only ``make vendor`` writes the copies

    for package in packages:
        for entry in package["files"]:
            target = entry["to"]
            if not target.startswith("mobile_client/") or not target.endswith(BROTLI_SUFFIXES):
                entry.pop("brotli", None)
                continue
            packed = brotli.compress((ROOT / target).read_bytes(), quality=11)
            brotli_copy(ROOT / target).write_bytes(packed)
            entry["brotli"] = sri(packed)


def write_lock(packages: list[LockedPackage]) -> None:
    LOCK.write_text(json.dumps({"registry": REGISTRY, "packages": packages}, indent=2) + "\n")


def read_lock() -> list[LockedPackage]:
    packages: list[LockedPackage] = json.loads(LOCK.read_text())["packages"]
    return packages


def mismatches() -> list[str]:
    """Vendored files that are missing or differ from the lock (empty when all is well)."""
    found = []
    for package in read_lock():
        for entry in package["files"]:
            path = ROOT / entry["to"]
            if not path.is_file():
                found.append(f"{entry['to']}: missing")
            elif sri(path.read_bytes()) != entry["integrity"]:
                found.append(f"{entry['to']}: differs from {package['name']}@{package['version']}")
            if "brotli" in entry:
                packed = brotli_copy(path)
                if not packed.is_file():
                    found.append(f"{entry['to']}.br: missing")
                elif sri(packed.read_bytes()) != entry["brotli"]:
                    found.append(f"{entry['to']}.br: differs from the lock")
    return found


def versions() -> dict[str, str]:
    return {str(p["name"]): str(p["version"]) for p in read_lock()}


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = mismatches()
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    if "--compress" in argv:
        packages = read_lock()
        precompress(packages)
        write_lock(packages)
        return 0
    packages = [fetch(wanted) for wanted in WANTED]
    precompress(packages)
    write_lock(packages)
    for package in packages:
        print(f"vendored {package['name']}@{package['version']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
