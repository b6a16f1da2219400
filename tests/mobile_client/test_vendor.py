"""The vendored browser libraries are exactly the files the lock names (package, version, sha512)."""

from __future__ import annotations

import json

import brotli

from mobile_client import vendoring


def test_the_vendored_files_match_the_lock() -> None:
    assert vendoring.mismatches() == []


def test_the_lock_names_each_package_with_its_registry_integrity() -> None:
    packages = {p["name"]: p for p in vendoring.read_lock()}
    assert set(packages) == {w.name for w in vendoring.WANTED}
    for wanted in vendoring.WANTED:
        locked = packages[wanted.name]
        assert locked["version"] == wanted.version
        assert locked["integrity"].startswith("sha512-")
        assert {f["from"]: f["to"] for f in locked["files"]} == wanted.files


def test_the_brotli_copies_decode_to_the_served_scripts_and_styles() -> None:
    copies = {
        f["to"]: vendoring.brotli_copy(vendoring.ROOT / f["to"])
        for p in vendoring.read_lock()
        for f in p["files"]
        if "brotli" in f
    }
    assert "mobile_client/vendor/maplibre-gl/maplibre-gl-worker.mjs" in copies
    assert not [name for name in copies if not name.startswith("mobile_client/")]  # axe is not served
    for name, copy in copies.items():
        assert brotli.decompress(copy.read_bytes()) == (vendoring.ROOT / name).read_bytes(), name


def test_a_changed_file_is_caught(tmp_path, monkeypatch) -> None:
    """Guard the check: one altered byte in a copy of a vendored file is reported."""
    package = vendoring.read_lock()[1]
    entry = package["files"][0]
    copy = tmp_path / entry["to"]
    copy.parent.mkdir(parents=True)
    copy.write_bytes((vendoring.ROOT / entry["to"]).read_bytes() + b" ")
    packed = vendoring.brotli_copy(vendoring.ROOT / entry["to"]).read_bytes()
    vendoring.brotli_copy(copy).write_bytes(packed[:-1])  # and a Brotli copy cut short
    lock = tmp_path / "lock.json"
    lock.write_text(json.dumps({"packages": [{**package, "files": [entry]}]}))
    monkeypatch.setattr(vendoring, "ROOT", tmp_path)
    monkeypatch.setattr(vendoring, "LOCK", lock)
    assert vendoring.mismatches() == [
        f"{entry['to']}: differs from {package['name']}@{package['version']}",
        f"{entry['to']}.br: differs from the lock",
    ]
