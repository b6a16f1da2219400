"""Ballot contents while voting is open: encrypted under a per-round key the database never holds.

The write-ahead log keeps every insert in commit order, also after ``VACUUM FULL``: whoever reads it (a
replica, a WAL archive, a backup, a DBA) sees each voter's participation row next to the ballot written
for it. Mixing and separate transactions cannot hide that order, so the contents themselves must be
unreadable there: each ballot is stored as AES-256-GCM ciphertext under a key derived from the server's
secret key and the round, and only the close decrypts them, shuffles them and writes them in clear, all
in one transaction with fresh random ids (``participation.ballot_store.seal_ballots``).

Every ballot of a round has the same length: the plaintext is a fixed-width record with one slot per
project on the round's ballot, so the ciphertext does not tell how many projects a voter chose.
See ``docs/ballot-secrecy.md`` for what this protects against and what it does not.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import struct
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = 1
_HEADER = struct.Struct(">BBH")  # version, has points, number of chosen projects
_SLOT = struct.Struct(">qi")  # project id, points (0 when the ballot carries none)
_NONCE_BYTES = 12


class BallotIntegrityError(Exception):
    """A stored ballot does not decrypt under its round's key (altered, moved, or another secret key)."""


class BallotCipher:
    """Encrypts and decrypts the contents of one server's ballots (one instance per secret key)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one cipher per secret key, kept for the process)
    def _aead(self, round_id: int) -> AESGCM:
        return AESGCM(hmac.new(self._key, b"round:%d" % round_id, hashlib.sha256).digest())

    @staticmethod
    def _associated(round_id: int) -> bytes:
        # Binds a ciphertext to its round: it cannot be moved into another round's count.
        return b"civicloop ballot v1 round:%d" % round_id

    def seal(
        self, round_id: int, projects: Sequence[int], points: Sequence[int] | None, *, slots: int
    ) -> bytes:
        """The ballot as ``nonce ‖ ciphertext``, always ``slots`` projects wide (the round's ballot)."""
        if len(projects) > slots or (points is not None and len(points) != len(projects)):
            raise ValueError("a ballot holds at most one entry per project of the round")
        plain = bytearray(_HEADER.pack(_VERSION, points is not None, len(projects)))
        for index in range(slots):
            if index < len(projects):
                plain += _SLOT.pack(projects[index], points[index] if points is not None else 0)
            else:
                plain += _SLOT.pack(0, 0)
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead(round_id).encrypt(nonce, bytes(plain), self._associated(round_id))

    def open(self, round_id: int, sealed: bytes) -> tuple[list[int], list[int] | None]:
        """The ballot's projects (in the voter's order) and points (``None`` when it has none)."""
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            plain = self._aead(round_id).decrypt(nonce, ciphertext, self._associated(round_id))
        except InvalidTag as error:
            raise BallotIntegrityError(f"a ballot of round {round_id} does not decrypt") from error
        version, has_points, count = _HEADER.unpack_from(plain)
        if version != _VERSION:
            raise BallotIntegrityError(f"unknown ballot format {version}")
        entries = [_SLOT.unpack_from(plain, _HEADER.size + i * _SLOT.size) for i in range(count)]
        projects = [project for project, _ in entries]
        return projects, [points for _, points in entries] if has_points else None
