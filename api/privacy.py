"""A resident's own data: all of it as JSON (the AVG/GDPR's right of access and portability), and the
account's deletion with its reports kept, anonymised (the right to erasure).

It lives in the composition root because it reads and changes the tables of every package. What is
*not* in the export, by design: ballots (no table links a voter to a ballot, see
docs/ballot-secrecy.md: the export says in which rounds the resident voted, never what), and tokens.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import AccountHasRoles
from core.errors import WrongPassword
from core.identity import Account, Identity

# One query per section, each returning one JSON value (rows as objects); :a is the account id.
_SECTIONS: dict[str, str] = {
    "account": """SELECT json_build_object('id', a.id, 'jurisdiction', j.slug, 'email', a.email,
        'display_name', a.display_name, 'locale', a.locale, 'anonymous_device', a.is_anonymous,
        'created_at', a.created_at) FROM accounts a JOIN jurisdictions j ON j.id = a.jurisdiction_id
        WHERE a.id = :a""",
    "roles": """SELECT coalesce(json_agg(json_build_object('role', role, 'area_id', area_id,
        'department_id', department_id) ORDER BY id), '[]') FROM role_grants WHERE account_id = :a""",
    "reports": """SELECT coalesce(json_agg(json_build_object('id', r.id, 'category', c.code,
        'status', r.status, 'description', r.description, 'address', r.address,
        'location', ST_AsGeoJSON(r.location)::json, 'extra', r.extra, 'public', r.is_public,
        'contact_email', r.reporter_email, 'contact_phone', r.reporter_phone, 'created_at', r.created_at,
        'photos', (SELECT coalesce(json_agg(p.id ORDER BY p.id), '[]') FROM photos p
            WHERE p.report_id = r.id),
        'history', (SELECT coalesce(json_agg(json_build_object('status', s.to_status,
            'message', s.public_message, 'at', s.created_at) ORDER BY s.id), '[]')
            FROM report_status_changes s WHERE s.report_id = r.id)) ORDER BY r.id), '[]')
        FROM reports r JOIN categories c ON c.id = r.category_id WHERE r.reporter_account_id = :a""",
    "followed_reports": """SELECT coalesce(json_agg(report_id ORDER BY report_id), '[]')
        FROM report_followers WHERE account_id = :a""",
    "supported_reports": """SELECT coalesce(json_agg(report_id ORDER BY report_id), '[]')
        FROM report_supporters WHERE account_id = :a""",
    "satisfaction_answers": """SELECT coalesce(json_agg(json_build_object('report_id', report_id,
        'answered_at', answered_at, 'fixed', fixed) ORDER BY id), '[]')
        FROM satisfaction_requests WHERE account_id = :a AND answered_at IS NOT NULL""",
    "reopen_requests": """SELECT coalesce(json_agg(json_build_object('report_id', report_id,
        'status', status, 'decided_at', decided_at, 'decision_message', decision_message) ORDER BY id), '[]')
        FROM reopen_requests WHERE account_id = :a""",
    "inbox": """SELECT coalesce(json_agg(json_build_object('title', title, 'body', body, 'topic', topic,
        'created_at', created_at, 'read_at', read_at) ORDER BY id), '[]')
        FROM inbox_messages WHERE account_id = :a""",
    "notification_preferences": """SELECT coalesce(json_agg(json_build_object('kind', kind,
        'channel', channel, 'enabled', enabled) ORDER BY kind, channel), '[]')
        FROM notification_preferences WHERE recipient = 'account:' || :a""",
    "area_subscriptions": """SELECT coalesce(json_agg(json_build_object('area_id', area_id,
        'frequency', frequency, 'created_at', created_at) ORDER BY id), '[]')
        FROM area_subscriptions WHERE account_id = :a""",
    "push_subscriptions": """SELECT coalesce(json_agg(json_build_object('endpoint', endpoint,
        'created_at', created_at) ORDER BY id), '[]') FROM push_subscriptions WHERE account_id = :a""",
    "address_verification": """SELECT json_build_object('address', ST_AsGeoJSON(address)::json,
        'birth_date', birth_date, 'verified_at', verified_at)
        FROM resident_verifications WHERE account_id = :a""",
    "budget_proposals": """SELECT coalesce(json_agg(json_build_object('id', id, 'round_id', round_id,
        'title', title, 'description', description, 'status', status) ORDER BY id), '[]')
        FROM budget_proposals WHERE author_account_id = :a""",
    "followed_projects": """SELECT coalesce(json_agg(proposal_id ORDER BY proposal_id), '[]')
        FROM budget_project_followers WHERE account_id = :a""",
    "voted_in_rounds": """SELECT coalesce(json_agg(json_build_object('round_id', round_id,
        'channel', channel) ORDER BY round_id), '[]') FROM voter_participations WHERE account_id = :a""",
    "consultation_responses": """SELECT coalesce(json_agg(json_build_object('round_id', r.round_id,
        'updated_at', r.updated_at, 'answers', (SELECT coalesce(json_agg(json_build_object(
            'question_id', x.question_id, 'choices', x.choices, 'number', x.number, 'text', x.text_value,
            'point', ST_AsGeoJSON(x.point)::json) ORDER BY x.question_id), '[]')
            FROM consultation_answers x WHERE x.response_id = r.id)) ORDER BY r.id), '[]')
        FROM consultation_responses r WHERE r.account_id = :a""",
    "council_votes": """SELECT coalesce(json_agg(json_build_object('motion_id', motion_id,
        'choice', choice, 'cast_at', cast_at) ORDER BY motion_id), '[]')
        FROM council_motion_votes WHERE account_id = :a""",
}


async def export(session: AsyncSession, *, account_id: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "about": "All data civicloop keeps about your account. Ballots are secret: no table links you to"
        " yours, so only the rounds you voted in are listed.",
    }
    for name, sql in _SECTIONS.items():
        value = await session.scalar(text(sql), {"a": account_id})
        data[name] = json.loads(value) if isinstance(value, str) else value
    return data


async def delete_account(
    session: AsyncSession, *, identity: Identity, verify_password: Any, password: str | None
) -> None:
    """Delete the account and everything that is only its own; its reports stay, anonymised (contact data
    erased, no reporter). Staff, council members and administrators are deleted by an administrator (their
    grants first): their actions are part of the municipality's record."""
    account = await session.get_one(Account, identity.account_id, with_for_update=True)
    grants = await session.scalar(
        text("SELECT count(*) FROM role_grants WHERE account_id = :a"), {"a": account.id}
    )
    if grants:
        raise AccountHasRoles("this account holds roles; an administrator must revoke them first")
    if not account.is_anonymous:
        if password is None or not await verify_password(account.password_hash, password):
            raise WrongPassword("give the account's password to delete it")
    parameters = {"a": account.id, "email": account.email, "recipient": f"account:{account.id}"}
    for statement in (
        # Reports stay for the municipality and the neighbourhood, without anything that names the reporter.
        "UPDATE reports SET reporter_email = NULL, reporter_phone = NULL, reporter_account_id = NULL,"
        " anonymised_at = now() WHERE reporter_account_id = :a",
        # Messages on their way or sent to the account hold its address and their texts.
        "DELETE FROM notification_deliveries WHERE account_id = :a",
        "DELETE FROM notification_preferences WHERE recipient = :recipient",
        "DELETE FROM account_links WHERE account_id = :a OR device_account_id = :a OR email = :email",
        # The rest goes with the account row (tokens, follows, "me too"s, inbox, push, area alerts,
        # consultation responses, satisfaction answers); participations keep the one-vote lock, nameless.
        "DELETE FROM accounts WHERE id = :a",
    ):
        await session.execute(text(statement), parameters)
