"""Texts: both languages have every key, every key the app uses exists, and the families of keys
built at run time (statuses, reasons, kinds, channels) are complete."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

import pytest

from geo.workflow import CloseReason, Status
from notifications.schemas import Kind, UserChannel
from participation.workflow import MotionStatus, Phase

APP = Path(__file__).resolve().parent.parent.parent / "mobile_client"
CATALOGS = {lang: json.loads((APP / "i18n" / f"{lang}.json").read_text()) for lang in ("nl", "en")}
SOURCES = sorted([*APP.glob("js/*.js"), *APP.glob("screens/*.js")])
LITERAL = re.compile(r"""\bt\(\s*["']([a-z0-9_.-]+)["']""")
SCREEN_KEYS = re.compile(r"""(?:title|label):\s*"([a-z_]+\.[a-z_.]+)\"""")
TEMPLATE = re.compile(r"""\bt\(\s*`([a-z0-9_.]*)\$\{""")


PHASES = [phase.value for phase in Phase]
# Every refusal a resident can meet while voting, proposing or answering: said as a sentence.
PARTICIPATION_ERRORS = [
    "unknown-code",
    "code-revoked",
    "code-for-another-round",
    "code-already-used",
    "codes-not-accepted",
    "accounts-not-accepted",
    "already-voted",
    "address-not-verified",
    "outside-area",
    "too-young",
    "age-not-verified",
    "voting-closed",
    "voting-not-open",
    "ballot-in-progress",
    "ballot-rule-violation",
    "proposals-closed",
    "location-outside-area",
    "consultation-not-open",
    "invalid-answers",
    "round-not-found",
    "results-not-published",
]
# The codes of the refusals the app shows next to a question or a ballot, read from the services, so a
# new rule without a sentence fails here.
PARTICIPATION = APP.parent / "participation"
ANSWER_VIOLATIONS = sorted(
    set(
        re.findall(
            r'_violation\([^,()]+, "([a-z-]+)"',
            (PARTICIPATION / "consultations" / "answering.py").read_text(),
        )
    )
)
BALLOT_VIOLATIONS = sorted(
    set(re.findall(r'_violation\(\s*"([a-z-]+)"', (PARTICIPATION / "ballots.py").read_text()))
)


def used_keys() -> set[str]:
    keys = set()
    for path in SOURCES:
        text = path.read_text()
        keys |= set(LITERAL.findall(text))
        if path.name.endswith("screens.js"):  # the registry and participation_screens.js
            keys |= set(SCREEN_KEYS.findall(text))
    html = (APP / "index.html").read_text()
    keys |= set(re.findall(r'data-i18n(?:-label)?="([^"]+)"', html))
    return keys


def test_both_languages_have_the_same_keys() -> None:
    assert set(CATALOGS["nl"]) == set(CATALOGS["en"])


def test_plural_texts_have_one_and_other_in_both_languages() -> None:
    for lang, catalog in CATALOGS.items():
        for key, text in catalog.items():
            if isinstance(text, dict):
                assert set(text) == {"one", "other"}, (lang, key)
                assert isinstance(CATALOGS["nl" if lang == "en" else "en"][key], dict), key


def test_placeholders_agree_between_the_languages() -> None:
    def names(text: str | dict[str, str]) -> set[str]:
        texts = text.values() if isinstance(text, dict) else [text]
        return {name for t in texts for name in re.findall(r"\{(\w+)\}", t)}

    for key, text in CATALOGS["nl"].items():
        assert names(text) == names(CATALOGS["en"][key]), key


def test_every_key_the_app_uses_exists() -> None:
    used = used_keys()
    assert len(used) > 150  # the scan finds the keys (a broken pattern would find none)
    assert sorted(used - set(CATALOGS["nl"])) == []


def test_the_keys_made_at_run_time_exist() -> None:
    prefixes = set()
    for path in SOURCES:
        prefixes |= set(TEMPLATE.findall(path.read_text()))
    families = {
        "status.": [s.value for s in Status] + ["waiting", "failed", "sent"],
        "reason.": [r.value for r in CloseReason],
        "kind.": list(get_args(Kind)),
        "channel.": list(get_args(UserChannel)),
        "level.": ["municipality", "district", "neighbourhood"],
        "feedback.answer_": ["yes", "partly", "no"],
        "report.location.gps_": ["denied", "unavailable", "unsupported"],
        "settings.frequency_": ["instant", "daily"],
        "errors.": ["photo-unreadable", "photo-too-large", *PARTICIPATION_ERRORS],
        "phase.": [*PHASES, *(f"{phase}_explained" for phase in PHASES)],
        "proposal.": ["submitted", "feasible", "infeasible", "withdrawn"],
        "progress.": ["planned", "in_progress", "completed", "cancelled"],
        "consultation.status_": ["open", "closed"],
        "consultation.violation.": ANSWER_VIOLATIONS,
        "ballot.violation.": BALLOT_VIOLATIONS,
        # Field staff and council screens.
        "staff.to.": [s.value for s in Status],
        "motions.group.": [s.value for s in MotionStatus],
        "motion.state.": [s.value for s in MotionStatus] + ["adopted", "rejected", "no_quorum"],
        "motion.choice.": ["yes", "no", "abstain"],
        "motion.majority.": ["simple", "absolute", "two_thirds"],
        "motion.to.": ["open", "closed"],
        "motion.confirm.": ["open", "closed"],
        "motion.confirm_text.": ["open", "closed"],
        "motion.done.": ["open", "closed"],
        "motion.manage_hint.": ["open", "closed"],
        "dashboard.figure.": [
            "inputs",
            "outcome_messaged",
            "outcome_message_share",
            "median_hours_to_first_response",
            "median_hours_to_resolution",
            "deadline_due",
            "deadline_met",
            "deadline_compliance",
            "satisfaction_answers",
            "satisfaction_score",
            "fixed_share",
            "resolved",
            "reopened",
            "reopen_rate",
        ],
        "dashboard.input.": ["reports", "votes", "consultation_responses"],
        "council_rounds.phase.": [p.value for p in Phase],
        "council_rounds.status.": ["draft", "open", "closed"],
    }
    assert prefixes <= set(families), f"a new family of run-time keys: {prefixes - set(families)}"
    missing = [prefix + member for prefix, members in families.items() for member in members]
    assert [key for key in missing if key not in CATALOGS["nl"]] == []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_text_is_empty_or_left_untranslated(lang: str) -> None:
    other = CATALOGS["en" if lang == "nl" else "nl"]
    for key, text in CATALOGS[lang].items():
        assert text, key
        if isinstance(text, str) and len(text) > 25:
            assert text != other[key], f"{key} is the same in both languages"
