"""Content-addressed storage of re-encoded photos on disk.

Files are named by their SHA-256, written to a temporary name and renamed into place, so a write
is atomic and repeating it is harmless. A transaction that rolls back may leave an unreferenced
file behind, never a row that points at a missing file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_KEY = re.compile(r"^[0-9a-f]{64}\.(jpg|webp|png)$")


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, *, suffix: str) -> str:
        key = f"{hashlib.sha256(data).hexdigest()}.{suffix}"
        target = self.path(key)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
        return key

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a media key: {key!r}")
        return self.root / key[:2] / key
