"""Demo data: Amsterdam with its real districts, departments, categories, accounts and 400 reports.

Everything goes through the same code the product uses — the area importer, the category and account
services, ``submit_report`` and ``transition_report`` — so the demo shows real status histories and
outbox events, and breaks loudly when a rule changes. The load is deterministic (a seeded random
generator, points drawn inside the district polygons by ``ST_GeneratePoints`` with a seed); only the
timestamps are relative to the moment of loading, so the demo never looks stale.

Idempotence: the whole load is one transaction, serialized by an advisory lock, and the demo admin
account is its marker. A second run finds the marker and changes nothing.

The demo's past is recorded as told at the time: its outbox events are fanned out like the worker does,
every delivery recorded delivered when its event happened (inbox messages included, read), the
satisfaction questions of long-resolved reports as asked then. Nothing about that history is sent
when the worker starts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.demo_work import WORK_SPOTS, load_demo_motions, load_message_templates, load_work_reports
from core import accounts
from core.identity import Account, Identity, RoleGrant
from geo import service
from geo.area_import import ImportResult, import_areas, read_features
from geo.deadlines import due_at
from geo.models import Category, Jurisdiction
from geo.schemas import CategoryCreate, ReportCreate, TransitionCreate
from geo.workflow import CloseReason, Status
from notifications import fanout
from notifications.settings import NotificationSettings
from participation import electorate
from participation.demo import demo_codes, load_demo_consultation, load_demo_round, load_demo_voting_round
from participation.electorate import ParticipationKeys
from participation.schemas import VerificationCreate

DEMO_DIR = Path(__file__).resolve().parent / "demo_data"
DISTRICTS_FILE = DEMO_DIR / "amsterdam_stadsdelen.geojson"
MUNICIPALITY_FILE = DEMO_DIR / "amsterdam_gemeente_2022.geojson"

SLUG = "amsterdam"
PASSWORD = "civicloop-demo"  # demo only: documented in the README, never use outside a demo
MARKER_EMAIL = "admin@demo.example.org"
RESIDENT_EMAIL = "bewoner@demo.example.org"
SEED = 20240611
REPORT_COUNT = 400
DEPARTMENTS = ("Wegen", "Verlichting", "Afval", "Groen", "Openbare ruimte")
# Reports per 400, roughly following population and footfall.
DISTRICT_WEIGHTS = {
    "Centrum": 70,
    "West": 52,
    "Zuid": 52,
    "Oost": 48,
    "Nieuw-West": 50,
    "Noord": 42,
    "Zuidoost": 38,
    "Weesp": 18,
    "Westpoort": 30,
}
_LOCK_KEY = 0x63697669  # "civi": serializes concurrent demo loads


class DemoConflict(Exception):
    """The database holds a jurisdiction ``amsterdam`` that the demo did not create."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    email: str
    role: str
    scope: str = ""


@dataclass(slots=True)
class DemoResult:
    loaded: bool
    accounts: list[DemoAccount]
    reports: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    areas: list[ImportResult] = field(default_factory=list)
    budget_round_id: int | None = None
    history_deliveries: int = 0
    work_reports: int = 0
    message_templates: int = 0
    motion_ids: list[int] = field(default_factory=list)
    voting_round_id: int | None = None
    consultation_round_ids: tuple[int, int] | None = None  # (open, closed)
    voting_codes: list[str] = field(default_factory=list)


ACCOUNTS = [
    DemoAccount(MARKER_EMAIL, "admin"),
    DemoAccount("wegen@demo.example.org", "field_staff", "Wegen"),
    DemoAccount("verlichting@demo.example.org", "field_staff", "Verlichting"),
    DemoAccount("afval@demo.example.org", "field_staff", "Afval"),
    DemoAccount("groen@demo.example.org", "field_staff", "Groen"),
    DemoAccount("openbareruimte@demo.example.org", "field_staff", "Openbare ruimte"),
    DemoAccount("raad.centrum@demo.example.org", "council_member", "Centrum"),
    DemoAccount(RESIDENT_EMAIL, "resident"),
]

POLE_FIELDS = [
    {
        "code": "pole_number",
        "label": {"nl": "Mastnummer", "en": "Pole number"},
        "description": {"nl": "Het nummer op de lantaarnpaal", "en": "The number on the lamp post"},
        "type": "string",
        "required": True,
        "order": 1,
    },
    {
        "code": "fault",
        "label": {"nl": "Soort storing", "en": "Kind of fault"},
        "type": "singlevaluelist",
        "required": False,
        "order": 2,
        "options": [
            {"key": "off", "label": {"nl": "Brandt niet", "en": "Not working"}},
            {"key": "flicker", "label": {"nl": "Knippert", "en": "Flickering"}},
            {"key": "day", "label": {"nl": "Brandt overdag", "en": "On during the day"}},
            {"key": "damaged", "label": {"nl": "Beschadigd", "en": "Damaged"}},
        ],
    },
]

# (code, parent, nl, en, department, extra settings)
CATEGORIES: list[tuple[str, str | None, str, str, str | None, dict[str, object]]] = [
    ("street", None, "Straat", "Street", None, {}),
    (
        "pothole",
        "street",
        "Gat in de weg",
        "Pothole",
        "Wegen",
        {"handling_days": 5, "keywords": ["kuil", "hole"]},
    ),
    (
        "loose-tile",
        "street",
        "Losliggende stoeptegel",
        "Loose paving stone",
        "Wegen",
        {"handling_days": 10, "keywords": ["tegel", "stoep", "tile"]},
    ),
    (
        "street-light",
        "street",
        "Kapotte straatverlichting",
        "Broken street light",
        "Verlichting",
        {"handling_days": 5, "extra_fields": POLE_FIELDS, "keywords": ["lamp", "lantaarnpaal", "licht"]},
    ),
    ("waste", None, "Afval", "Waste", None, {}),
    (
        "dumped-waste",
        "waste",
        "Gedumpt afval",
        "Dumped waste",
        "Afval",
        {"handling_days": 2, "handling_day_kind": "calendar", "keywords": ["vuilnis", "grofvuil", "rubbish"]},
    ),
    (
        "full-container",
        "waste",
        "Volle container",
        "Full container",
        "Afval",
        {"handling_days": 1, "handling_day_kind": "calendar"},
    ),
    ("green", None, "Groen", "Greenery", None, {}),
    (
        "fallen-tree",
        "green",
        "Omgevallen boom",
        "Fallen tree",
        "Groen",
        {"handling_days": 1, "keywords": ["tak"]},
    ),
    ("nuisance", None, "Overlast", "Nuisance", None, {}),
    ("noise", "nuisance", "Geluidsoverlast", "Noise", "Openbare ruimte", {"is_public": False}),
]

CATEGORY_WEIGHTS = {
    "pothole": 16,
    "loose-tile": 14,
    "street-light": 14,
    "dumped-waste": 24,
    "full-container": 18,
    "fallen-tree": 5,
    "noise": 9,
}

DESCRIPTIONS = {
    "pothole": [
        "Diep gat in het fietspad, gevaarlijk in het donker.",
        "Gat in de weg bij de bushalte, auto's wijken uit.",
        "Asfalt verzakt na de werkzaamheden.",
    ],
    "loose-tile": [
        "Stoeptegel ligt los en kantelt als je erop stapt.",
        "Meerdere tegels omhoog gedrukt door boomwortels.",
        "Losse tegel voor de ingang van de school.",
    ],
    "street-light": [
        "Lantaarnpaal brandt al een week niet.",
        "Straatlantaarn knippert de hele nacht.",
        "Lamp brandt overdag en 's nachts niet.",
    ],
    "dumped-waste": [
        "Matras en kapotte stoel naast de container gezet.",
        "Zakken huisvuil op de stoep, meeuwen trekken ze open.",
        "Bouwafval gedumpt in het plantsoen.",
    ],
    "full-container": [
        "Glasbak zit vol, flessen staan ernaast.",
        "Papiercontainer puilt uit.",
        "Restafvalcontainer kan niet meer dicht.",
    ],
    "fallen-tree": [
        "Boom omgewaaid over het fietspad.",
        "Grote tak afgebroken, hangt boven de stoep.",
    ],
    "noise": [
        "Elke nacht harde muziek uit het pand op de hoek.",
        "Geluidsoverlast van een bouwplaats voor 7 uur 's ochtends.",
    ],
}

# How the 400 reports end up, and the workflow path to each status from "submitted".
STATUS_WEIGHTS = {
    "submitted": 22,
    "accepted": 14,
    "scheduled": 9,
    "in_progress": 10,
    "on_hold": 4,
    "resolved": 30,
    "closed": 8,
    "reopened": 3,
}
PATHS: dict[str, list[Status]] = {
    "submitted": [],
    "accepted": [Status.ACCEPTED],
    "scheduled": [Status.ACCEPTED, Status.SCHEDULED],
    "in_progress": [Status.ACCEPTED, Status.SCHEDULED, Status.IN_PROGRESS],
    "on_hold": [Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD],
    "resolved": [Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED],
    "closed": [Status.CLOSED],
    "reopened": [Status.ACCEPTED, Status.RESOLVED, Status.REOPENED],
}
PUBLIC_MESSAGES = {
    Status.ACCEPTED: "Bedankt voor uw melding, we gaan ermee aan de slag.",
    Status.SCHEDULED: "Het herstel is ingepland.",
    Status.IN_PROGRESS: "Een ploeg is onderweg.",
    Status.ON_HOLD: "We wachten op materiaal van de leverancier.",
    Status.RESOLVED: "Het probleem is opgelost. Bedankt voor het melden!",
    Status.REOPENED: "De melding is heropend: het probleem blijkt terug.",
}
CLOSE_REASONS = [CloseReason.NOT_OURS, CloseReason.NO_ACTION_NEEDED, CloseReason.CANNOT_FIX]


async def demo_loaded(session: AsyncSession) -> bool:
    return (
        await session.scalar(
            select(Account.id)
            .join(Jurisdiction, Jurisdiction.id == Account.jurisdiction_id)
            .where(Jurisdiction.slug == SLUG, Account.email == MARKER_EMAIL)
        )
        is not None
    )


async def has_jurisdictions(session: AsyncSession) -> bool:
    return bool(await session.scalar(text("SELECT EXISTS (SELECT 1 FROM jurisdictions)")))


async def load_demo(
    session: AsyncSession,
    *,
    notification_settings: NotificationSettings,
    seed: int = SEED,
    report_count: int = REPORT_COUNT,
    participation_keys: ParticipationKeys | None = None,
) -> DemoResult:
    """Load the demo unless it is there already; flushes, the caller commits.

    A demo loaded before the voting round and the consultation existed gets them (once); the letters'
    codes are stored with ``participation_keys`` (the server's), so they work with this server."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    if await demo_loaded(session):
        result = DemoResult(loaded=False, accounts=ACCOUNTS)
        jurisdiction_id = await session.scalar(select(Jurisdiction.id).where(Jurisdiction.slug == SLUG))
        assert jurisdiction_id is not None
        if await _taking_part(session, jurisdiction_id, participation_keys, seed, result):
            # Its events (voting opened, answers received...) are demo history too, not news to mail.
            result.history_deliveries = await record_history_as_delivered(
                session, jurisdiction_id=jurisdiction_id, settings=notification_settings
            )
        return result
    if await session.scalar(select(Jurisdiction.id).where(Jurisdiction.slug == SLUG)) is not None:
        raise DemoConflict(
            f"a jurisdiction {SLUG!r} exists that the demo did not create; use an empty database for the demo"
        )
    rng = random.Random(seed)
    jurisdiction = Jurisdiction(
        slug=SLUG, name="Amsterdam", timezone="Europe/Amsterdam", holiday_country="NL", default_locale="nl"
    )
    session.add(jurisdiction)
    await session.flush()
    result = DemoResult(loaded=True, accounts=ACCOUNTS)

    municipality = read_features(
        MUNICIPALITY_FILE, name_property="gemeentenaam", code_property="gemeentecode"
    )
    result.areas.append(
        await import_areas(session, jurisdiction=jurisdiction, level="municipality", source=municipality)
    )
    districts = read_features(DISTRICTS_FILE, name_property="Stadsdeel", code_property="Stadsdeelcode")
    district_import = await import_areas(
        session, jurisdiction=jurisdiction, level="district", source=districts, parent_level="municipality"
    )
    result.areas.append(district_import)

    departments = {
        name: (await service.create_department(session, jurisdiction_id=jurisdiction.id, name=name)).id
        for name in DEPARTMENTS
    }
    categories: dict[str, Category] = {}
    for code, parent, nl, en, department, settings in CATEGORIES:
        data = CategoryCreate.model_validate(
            {
                "code": code,
                "parent": parent,
                "name": {"nl": nl, "en": en},
                "department_id": departments[department] if department else None,
                **settings,
            }
        )
        categories[code] = await service.create_category(session, jurisdiction_id=jurisdiction.id, data=data)

    staff: dict[int, Identity] = {}
    residents: list[Identity] = []
    council: list[Identity] = []
    for demo_account in ACCOUNTS:
        account, _ = await accounts.register_account(
            session,
            jurisdiction_id=jurisdiction.id,
            email=demo_account.email,
            password=PASSWORD,
            display_name=demo_account.email.split("@")[0],
            locale="nl",
            ttl_days=1,
        )
        scope: dict[str, int] = {}
        if demo_account.role == "field_staff":
            scope = {"department_id": departments[demo_account.scope]}
            staff[scope["department_id"]] = Identity(
                account_id=account.id,
                jurisdiction_id=jurisdiction.id,
                is_anonymous=False,
                department_ids=frozenset({scope["department_id"]}),
            )
        elif demo_account.role == "council_member":
            scope = {"area_id": district_import.area_ids[demo_account.scope]}
            council.append(
                Identity(
                    account_id=account.id,
                    jurisdiction_id=jurisdiction.id,
                    is_anonymous=False,
                    council_area_ids=frozenset({scope["area_id"]}),
                )
            )
        elif demo_account.role == "resident":
            residents.append(
                Identity(account_id=account.id, jurisdiction_id=jurisdiction.id, is_anonymous=False)
            )
        if demo_account.role != "resident":
            session.add(
                RoleGrant(
                    account_id=account.id, jurisdiction_id=jurisdiction.id, role=demo_account.role, **scope
                )
            )
    for _ in range(40):
        device, _ = await accounts.register_device(
            session, jurisdiction_id=jurisdiction.id, locale=rng.choice(["nl", "nl", "en"]), ttl_days=1
        )
        residents.append(Identity(account_id=device.id, jurisdiction_id=jurisdiction.id, is_anonymous=True))
    await session.flush()

    points = await _points(session, district_import.area_ids, report_count)
    rng.shuffle(points)
    now = datetime.now(UTC)
    plans: list[tuple[int, datetime, datetime, float]] = []
    codes, code_weights = zip(*CATEGORY_WEIGHTS.items(), strict=True)
    statuses, status_weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    for longitude, latitude in points:
        code = rng.choices(codes, code_weights)[0]
        category = categories[code]
        extra: dict[str, str] = {}
        if code == "street-light":
            extra = {
                "pole_number": f"{rng.randint(100000, 999999)}",
                "fault": rng.choice(["off", "flicker", "day", "damaged"]),
            }
        reporter = rng.choice(residents)
        report = await service.submit_report(
            session,
            jurisdiction=jurisdiction,
            data=ReportCreate(
                category=code,
                location={"type": "Point", "coordinates": (round(longitude, 6), round(latitude, 6))},
                description=rng.choice(DESCRIPTIONS[code]),
                extra=extra,
            ),
            reporter=reporter,
        )
        target = rng.choices(statuses, status_weights)[0]
        actor = staff[category.department_id] if category.department_id is not None else None
        version = report.version
        for step in PATHS[target]:
            assert actor is not None  # every selectable demo category has a department
            moved = await service.transition_report(
                session,
                jurisdiction_id=jurisdiction.id,
                report_id=report.id,
                actor=actor,
                data=TransitionCreate(
                    status=step,
                    reason=rng.choice(CLOSE_REASONS) if step is Status.CLOSED else None,
                    public_message=PUBLIC_MESSAGES.get(step, "Deze melding pakken wij niet op."),
                ),
                expected_version=version,
            )
            version = moved.version
        result.statuses[target] = result.statuses.get(target, 0) + 1
        # Older reports are rarer than recent ones; later steps follow hours to days apart.
        age_hours = 24 * 90 * rng.random() ** 1.6 + 1
        step_hours = min(rng.uniform(3, 96), age_hours / (len(PATHS[target]) + 1))
        created_at = now - timedelta(hours=age_hours)
        due = due_at(
            created_at,
            days=category.handling_days,
            kind=category.handling_day_kind,
            timezone=jurisdiction.timezone,
            country=jurisdiction.holiday_country,
        )
        plans.append((report.id, created_at, due, step_hours))
        if category.is_public and target in ("submitted", "accepted", "scheduled") and rng.random() < 0.15:
            supporter = rng.choice(residents)
            if supporter.account_id != reporter.account_id:
                await service.add_supporter(
                    session, jurisdiction_id=jurisdiction.id, report_id=report.id, resident=supporter
                )
        result.reports += 1
    # Work waiting for the demo's field staff near the Dam, reported by the demo resident.
    plans += await load_work_reports(
        session, jurisdiction=jurisdiction, categories=categories, staff=staff, reporter=residents[0], now=now
    )
    result.work_reports = len(WORK_SPOTS)
    result.message_templates = await load_message_templates(session, jurisdiction_id=jurisdiction.id)
    await _backdate(session, plans)
    # A neighbourhood budget that went from proposals to implementation updates (participation's demo).
    centrum = await session.scalar(
        text("SELECT id FROM areas WHERE jurisdiction_id = :j AND level = 'district' AND name = 'Centrum'"),
        {"j": jurisdiction.id},
    )
    if centrum is not None:
        result.budget_round_id = (await load_demo_round(session, jurisdiction.id, centrum)).id
        result.motion_ids = await load_demo_motions(
            session, jurisdiction_id=jurisdiction.id, area_id=centrum, member=council[0], now=now
        )
    await _taking_part(session, jurisdiction.id, participation_keys, seed, result)
    result.history_deliveries = await record_history_as_delivered(
        session, jurisdiction_id=jurisdiction.id, settings=notification_settings
    )
    return result


async def _taking_part(
    session: AsyncSession, jurisdiction_id: int, keys: ParticipationKeys | None, seed: int, result: DemoResult
) -> bool:
    """What a newcomer takes part in on ``make run``: a round in its voting phase (the demo resident's
    address is checked, so they vote with their account; five letters' codes for everyone else) and a
    consultation with an open round and a closed one with its results and "you said, we did". Whether
    anything was new (a demo loaded by an earlier version gets them once)."""
    centrum = await session.scalar(
        text("SELECT id FROM areas WHERE jurisdiction_id = :j AND level = 'district' AND name = 'Centrum'"),
        {"j": jurisdiction_id},
    )
    if centrum is None:
        return False
    count_sql = text(
        "SELECT (SELECT count(*) FROM budget_rounds WHERE jurisdiction_id = :j)"
        " + (SELECT count(*) FROM consultations WHERE jurisdiction_id = :j)"
    )
    before = await session.scalar(count_sql, {"j": jurisdiction_id})
    emails = dict(
        (
            await session.execute(
                select(Account.email, Account.id).where(
                    Account.jurisdiction_id == jurisdiction_id,
                    Account.email.in_([MARKER_EMAIL, RESIDENT_EMAIL]),
                )
            )
        ).all()
    )
    verified = await session.scalar(
        text("SELECT 1 FROM resident_verifications WHERE account_id = :a"), {"a": emails[RESIDENT_EMAIL]}
    )
    if verified is None:
        staff = Identity(
            account_id=emails[MARKER_EMAIL], jurisdiction_id=jurisdiction_id, is_anonymous=False, admin=True
        )
        await electorate.verify_resident(
            session,
            jurisdiction_id=jurisdiction_id,
            data=VerificationCreate(
                account_id=emails[RESIDENT_EMAIL],
                address={"type": "Point", "coordinates": (4.8932, 52.3728)},  # behind the Dam
                birth_date=date(1985, 4, 12),
            ),
            staff=staff,
        )
    result.voting_codes = demo_codes(seed)
    result.voting_round_id = (
        await load_demo_voting_round(
            session,
            jurisdiction_id=jurisdiction_id,
            area_id=centrum,
            keys=keys,
            codes=result.voting_codes if keys is not None else [],
            now=datetime.now(UTC),
        )
    ).id
    if keys is None:
        result.voting_codes = []
    result.consultation_round_ids = await load_demo_consultation(
        session,
        jurisdiction_id=jurisdiction_id,
        area_id=centrum,
        respondents=await _respondents(session, jurisdiction_id),
        seed=seed,
    )
    after = await session.scalar(count_sql, {"j": jurisdiction_id})
    return bool(after != before or verified is None)


async def _respondents(session: AsyncSession, jurisdiction_id: int) -> list[Identity]:
    """The consultation's 24 earlier respondents: registered accounts (a consultation takes no bare
    devices), without a password, made once."""
    emails = [f"buurt-{n:02}@demo.example.org" for n in range(1, 25)]
    known = dict(
        (
            await session.execute(
                select(Account.email, Account.id).where(
                    Account.jurisdiction_id == jurisdiction_id, Account.email.in_(emails)
                )
            )
        ).all()
    )
    made = [
        Account(jurisdiction_id=jurisdiction_id, email=email, is_anonymous=False, locale="nl")
        for email in emails
        if email not in known
    ]
    session.add_all(made)
    await session.flush()
    known |= {str(account.email): account.id for account in made}
    return [
        Identity(account_id=known[email], jurisdiction_id=jurisdiction_id, is_anonymous=False)
        for email in emails
    ]


_HISTORY_EVENTS = """
SELECT id, event_id, jurisdiction_id, topic, aggregate_type, aggregate_id, payload, created_at
FROM outbox_events WHERE jurisdiction_id = :j AND processed_at IS NULL ORDER BY id
"""
_HISTORY_DELIVERED = """
UPDATE notification_deliveries d
SET status = 'delivered', attempts = 1, delivered_at = e.created_at, created_at = e.created_at,
    updated_at = e.created_at, next_attempt_at = e.created_at
FROM outbox_events e
WHERE d.outbox_event_id = e.id AND e.jurisdiction_id = :j AND e.processed_at IS NULL
"""
_HISTORY_INBOX = """
INSERT INTO inbox_messages (account_id, event_id, topic, title, body, data, created_at, read_at)
SELECT d.account_id, d.event_id, d.topic, d.subject, d.body, d.data, e.created_at, e.created_at
FROM notification_deliveries d JOIN outbox_events e ON e.id = d.outbox_event_id
WHERE d.channel = 'inbox' AND e.jurisdiction_id = :j AND e.processed_at IS NULL
ON CONFLICT (event_id, account_id) DO NOTHING
"""
# What the worker's scheduler would have done with the satisfaction questions that fell due in the past.
_HISTORY_QUESTIONS = """
UPDATE satisfaction_requests s
SET issued_at = CASE WHEN r.status = 'resolved' THEN s.due_at END,
    cancelled_at = CASE WHEN r.status = 'resolved' THEN NULL ELSE s.due_at END
FROM reports r
WHERE r.id = s.report_id AND s.jurisdiction_id = :j AND s.issued_at IS NULL AND s.cancelled_at IS NULL
  AND s.due_at <= now()
"""


async def record_history_as_delivered(
    session: AsyncSession, *, jurisdiction_id: int, settings: NotificationSettings
) -> int:
    """Fan out the demo's events as the worker would, and record it all as delivered when it happened.

    Why not leave it to the worker: it would mail three months of history to the demo's residents on
    the first ``make run``. Why not just mark the events processed: the inbox, the dead-letter list and
    the loop metrics would then show a municipality that never told anyone anything.
    """
    await session.flush()
    rows = (await session.execute(text(_HISTORY_EVENTS), {"j": jurisdiction_id})).all()
    context = fanout.Context(session, settings)
    planned = []
    for row in rows:
        event = fanout.Event(
            id=row.id,
            event_id=str(row.event_id),
            jurisdiction_id=row.jurisdiction_id,
            topic=row.topic,
            aggregate_type=row.aggregate_type,
            aggregate_id=row.aggregate_id,
            payload=row.payload,
            created_at=row.created_at,
        )
        planned += await fanout.plan_deliveries(context, event)
    await fanout.write_deliveries(session, planned)
    parameters = {"j": jurisdiction_id}
    await session.execute(text(_HISTORY_DELIVERED), parameters)
    await session.execute(text(_HISTORY_INBOX), parameters)
    await session.execute(text(_HISTORY_QUESTIONS), parameters)
    await session.execute(
        text(
            "UPDATE outbox_events SET processed_at = created_at"
            " WHERE jurisdiction_id = :j AND processed_at IS NULL"
        ),
        parameters,
    )
    return len(planned)


async def _points(
    session: AsyncSession, district_ids: dict[str, int], total: int
) -> list[tuple[float, float]]:
    """Points inside each district polygon, in proportion to the district weights; seeded, so repeatable."""
    weight_sum = sum(DISTRICT_WEIGHTS.get(name, 10) for name in district_ids)
    points: list[tuple[float, float]] = []
    for index, (name, area_id) in enumerate(sorted(district_ids.items())):
        count = round(total * DISTRICT_WEIGHTS.get(name, 10) / weight_sum)
        if index == len(district_ids) - 1:
            count = total - len(points)
        if count <= 0:
            continue
        rows = await session.execute(
            text(
                "SELECT ST_X(d.geom), ST_Y(d.geom) FROM areas a,"
                " ST_Dump(ST_GeneratePoints(a.geom, :count, :seed)) AS d WHERE a.id = :id ORDER BY d.path"
            ),
            {"count": count, "seed": SEED + index, "id": area_id},
        )
        points.extend((float(x), float(y)) for x, y in rows)
    return points


_BACKDATE_CHANGES = """
WITH plan AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:created AS timestamptz[]),
                         CAST(:due AS timestamptz[]), CAST(:steps AS float8[]))
        AS p(report_id, created_at, due_at, step)
), ranked AS (
    SELECT c.id,
           p.created_at + (row_number() OVER (PARTITION BY c.report_id ORDER BY c.id) - 1)
               * p.step * interval '1 hour' AS at
    FROM report_status_changes c JOIN plan p USING (report_id)
)
UPDATE report_status_changes c SET created_at = ranked.at FROM ranked WHERE c.id = ranked.id
"""
_BACKDATE_REPORTS = """
WITH plan AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:created AS timestamptz[]),
                         CAST(:due AS timestamptz[]), CAST(:steps AS float8[]))
        AS p(report_id, created_at, due_at, step)
), latest AS (
    SELECT report_id, max(created_at) AS at FROM report_status_changes
    WHERE report_id = ANY(CAST(:ids AS bigint[])) GROUP BY report_id
)
UPDATE reports r
SET created_at = plan.created_at, due_at = plan.due_at, updated_at = latest.at,
    resolved_at = CASE WHEN r.resolved_at IS NOT NULL THEN latest.at END
FROM plan JOIN latest USING (report_id)
WHERE r.id = plan.report_id
"""


# Each status change wrote one event (the submission too): the nth event of a report is its nth change.
_BACKDATE_EVENTS = """
WITH changes AS (
    SELECT report_id, created_at, row_number() OVER (PARTITION BY report_id ORDER BY id) AS n
    FROM report_status_changes WHERE report_id = ANY(CAST(:ids AS bigint[]))
), events AS (
    SELECT id, aggregate_id AS report_id, row_number() OVER (PARTITION BY aggregate_id ORDER BY id) AS n
    FROM outbox_events
    WHERE aggregate_type = 'report' AND topic IN ('report.submitted', 'report.status_changed')
      AND aggregate_id = ANY(CAST(:ids AS bigint[]))
)
UPDATE outbox_events o SET created_at = changes.created_at
FROM events JOIN changes USING (report_id, n)
WHERE o.id = events.id
"""
_BACKDATE_OTHER_EVENTS = """
UPDATE outbox_events o SET created_at = r.updated_at FROM reports r
WHERE o.aggregate_type = 'report' AND o.aggregate_id = r.id AND r.id = ANY(CAST(:ids AS bigint[]))
  AND o.topic NOT IN ('report.submitted', 'report.status_changed')
"""


async def _backdate(session: AsyncSession, plans: list[tuple[int, datetime, datetime, float]]) -> None:
    """Spread the reports over the past three months, their status changes hours to days apart."""
    if not plans:
        return
    await session.flush()
    ids, created, due, steps = (list(column) for column in zip(*plans, strict=True))
    parameters = {"ids": ids, "created": created, "due": due, "steps": steps}
    await session.execute(text(_BACKDATE_CHANGES), parameters)
    await session.execute(text(_BACKDATE_REPORTS), parameters)
    await session.execute(text(_BACKDATE_EVENTS), {"ids": ids})
    await session.execute(text(_BACKDATE_OTHER_EVENTS), {"ids": ids})
    await session.execute(
        text(
            "UPDATE report_supporters s SET created_at = r.updated_at FROM reports r"
            " WHERE r.id = s.report_id AND r.id = ANY(CAST(:ids AS bigint[]))"
        ),
        {"ids": ids},
    )
