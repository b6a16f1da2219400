"""The ``civicloop`` command line: serve, migrate, demo data, boundary imports.

Commands only parse, pick the database and call the packages; the rules live in ``geo`` and ``core``.
Without ``DATABASE_URL`` every command that needs a database provisions the project's private PostGIS
cluster (``.civicloop/``), creates the ``civicloop`` database and migrates it, so a newcomer needs no
database administration at all. Expected failures (a missing file, an unknown jurisdiction, a database
that cannot be reached) print one line on stderr and exit with code 2, never a traceback.

More command groups (``apikey``, ``pb``, ``codes``) plug in as sub-apps: ``app.add_typer(...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import os
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Annotated, TypeVar

import psycopg
import typer
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from api import cli_apikey, cli_notifications, cli_participation
from api.demo import PASSWORD as DEMO_PASSWORD
from api.demo import DemoConflict, DemoResult, demo_loaded, has_jurisdictions, load_demo
from core.db import make_engine, make_sessionmaker, sync_url
from core.local_postgres import (
    LocalPostgresError,
    create_database,
    ensure_local_cluster,
    ensure_postgis_installed,
)
from core.settings import PROJECT_DIR, Settings
from geo.area_import import AreaImportError, ImportResult, SkippedFeatures, UnknownJurisdiction, import_file
from geo.area_import import parse_filters as parse_area_filters
from geo.media import MediaStore
from participation.electorate import ParticipationKeys

LOCAL_DATABASE = "civicloop"
USAGE_ERROR = 2

T = TypeVar("T")

app = typer.Typer(
    name="civicloop",
    help="civicloop: reports, votes and feedback between a municipality and its residents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
areas_app = typer.Typer(
    help="Administrative areas (municipality → district → neighbourhood).", no_args_is_help=True
)
demo_app = typer.Typer(
    help="Demo data: Amsterdam, its districts, categories, accounts and reports.", no_args_is_help=True
)
retention_app = typer.Typer(
    help="Retention of personal data (reporter contact data, device links, photos).", no_args_is_help=True
)
app.add_typer(areas_app, name="areas")
app.add_typer(retention_app, name="retention")
app.add_typer(demo_app, name="demo")
app.add_typer(cli_apikey.app, name="apikey")
app.add_typer(cli_participation.pb_app, name="pb")
app.add_typer(cli_participation.codes_app, name="codes")
app.add_typer(cli_notifications.worker_app, name="worker")
app.add_typer(cli_notifications.deadletters_app, name="deadletters")


class Level(enum.StrEnum):
    MUNICIPALITY = "municipality"
    DISTRICT = "district"
    NEIGHBOURHOOD = "neighbourhood"


class CliError(Exception):
    """An expected failure: one line on stderr, exit code 2."""


def _fail(message: str, code: int = USAGE_ERROR) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextlib.contextmanager
def _expected_errors() -> Iterator[None]:
    try:
        yield
    except (CliError, AreaImportError, DemoConflict, LocalPostgresError) as error:
        raise _fail(str(error)) from None
    except (psycopg.OperationalError, OperationalError) as error:
        first_line = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise _fail(f"cannot reach the database: {first_line}") from None
    except DBAPIError as error:
        # Usually a schema that was never migrated: say which statement failed, in one line.
        first_line = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise _fail(f"database error: {first_line} (is the database migrated? civicloop migrate)") from None


# ----------------------------------------------------------------------------------------------------
# The database in use


def migrate_database(url: str) -> None:
    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    # "heads", not "head": branches merged by parallel work upgrade too instead of failing.
    command.upgrade(config, "heads")


def local_database_url(settings: Settings) -> str:
    """Provision the private cluster and the ``civicloop`` database in it, migrated."""
    ensure_postgis_installed()
    cluster = ensure_local_cluster(settings.local_db_dir)
    create_database(cluster, LOCAL_DATABASE)
    url = cluster.url(LOCAL_DATABASE)
    migrate_database(url)
    return url


def database_url(settings: Settings) -> tuple[str, bool]:
    """(URL, whether it is the self-provisioned local database)."""
    if settings.database_url:
        return settings.database_url, False
    return local_database_url(settings), True


def _run_in_transaction(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One unit of work: ``work`` flushes, this commits (or rolls back on any error)."""

    async def run() -> T:
        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _print_demo(result: DemoResult, base: str) -> None:
    base = base.rstrip("/")
    if not result.loaded:
        typer.echo("demo data is already loaded; nothing changed")
    else:
        for area_result in result.areas:
            for line in area_result.report_lines():
                typer.echo(line)
        statuses = ", ".join(f"{count} {status}" for status, count in sorted(result.statuses.items()))
        typer.echo(f"loaded demo data: jurisdiction amsterdam, {result.reports} reports ({statuses})")
        if result.budget_round_id is not None:
            typer.echo(
                f"demo budget round {result.budget_round_id} in Centrum, from proposals to implementation:"
                f" {base}/rounds/{result.budget_round_id}/results"
            )
        typer.echo(
            f"for the field staff: {result.work_reports} reports near the Dam (most of them open) and"
            f" {result.message_templates} message templates; for the Centrum council:"
            f" {len(result.motion_ids)} motions (one open to vote on)"
        )
    if result.voting_round_id is not None:
        typer.echo(
            f"demo budget round {result.voting_round_id} in Centrum is voting:"
            f" {base}/rounds/{result.voting_round_id}/vote"
            " (sign in as bewoner@demo.example.org, whose address is checked, or use a letter's code)"
        )
    if result.voting_codes:
        typer.echo("demo letters with a voting code (demo only; each votes once):")
        for code in result.voting_codes:
            typer.echo(f"  {base}/vote?code={code}")
    if result.consultation_round_ids is not None:
        open_round, closed_round = result.consultation_round_ids
        typer.echo(
            f"demo consultation in Centrum: answer {base}/consultation-rounds/{open_round},"
            f" 'you said, we did' at {base}/consultation-rounds/{closed_round}/results"
        )
    typer.echo(f"demo accounts (password {DEMO_PASSWORD!r}, demo only):")
    for account in result.accounts:
        scope = f" ({account.scope})" if account.scope else ""
        typer.echo(f"  {account.email:36} {account.role}{scope}")


def _participation_keys(settings: Settings) -> ParticipationKeys:
    """The server's keys: the demo's letters' codes are stored hashed with them, so they work here."""
    return ParticipationKeys.from_secret(settings.secret_key.get_secret_value())


# ----------------------------------------------------------------------------------------------------
# Commands


def default_public_base_url(settings: Settings, host: str, port: int) -> str:
    """The address links in mails point to: ``CIVICLOOP_PUBLIC_BASE_URL`` when set, else where this
    server listens (a wildcard address as ``localhost``), so a second server on another port does not
    send links to the first."""
    if "public_base_url" in settings.notifications.model_fields_set:
        return settings.notifications.public_base_url
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def app_from_environment() -> FastAPI:
    """The app of one ``civicloop serve --workers N`` process; ``serve`` put everything in the environment."""
    from api.app import create_app

    return create_app(Settings())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo data (with DATABASE_URL).")] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="API processes on this port; each also runs a notifications worker"
            " (none with CIVICLOOP_RUN_WORKER=false). Processes and workers may share one database.",
        ),
    ] = 1,
) -> None:
    """Serve the API. Without DATABASE_URL: provision a local PostGIS, migrate, load the demo once."""
    import uvicorn

    from api.app import create_app
    from core.log_redaction import uvicorn_log_config

    settings = Settings()
    notifications = settings.notifications
    keys = _participation_keys(settings)
    public = default_public_base_url(settings, host, port)
    with _expected_errors():
        url, local = database_url(settings)
        if not local:
            migrate_database(url)
        if local and not demo:

            async def demo_if_empty(session: AsyncSession) -> DemoResult | None:
                # An empty database gets the demo; a demo database is brought up to date (and its
                # letters printed again); a database with other jurisdictions is left alone.
                if await has_jurisdictions(session) and not await demo_loaded(session):
                    return None
                return await load_demo(session, notification_settings=notifications, participation_keys=keys)

            result = _run_in_transaction(url, demo_if_empty)
            if result is None:
                typer.echo("the database holds jurisdictions already; demo data not loaded")
            else:
                if result.loaded:
                    typer.echo("the database was empty: loading the demo data")
                _print_demo(result, public)
        elif demo:
            _print_demo(
                _run_in_transaction(
                    url, partial(load_demo, notification_settings=notifications, participation_keys=keys)
                ),
                public,
            )
    base = f"http://{host}:{port}"
    typer.echo(
        f"civicloop serves the app on {base}/  (API docs: {base}/docs, health: {base}/healthz, {base}/readyz)"
    )
    if public != base:
        typer.echo(f"links in notifications point to {public}")
    if local:
        typer.echo(f"database: {url}  (local cluster in {settings.local_db_dir})")
    if workers == 1:
        settings = settings.model_copy(
            update={
                "database_url": url,
                "notifications": settings.notifications.model_copy(update={"public_base_url": public}),
            }
        )
        uvicorn.run(create_app(settings), host=host, port=port, log_config=uvicorn_log_config())
        return
    # Each process builds its own app (and pool, and worker) from the environment.
    os.environ["DATABASE_URL"] = url
    os.environ["CIVICLOOP_PUBLIC_BASE_URL"] = public
    uvicorn.run(
        "api.cli:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=uvicorn_log_config(),
    )


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count what is due, change nothing")] = False,
) -> None:
    """Anonymise contact data and device links, and delete photos, of reports closed longer than their
    jurisdiction's retention (the clock of ``civicloop serve`` runs the same every hour). Prints JSON."""
    from geo.retention import run_retention

    settings = Settings()
    with _expected_errors():
        url, _ = database_url(settings)

        async def main() -> dict[str, object]:
            engine = make_engine(url, pool_size=1)
            try:
                async with make_sessionmaker(engine)() as session:
                    run = await run_retention(
                        session,
                        MediaStore(settings.media_dir),
                        default_days=settings.contact_retention_days,
                        default_months=settings.photo_retention_months,
                        dry_run=dry_run,
                    )
                return run.summary()
            finally:
                await engine.dispose()

        typer.echo(json.dumps(asyncio.run(main())))


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision (alembic)."""
    settings = Settings()
    with _expected_errors():
        url, local = database_url(settings)
        if not local:
            migrate_database(url)
    typer.echo("database schema is up to date")


@app.command("db-url")
def db_url(
    plain: Annotated[
        bool, typer.Option("--plain", help="libpq form (postgresql://…), for psql and plain psycopg.")
    ] = False,
) -> None:
    """Print the database URL in use (provisions the local database when DATABASE_URL is unset)."""
    settings = Settings()
    with _expected_errors():
        url, _ = database_url(settings)
    typer.echo(sync_url(url) if plain else url)


@demo_app.command("load")
def demo_load() -> None:
    """Load the Amsterdam demo data; running it again changes nothing (an older demo gets what is new)."""
    settings = Settings()
    with _expected_errors():
        url, _ = database_url(settings)
        result = _run_in_transaction(
            url,
            partial(
                load_demo,
                notification_settings=settings.notifications,
                participation_keys=_participation_keys(settings),
            ),
        )
    _print_demo(result, settings.notifications.public_base_url)


@areas_app.command("import")
def areas_import(
    file: Annotated[Path, typer.Argument(help="A GeoJSON FeatureCollection in WGS84 longitude/latitude.")],
    jurisdiction: Annotated[str, typer.Option(help="Slug of the jurisdiction the areas belong to.")],
    level: Annotated[Level, typer.Option(help="Level of the imported areas.")],
    name_property: Annotated[str, typer.Option(help="Feature property holding the area's name.")],
    code_property: Annotated[
        str | None, typer.Option(help="Feature property holding the area's official code.")
    ] = None,
    parent_level: Annotated[
        Level | None,
        typer.Option(help="Link each area to the area of this level that holds the largest part of it."),
    ] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option("--filter", help="Only features whose PROP equals VALUE (PROP=VALUE, repeatable)."),
    ] = None,
    create_jurisdiction: Annotated[
        str | None, typer.Option(help="Create the jurisdiction with this display name if it is missing.")
    ] = None,
    allow_skips: Annotated[
        bool, typer.Option("--allow-skips", help="Import even when some features yield no polygon.")
    ] = False,
) -> None:
    """Import a boundary file: repair invalid polygons, report them, upsert by (jurisdiction, level, name)."""
    settings = Settings()
    with _expected_errors():
        filters = parse_area_filters(filter_ or [])
        if not file.is_file():
            raise CliError(f"{file}: no such file")
        url, _ = database_url(settings)

        async def work(session: AsyncSession) -> ImportResult:
            try:
                return await import_file(
                    session,
                    file,
                    jurisdiction=jurisdiction,
                    level=level.value,
                    name_property=name_property,
                    code_property=code_property,
                    parent_level=parent_level.value if parent_level else None,
                    filters=filters,
                    create_jurisdiction=create_jurisdiction,
                    allow_skips=allow_skips,
                )
            except UnknownJurisdiction as error:
                raise CliError(f"{error} (pass --create-jurisdiction NAME to create it)") from None

        try:
            result = _run_in_transaction(url, work)
        except SkippedFeatures as error:
            for line in error.result.report_lines():
                typer.echo(line, err=True)
            typer.echo(f"error: {error}; pass --allow-skips to import the rest", err=True)
            raise typer.Exit(1) from None
    for line in result.report_lines():
        typer.echo(line)


def main() -> None:
    """Console entry point (``civicloop``)."""
    app(prog_name="civicloop")


if __name__ == "__main__":  # pragma: no cover
    main()
