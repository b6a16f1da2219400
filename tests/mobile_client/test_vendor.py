"""The vendored browser libraries are exactly the files the lock names (package, version, sha512)."""

from __future__ import annotations

import json

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


def test_a_changed_file_is_caught(tmp_path, monkeypatch) -> None:
    """Guard the check: one altered byte in a copy of a vendored file is reported."""
    package = vendoring.read_lock()[1]
    entry = package["files"][0]
    copy = tmp_path / entry["to"]
    copy.parent.mkdir(parents=True)
    copy.write_bytes((vendoring.ROOT / entry["to"]).read_bytes() + b" ")
    lock = tmp_path / "lock.json"
    lock.write_text(json.dumps({"packages": [{**package, "files": [entry]}]}))
    monkeypatch.setattr(vendoring, "ROOT", tmp_path)
    monkeypatch.setattr(vendoring, "LOCK", lock)
    assert vendoring.mismatches() == [f"{entry['to']}: differs from {package['name']}@{package['version']}"]
