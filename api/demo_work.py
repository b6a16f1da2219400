"""The demo's field staff and council at work: what they find when they sign in on ``make run``.

- Open reports of every department at named places within a few hundred metres of the Dam (the point a
  phone without a position fix, and the browser tests, start from), one of them overdue and two of them
  the same pothole (to merge), with the demo resident as reporter so their app hears back; and a corner
  where rubbish keeps being dumped (five resolved reports over three months): a hotspot for the council.
- Public message templates per status (and one for street lights only), in Dutch and English.
- Motions for the Centrum council: one open to vote on, one draft to open, one closed with its roll call.

Part of the demo load (``api/demo.py``): same transaction, same marker, so deterministic and idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import Identity
from geo import message_templates, service
from geo.deadlines import due_at
from geo.models import Category, Jurisdiction
from geo.schemas import Contact, MessageTemplateCreate, ReportCreate, TransitionCreate
from geo.workflow import Status
from participation import council_votes
from participation.schemas import MotionCreate

# (status, category or None, title nl, title en, text nl, text en)
TEMPLATES = [
    (
        "accepted",
        None,
        "Bedankt, we pakken het op",
        "Thank you, we are on it",
        "Bedankt voor uw melding. We gaan ermee aan de slag.",
        "Thank you for your report. We are going to work on it.",
    ),
    (
        "scheduled",
        None,
        "Ingepland",
        "Scheduled",
        "Het herstel is ingepland. U hoort van ons als het klaar is.",
        "The repair is scheduled. We will let you know when it is done.",
    ),
    (
        "in_progress",
        None,
        "Ploeg onderweg",
        "Crew on its way",
        "Een ploeg is onderweg.",
        "A crew is on its way.",
    ),
    (
        "on_hold",
        None,
        "Wachten op materiaal",
        "Waiting for material",
        "We wachten op materiaal van de leverancier. Daarna gaan we verder.",
        "We are waiting for material from the supplier. Then we continue.",
    ),
    (
        "resolved",
        None,
        "Opgelost",
        "Fixed",
        "Het probleem is opgelost. Bedankt voor het melden!",
        "The problem is fixed. Thank you for reporting it!",
    ),
    (
        "resolved",
        "street-light",
        "Lamp vervangen",
        "Lamp replaced",
        "We hebben de lamp vervangen. De lantaarnpaal brandt weer.",
        "We replaced the lamp. The street light works again.",
    ),
    (
        "closed",
        None,
        "Niet van de gemeente",
        "Not the municipality's",
        "De gemeente is hier niet verantwoordelijk voor. We hebben uw melding doorgestuurd.",
        "The municipality is not responsible for this. We passed your report on.",
    ),
    (
        "reopened",
        None,
        "Heropend",
        "Reopened",
        "We kijken opnieuw naar uw melding.",
        "We are looking at your report again.",
    ),
]

TEMPLATES_BY_STATUS = {status: text for status, category, _, _, text, _ in TEMPLATES if category is None}


@dataclass(frozen=True, slots=True)
class WorkSpot:
    place: str
    point: tuple[float, float]
    category: str
    description: str
    path: tuple[Status, ...] = ()
    age_hours: float = 2.0
    extra: tuple[tuple[str, str], ...] = ()
    contact_email: str | None = None


# Named places around the Dam (4.8927, 52.3731); every department has open work here.
WORK_SPOTS = [
    WorkSpot(
        "Rokin 10",
        (4.89205, 52.37125),
        "pothole",
        "Diep gat in het fietspad op het Rokin, fietsers wijken uit naar de tramrails.",
        contact_email="bewoner@demo.example.org",
    ),
    WorkSpot(
        "Rokin 14",
        (4.89195, 52.37110),
        "pothole",
        "Gat in het fietspad bij de tramhalte Rokin.",
        age_hours=1.0,
    ),
    WorkSpot(
        "Damrak 1",
        (4.89420, 52.37460),
        "loose-tile",
        "Losse stoeptegels voor de ingang, iemand is al gestruikeld.",
        path=(Status.ACCEPTED,),
        age_hours=30.0,
    ),
    WorkSpot(
        "Nieuwezijds Voorburgwal 150",
        (4.89010, 52.37360),
        "pothole",
        "Asfalt verzakt voor het Paleis, grote plas na de regen.",
        path=(Status.ACCEPTED, Status.SCHEDULED),
        age_hours=24 * 12,  # five working days are long gone: overdue
    ),
    WorkSpot(
        "Kalverstraat 1",
        (4.89180, 52.37250),
        "street-light",
        "Lantaarnpaal op de hoek brandt al een week niet.",
        extra=(("pole_number", "104233"), ("fault", "off")),
        age_hours=5.0,
    ),
    WorkSpot(
        "Warmoesstraat 20",
        (4.89590, 52.37420),
        "dumped-waste",
        "Matras en kapotte stoel naast de container gezet.",
        age_hours=3.0,
    ),
    # The same corner keeps filling up with dumped rubbish: a hotspot on the council's dashboard.
    *(
        WorkSpot(
            "Warmoesstraat 18",
            (4.89585 + 0.00005 * n, 52.37415 + 0.00003 * n),
            "dumped-waste",
            "Weer vuilniszakken en grofvuil naast de container op de hoek.",
            path=(Status.ACCEPTED, Status.RESOLVED),
            age_hours=24 * days,
        )
        for n, days in enumerate((9, 23, 41, 58, 76))
    ),
    WorkSpot(
        "Beursplein",
        (4.89500, 52.37380),
        "full-container",
        "Papiercontainer puilt uit, dozen waaien over het plein.",
        path=(Status.ACCEPTED,),
        age_hours=20.0,
    ),
    WorkSpot(
        "Nieuwe Kerk",
        (4.89140, 52.37380),
        "fallen-tree",
        "Grote tak afgebroken, hangt boven de stoep naast de kerk.",
        age_hours=4.0,
    ),
    WorkSpot(
        "Oudezijds Voorburgwal 100",
        (4.89750, 52.37300),
        "noise",
        "Elke nacht harde muziek uit het pand op de hoek.",
        age_hours=6.0,
    ),
]

# (title, description, status the motion ends in, the member's vote)
MOTIONS = [
    (
        "Meer fietsenrekken rond de Dam",
        "De raad vraagt het dagelijks bestuur om voor de zomer 200 extra fietsenrekken te plaatsen rond de "
        "Dam, zodat fietsen niet meer op de stoep staan.",
        "open",
        None,
    ),
    (
        "Proef met een autovrije zondag in de Jordaan",
        "De raad stelt voor om op de eerste zondag van de maand de Jordaan autovrij te maken, als proef "
        "van drie maanden.",
        "draft",
        None,
    ),
    (
        "Bankjes in de schaduw op het Rembrandtplein",
        "De raad vraagt om zes bankjes in de schaduw op het Rembrandtplein, uit het buurtbudget.",
        "closed",
        "yes",
    ),
]


async def load_message_templates(session: AsyncSession, *, jurisdiction_id: int) -> int:
    for status, category, title_nl, title_en, text_nl, text_en in TEMPLATES:
        await message_templates.create_template(
            session,
            jurisdiction_id=jurisdiction_id,
            data=MessageTemplateCreate.model_validate(
                {
                    "status": status,
                    "category": category,
                    "title": {"nl": title_nl, "en": title_en},
                    "text": {"nl": text_nl, "en": text_en},
                }
            ),
        )
    return len(TEMPLATES)


async def load_work_reports(
    session: AsyncSession,
    *,
    jurisdiction: Jurisdiction,
    categories: dict[str, Category],
    staff: dict[int, Identity],
    reporter: Identity,
    now: datetime,
) -> list[tuple[int, datetime, datetime, float]]:
    """Submit and move the reports of ``WORK_SPOTS``; returns the demo's backdating plans for them."""
    plans = []
    for spot in WORK_SPOTS:
        category = categories[spot.category]
        report = await service.submit_report(
            session,
            jurisdiction=jurisdiction,
            data=ReportCreate(
                category=spot.category,
                location={"type": "Point", "coordinates": spot.point},
                description=spot.description,
                address=spot.place,
                extra=dict(spot.extra),
                contact=Contact(email=spot.contact_email) if spot.contact_email else None,
            ),
            reporter=reporter,
        )
        version = report.version
        assert category.department_id is not None
        for step in spot.path:
            moved = await service.transition_report(
                session,
                jurisdiction_id=jurisdiction.id,
                report_id=report.id,
                actor=staff[category.department_id],
                data=TransitionCreate(status=step, public_message=TEMPLATES_BY_STATUS.get(step.value)),
                expected_version=version,
            )
            version = moved.version
        created_at = now - timedelta(hours=spot.age_hours)
        due = due_at(
            created_at,
            days=category.handling_days,
            kind=category.handling_day_kind,
            timezone=jurisdiction.timezone,
            country=jurisdiction.holiday_country,
        )
        plans.append((report.id, created_at, due, spot.age_hours / (len(spot.path) + 2)))
    return plans


async def load_demo_motions(
    session: AsyncSession, *, jurisdiction_id: int, area_id: int, member: Identity, now: datetime
) -> list[int]:
    """The Centrum council's motions; the closed one was voted on by the demo council member."""
    ids = []
    for title, description, status, choice in MOTIONS:
        motion = await council_votes.create_motion(
            session,
            jurisdiction_id=jurisdiction_id,
            data=MotionCreate(
                area_id=area_id,
                title=title,
                description=description,
                quorum=Decimal("0.5"),
                majority="simple",
            ),
            actor=member,
        )
        if status != "draft":
            opened = now - timedelta(days=9 if status == "closed" else 1)
            await council_votes.change_motion_status(
                session, motion=motion, to="open", actor=member, now=opened
            )
        if choice is not None:
            await council_votes.cast_motion_vote(session, motion=motion, voter=member, choice=choice)
        if status == "closed":
            await council_votes.change_motion_status(
                session, motion=motion, to="closed", actor=member, now=now - timedelta(days=2)
            )
        ids.append(motion.id)
    return ids
