"""``civicloop worker run`` and ``civicloop deadletters list|replay``: the notifications command line.

Mounted by ``api/cli.py`` (``app.add_typer(cli_notifications.worker_app, name="worker")`` and
``app.add_typer(cli_notifications.deadletters_app, name="deadletters")``); also runnable on its own as
``python -m api.cli_notifications worker run``. Settings come from ``core.settings.Settings`` (its
``notifications`` section), exactly as for ``civicloop serve``.
"""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Annotated

import typer

import participation.events  # noqa: F401  (registers participation's payload types for the fan-out)
from core.db import make_engine, make_sessionmaker, sync_url
from core.local_postgres import ensure_local_cluster
from core.settings import Settings, get_settings
from notifications import dead_letters, queries
from notifications.worker import Worker, run_workers

app = typer.Typer(help="Notifications: the delivery worker and the dead letters.", no_args_is_help=True)
worker_app = typer.Typer(help="The notifications delivery worker.", no_args_is_help=True)
deadletters_app = typer.Typer(help="Deliveries that gave up: list and replay.", no_args_is_help=True)
app.add_typer(worker_app, name="worker")
app.add_typer(deadletters_app, name="deadletters")

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="default: settings or local cluster")
]


def database_url(settings: Settings, given: str | None) -> str:
    if given:
        return given
    if settings.database_url:
        return settings.database_url
    return ensure_local_cluster(settings.local_db_dir).url("civicloop")


@worker_app.command("run")
def worker_run(
    once: Annotated[bool, typer.Option("--once", help="work until nothing is due, then exit")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64)] = 1,
    database: DatabaseOption = None,
) -> None:
    """Deliver notifications until stopped (SIGTERM/SIGINT finish the current batch)."""
    settings = get_settings()
    url = database_url(settings, database)
    config = settings.notifications

    async def main() -> None:
        engine = make_engine(url, pool_size=max(2, concurrency * 2))
        sessionmaker = make_sessionmaker(engine)
        try:
            if once:
                worker = Worker(sessionmaker, config)
                try:
                    stats = await worker.run_until_idle()
                finally:
                    await worker.aclose()
                typer.echo(
                    f"events {stats.events}, delivered {stats.delivered}, retried {stats.retried},"
                    f" dead {stats.dead}, scheduled {stats.scheduled}"
                )
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            typer.echo(f"worker running ({concurrency} loop(s)); Ctrl-C to stop", err=True)
            await run_workers(
                sessionmaker, config, listen_url=sync_url(url), stop=stop, concurrency=concurrency
            )
        finally:
            await engine.dispose()

    asyncio.run(main())


@deadletters_app.command("list")
def deadletters_list(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    database: DatabaseOption = None,
) -> None:
    """Dead letters of every jurisdiction, newest first, one JSON object per line."""
    url = database_url(get_settings(), database)

    async def main() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                for delivery in await queries.dead_letters(
                    session, jurisdiction_id=None, before_id=None, limit=limit
                ):
                    typer.echo(
                        json.dumps(
                            {
                                "id": delivery.id,
                                "event_id": str(delivery.event_id),
                                "topic": delivery.topic,
                                "channel": delivery.channel,
                                "recipient": delivery.recipient,
                                "attempts": delivery.attempts,
                                "last_error": delivery.last_error,
                            }
                        )
                    )
        finally:
            await engine.dispose()

    asyncio.run(main())


@deadletters_app.command("replay")
def deadletters_replay(
    ids: Annotated[list[int] | None, typer.Argument(help="dead letter ids")] = None,
    all_: Annotated[bool, typer.Option("--all", help="replay every dead letter")] = False,
    database: DatabaseOption = None,
) -> None:
    """Queue dead letters again (a failed fan-out is fanned out again)."""
    if not ids and not all_:
        raise typer.BadParameter("give dead letter ids or --all")
    url = database_url(get_settings(), database)

    async def main() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                targets = list(ids or [])
                if all_:
                    targets = [
                        d.id
                        for d in await queries.dead_letters(
                            session, jurisdiction_id=None, before_id=None, limit=100_000
                        )
                    ]
                for delivery_id in targets:
                    await dead_letters.replay(session, jurisdiction_id=None, delivery_id=delivery_id)
                await session.commit()
                typer.echo(f"replayed {len(targets)}")
        finally:
            await engine.dispose()

    asyncio.run(main())


if __name__ == "__main__":
    app()
