"""The write-ahead log of a round links no voter to a ballot's contents.

The attack of issue 12 (item 5): read the WAL (a replica, a WAL archive, ``pg_waldump``) and take, for
each voter's participation insert, the ballot insert that follows it. The test reads the cluster's WAL
segments itself (``pg_read_binary_file``; record boundaries and databases from ``pg_walinspect``) and looks
for each ballot's contents in it, in the exact bytes a heap tuple of ``ballots`` holds them in (taken from
a scratch table with ``pageinspect``). Claim tested (docs/ballot-secrecy.md): while voting is open no
ballot's contents are in the WAL at all; after the close they are, in an order unrelated to the voters'.
"""

from __future__ import annotations

import bisect
import json
import os
from dataclasses import dataclass

import httpx
import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import sync_url
from tests.conftest import World
from tests.participation.support_rounds import set_phase
from tests.participation.test_secrecy import _cast_all, spearman

PAGE = 8192  # XLOG_BLCKSZ
SHORT_HEADER, LONG_HEADER = 24, 40  # a WAL page's header; the first page of a segment has the long one


@dataclass
class WalRange:
    """WAL bytes without page headers, and the LSN of each page's first data byte."""

    data: bytes
    offsets: list[int]
    lsns: list[int]

    def lsn(self, offset: int) -> int:
        index = bisect.bisect_right(self.offsets, offset) - 1
        return self.lsns[index] + offset - self.offsets[index]


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _read_wal(connection: psycopg.Connection, start: int, end: int) -> WalRange:
    segment = int(
        connection.execute("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'").fetchone()[0]
    )
    data, offsets, lsns = bytearray(), [], []
    page = start - start % PAGE
    while page < end:
        name = connection.execute(
            "SELECT pg_walfile_name(CAST(%s AS pg_lsn))", (_pg_lsn(page + 1),)
        ).fetchone()
        assert name is not None
        raw = connection.execute(
            "SELECT pg_read_binary_file('pg_wal/' || %s, %s, %s)", (name[0], page % segment, PAGE)
        ).fetchone()
        assert raw is not None
        header = LONG_HEADER if page % segment == 0 else SHORT_HEADER
        offsets.append(len(data))
        lsns.append(page + header)
        data += bytes(raw[0])[header:]
        page += PAGE
    return WalRange(bytes(data), offsets, lsns)


def _pg_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def _stored_form(connection: psycopg.Connection, contents: list[list[int]]) -> list[bytes]:
    """Each content as a heap tuple of ``ballots`` holds it: the jsonb after its one-byte length header."""
    connection.execute("CREATE TEMPORARY TABLE probe (j jsonb)")
    for content in contents:
        connection.execute("INSERT INTO probe VALUES (CAST(%s AS jsonb))", (json.dumps(content),))
    rows = connection.execute(
        "SELECT t_data FROM heap_page_items(get_raw_page('probe', 0)) ORDER BY lp"
    ).fetchall()
    connection.execute("DROP TABLE probe")
    return [bytes(row[0])[1:] for row in rows]


def _records_of_database(
    connection: psycopg.Connection, start: int, end: int, oid: int
) -> list[tuple[int, int]]:
    """(start, end) LSNs of the WAL records that touch a relation of this database."""
    rows = connection.execute(
        "SELECT start_lsn::text, end_lsn::text, block_ref FROM pg_get_wal_records_info(%s, %s)",
        (_pg_lsn(start), _pg_lsn(end)),
    ).fetchall()
    return [(_lsn(a), _lsn(b)) for a, b, refs in rows if refs and f"/{oid}/" in refs]


def _where_found(wal: WalRange, marker: bytes, records: list[tuple[int, int]]) -> list[int]:
    """LSNs where ``marker`` occurs inside a record of our database (other tests share the cluster)."""
    starts = [a for a, _ in records]
    found, at = [], wal.data.find(marker)
    while at >= 0:
        lsn = wal.lsn(at)
        index = bisect.bisect_right(starts, lsn) - 1
        if index >= 0 and lsn + len(marker) <= records[index][1]:
            found.append(lsn)
        at = wal.data.find(marker, at + 1)
    return found


async def test_the_wal_holds_no_ballot_while_voting_and_no_voter_order_after_the_close(
    pcommitted_client: httpx.AsyncClient, world: World, engine: AsyncEngine, database_url: str
) -> None:
    conninfo = sync_url(database_url)
    with psycopg.connect(conninfo, autocommit=True) as wal:
        try:
            wal.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
            wal.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
            # Keeps every WAL segment from here on until this connection ends (no checkpoint recycles it).
            wal.execute(
                "SELECT pg_create_physical_replication_slot(%s, true, true)",
                (f"civicloop_wal_{os.getpid()}",),
            )
        except psycopg.Error as error:
            pytest.skip(f"reading the WAL needs a superuser and pg_walinspect: {error}")
        start = _lsn(wal.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0])
        oid = wal.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]

        round_id, truth = await _cast_all(pcommitted_client, world, engine)
        voting_ends = _lsn(wal.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0])
        await set_phase(pcommitted_client, world, round_id, "results")
        wal.execute("SELECT pg_switch_wal()")  # flushes everything written so far to the segment files
        end = _lsn(wal.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()[0])

        voters = list(truth)  # in the order they voted
        markers = _stored_form(wal, [truth[code] for code in voters])
        records = _records_of_database(wal, start, end, oid)
        log = _read_wal(wal, start, end)

    # The probe works: every ballot is in the WAL once the round has closed (written by the seal).
    found = {code: _where_found(log, marker, records) for code, marker in zip(voters, markers, strict=True)}
    assert all(found.values()), "a ballot's contents were not found in the WAL at all"
    # While voting was open, not one ballot's contents reached the WAL: nothing to link to its voter.
    during_voting = [code for code, places in found.items() if min(places) < voting_ends]
    assert during_voting == [], f"{len(during_voting)} of {len(voters)} ballots readable from the WAL"
    # After the close, the order of the ballots in the WAL says nothing about the order of the voters.
    first_seen = [float(min(found[code])) for code in voters]
    assert abs(spearman([float(i) for i in range(len(voters))], first_seen)) < 0.6
