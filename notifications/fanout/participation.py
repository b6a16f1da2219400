"""Participation's events (``participation.events``, read through the payload registry: ``notifications``
does not import ``participation``). Each payload says what it tells whom as a ``core.events.Notice``;
this module only turns that into messages: the people named and the area's subscribers, the title, the
link to the app's page (``?j=`` names the jurisdiction), the funded projects each with its page.

Receipts (``ballot.received``, ``response.received``) link nowhere and never carry the ballot or the
response: they confirm, nothing more. ``round.phase_changed``, ``proposal.reviewed``,
``consultation.closed`` and the motions tell nobody here (webhooks still get them).
"""

from __future__ import annotations

from notifications import templates
from notifications.fanout import recipients
from notifications.fanout.base import Context, Event, Outcome, Plan, handles, localized

TOPICS = (
    "round.voting_opened",
    "ballot.received",
    "round.results_published",
    "project.progress",
    "consultation.opened",
    "response.received",
    "consultation.you_said_we_did",
)


@handles(*TOPICS)
async def participation(ctx: Context, event: Event) -> Outcome:
    notice = (await ctx.registered_payload(event)).notice()
    if notice is None:
        return Outcome([])
    told = await recipients.accounts(ctx, event, notice.account_ids)
    if notice.area_id is not None:
        known = {r.account_id for r in told}
        told += [
            r
            for r in await recipients.area_subscribers(ctx, event, notice.area_id)
            if r.account_id not in known
        ]
    slug = (await ctx.jurisdiction(event.jurisdiction_id)).slug
    url = notice.url or (ctx.app_url(notice.link, jurisdiction=slug) if notice.link else "")
    # Funded projects are listed with their page, where a resident can follow one to hear of its progress.
    items = [(title, ctx.app_url(link, jurisdiction=slug) if link else "") for title, link in notice.items]

    def values(locale: str) -> dict[str, object]:
        item_lines = [
            f"- {localized(title, locale)}" + (f": {link}" if link else "") for title, link in items
        ]
        if item_lines:
            item_lines.insert(0, templates.label(locale, "participation", "funded_projects"))
        return {
            "title": localized(notice.title, locale),
            "url": url,
            "message": localized(notice.message, locale),
            "status": templates.label(locale, "progress", notice.status) if notice.status else "",
            "projects": "\n".join(item_lines),
            "actions": "\n".join(f"- {localized(action, locale)}" for action in notice.actions),
        }

    data = dict(notice.data)
    if url:
        data["url"] = url
    return Outcome([Plan("participation", event.topic, told, values, data=data)])
