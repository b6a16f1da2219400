"""``civicloop pb …`` and ``civicloop codes …``: Typer sub-apps the main command line mounts.

``pb tally`` is pure (a file in, JSON out) and needs no database; the others open one unit of work on
``DATABASE_URL`` and commit it only when everything succeeded.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from api.cli_tally import pb_tally
from core.db import make_engine, make_sessionmaker
from core.errors import DomainError
from core.settings import Settings, get_settings
from participation import budget_rounds, electorate, pabulib_io

pb_app = typer.Typer(help="Participatory budgeting with pabulib .pb files.", no_args_is_help=True)
codes_app = typer.Typer(help="Single-use voting codes for letters.", no_args_is_help=True)
T = TypeVar("T")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


# The same command ``civicloop pb tally`` runs without this app (api/cli_entry.py).
pb_app.command("tally")(pb_tally)


def _run(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    settings = get_settings()
    if not settings.database_url:
        _fail("DATABASE_URL is not set")

    async def main() -> T:
        engine = make_engine(settings.database_url or "", pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                value = await work(session, settings)
                await session.commit()
                return value
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except DomainError as error:
        _fail(f"{error.code}: {error.detail}")
        raise  # unreachable


async def _round(session: AsyncSession, slug: str, round_id: int) -> Any:
    from geo.service import get_jurisdiction

    jurisdiction = await get_jurisdiction(session, slug)
    return await budget_rounds.get_round(session, jurisdiction_id=jurisdiction.id, round_id=round_id)


@pb_app.command("export")
def pb_export(
    jurisdiction: str = typer.Option(..., "--jurisdiction"),
    round_id: int = typer.Option(..., "--round"),
    output: Path = typer.Option(..., "--output"),
) -> None:
    """Write a closed round as a .pb file with anonymised ballots."""

    async def work(session: AsyncSession, settings: Settings) -> str:
        return await pabulib_io.export_round(session, await _round(session, jurisdiction, round_id))

    output.write_text(_run(work), encoding="utf-8")
    typer.echo(f"wrote {output}")


@pb_app.command("import")
def pb_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    jurisdiction: str = typer.Option(..., "--jurisdiction"),
    area_id: int = typer.Option(..., "--area"),
    rule: str | None = typer.Option(None, help="greedy or mes; default: the rule the file declares"),
) -> None:
    """Create a closed, tallied round from a .pb file (its projects and ballots)."""

    async def work(session: AsyncSession, settings: Settings) -> tuple[int, list[Any]]:
        from geo.service import get_jurisdiction

        found = await get_jurisdiction(session, jurisdiction)
        created = await pabulib_io.import_round(
            session,
            jurisdiction_id=found.id,
            area_id=area_id,
            text_content=pabulib_io.read_pb_file(file),
            rule=rule,
        )
        return created.id, list((created.result or {}).get("selected", []))

    round_id, selected = _run(work)
    typer.echo(json.dumps({"round_id": round_id, "selected": selected}))


@codes_app.command("generate")
def codes_generate(
    jurisdiction: str = typer.Option(..., "--jurisdiction"),
    round_id: int = typer.Option(..., "--round"),
    area_id: int = typer.Option(..., "--area"),
    count: int = typer.Option(..., "--count", min=1, max=1_000_000),
    output: Path = typer.Option(..., "--output"),
) -> None:
    """Generate single-use codes into a CSV for the letter printer; only their hashes are stored."""
    if output.exists():
        _fail(f"{output} exists; codes are shown once, so it is never overwritten")

    async def work(session: AsyncSession, settings: Settings) -> list[str]:
        keys = electorate.ParticipationKeys.from_secret(settings.secret_key.get_secret_value())
        found = await _round(session, jurisdiction, round_id)
        return await electorate.generate_codes(
            session, keys=keys, budget_round=found, area_id=area_id, count=count
        )

    codes = _run(work)
    with output.open("x", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "round_id", "area_id"])
        writer.writerows([code, round_id, area_id] for code in codes)
    typer.echo(f"wrote {len(codes)} codes to {output}")


@codes_app.command("import")
def codes_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    jurisdiction: str = typer.Option(..., "--jurisdiction"),
    round_id: int = typer.Option(..., "--round"),
    area_id: int = typer.Option(..., "--area"),
) -> None:
    """Take codes made elsewhere (a CSV with a ``code`` column, or one code per line)."""
    lines = file.read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.reader(lines))
    codes = (
        [r[0] for r in rows[1:]]
        if rows and rows[0] and rows[0][0].strip().lower() == "code"
        else [r[0] for r in rows if r]
    )

    async def work(session: AsyncSession, settings: Settings) -> int:
        keys = electorate.ParticipationKeys.from_secret(settings.secret_key.get_secret_value())
        found = await _round(session, jurisdiction, round_id)
        return await electorate.import_codes(
            session, keys=keys, budget_round=found, area_id=area_id, codes=codes
        )

    typer.echo(f"imported {_run(work)} new codes")


@pb_app.command("advance")
def advance() -> None:
    """Move every round, consultation round and motion whose time has come (run by the worker); after a
    budget round closes, vacuum the ballots (see ``docs/ballot-secrecy.md``)."""
    from participation.clock import tick

    settings = get_settings()
    if not settings.database_url:
        _fail("DATABASE_URL is not set")

    async def main() -> dict[str, Any]:
        engine = make_engine(settings.database_url or "", pool_size=1)
        try:
            keys = electorate.ParticipationKeys.from_secret(settings.secret_key.get_secret_value())
            return await tick(engine, cipher=keys.cipher)
        finally:
            await engine.dispose()

    try:
        moved = asyncio.run(main())
    except DomainError as error:
        _fail(f"{error.code}: {error.detail}")
        raise  # unreachable
    typer.echo(json.dumps(moved, default=str))
