"""``civicloop apikey``: issue, list and revoke the API keys of Open311 client applications.

Mounted by ``api/cli.py`` as ``app.add_typer(cli_apikey.app, name="apikey")``. A new key is printed once
on standard output (and nothing else, so ``KEY=$(civicloop apikey create …)`` works); only its SHA-256 is
stored. The database is ``--database-url``, else ``DATABASE_URL``, else the local development cluster's
``civicloop`` database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from api.open311 import keys
from core.db import make_engine, make_sessionmaker
from core.errors import DomainError
from core.settings import get_settings
from geo.service import get_jurisdiction

app = typer.Typer(help="API keys of Open311 client applications.", no_args_is_help=True)
T = TypeVar("T")
LOCAL_DATABASE = "civicloop"


def _database_url(given: str | None) -> str:
    url = given or get_settings().database_url
    if not url:
        from core.local_postgres import ensure_local_cluster

        url = ensure_local_cluster(get_settings().local_db_dir).url(LOCAL_DATABASE)
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url


def _run(database_url: str | None, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One unit of work: commit when ``work`` succeeds; a domain error is a clean exit code 1."""

    async def main() -> T:
        engine = make_engine(_database_url(database_url), pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(code=1) from None


DatabaseOption = typer.Option(None, "--database-url", help="defaults to DATABASE_URL or the local cluster")


@app.command("create")
def create(
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="the jurisdiction's slug, e.g. amsterdam"),
    name: str = typer.Option("Open311 client", "--name", help="which client application holds the key"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Issue a key and print it; it is shown this once and cannot be recovered."""
    name = name.strip()
    if not name or len(name) > 200:
        typer.echo("error: --name must be 1 to 200 characters", err=True)
        raise typer.Exit(code=2)

    async def work(session: AsyncSession) -> keys.IssuedKey:
        found = await get_jurisdiction(session, jurisdiction)
        return await keys.create_key(session, jurisdiction_id=found.id, name=name)

    issued = _run(database_url, work)
    typer.echo(issued.key)
    typer.echo(
        f"key {issued.id} for {jurisdiction!r} ({issued.name}); store it now, it is not kept", err=True
    )


@app.command("list")
def list_keys(
    jurisdiction: str | None = typer.Option(None, "--jurisdiction", help="only this jurisdiction's keys"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Keys with their id, jurisdiction, name and state; never the keys themselves."""

    async def work(session: AsyncSession) -> list[str]:
        jurisdiction_id = (await get_jurisdiction(session, jurisdiction)).id if jurisdiction else None
        lines = []
        for row in await keys.list_keys(session, jurisdiction_id=jurisdiction_id):
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
            lines.append(f"{row.id}\t{row.jurisdiction_id}\t{row.name}\t{row.created_at:%Y-%m-%d}\t{state}")
        return lines

    for line in _run(database_url, work):
        typer.echo(line)


@app.command("revoke")
def revoke(
    key_id: int = typer.Argument(..., min=1, help="the id shown by `apikey list`"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Refuse a key from now on; reports it brought in stay."""

    async def work(session: AsyncSession) -> keys.Open311ApiKey:
        return await keys.revoke_key(session, key_id=key_id)

    row = _run(database_url, work)
    typer.echo(f"key {row.id} ({row.name}) revoked")
