// One report: status, the timeline with the municipality's public messages and after-photos, the due
// date, follow / stop following, and "is it fixed?" when the municipality asks.
import { h, heading, statusTag, failure, button, announce, errorSentence } from "../js/ui.js";
import { satisfactionQuestion } from "./feedback.js";

export async function render(main, ctx) {
  const { t, i18n, api, session } = ctx;
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  const slug = session.jurisdiction()?.slug || ctx.query.get("j");
  let report;
  try {
    report = await api.reports.one(id, slug || undefined);
  } catch (error) {
    main.append(heading(t("detail.title_plain")));
    if (error.status === 404) main.append(h("p", {}, t("detail.not_found")));
    else main.append(failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  main.append(heading(t("detail.heading", { id: report.id, category: i18n.pick(report.category_name) })));
  const facts = h("dl", { class: "summary-list" });
  const fact = (term, value) => value && facts.append(h("dt", {}, term), h("dd", {}, value));
  fact(t("detail.status"), statusTag(report.status));
  fact(t("detail.reported_on"), i18n.dateTime(report.created_at));
  if (report.due_at && !report.resolved_at) fact(t("detail.due"), i18n.date(report.due_at));
  if (report.resolved_at) fact(t("detail.resolved_on"), i18n.date(report.resolved_at));
  fact(t("detail.place"), [report.address, report.area?.name].filter(Boolean).join(", "));
  fact(t("detail.supporters"), t("detail.supporters_count", { count: report.supporters }));
  main.append(facts, h("h2", {}, t("detail.description")), h("p", {}, report.description));
  if (report.merged_into_id) {
    main.append(h("p", { class: "notice" }, t("detail.merged"), " ", h("a", { href: `/reports/${report.merged_into_id}` }, t("detail.merged_link", { id: report.merged_into_id }))));
  }
  if (report.photos.length) {
    main.append(
      h("h2", {}, t("detail.photos")),
      h("ul", { class: "photos" }, report.photos.map((p, i) => h("li", {}, h("a", { href: p.url, "data-external": "" }, h("img", { src: p.thumbnail_url, alt: t("detail.photo_alt", { number: i + 1 }) }))))),
    );
  }

  const question = h("section", {});
  const follow = h("section", {});
  main.append(question, follow);

  main.append(h("h2", {}, t("detail.timeline")));
  const timeline = h("ol", { class: "timeline" });
  for (const change of [...report.history].reverse()) {
    timeline.append(
      h(
        "li",
        {},
        h("p", {}, statusTag(change.to_status), " ", h("span", { class: "meta" }, i18n.dateTime(change.created_at))),
        change.reason ? h("p", { class: "meta" }, i18n.has(`reason.${change.reason}`) ? t(`reason.${change.reason}`) : change.reason) : null,
        change.public_message ? h("blockquote", { class: "message" }, h("p", {}, change.public_message)) : null,
        change.photo ? h("img", { src: change.photo.thumbnail_url, alt: t("detail.after_photo"), width: 160 }) : null,
      ),
    );
  }
  main.append(timeline);

  if (!session.isRegistered()) return;
  // Do I follow it, and is there a question for me? (Both need the network; the page works without.)
  Promise.all([api.reports.mine({ report_id: id }).catch(() => null), api.feedback.mine().catch(() => [])]).then(([mine, asked]) => {
    if (!ctx.isCurrent()) return;
    const open = (asked || []).find((r) => r.report_id === id && r.issued_at && !r.answered_at);
    if (open) {
      question.append(
        satisfactionQuestion(ctx, {
          onAnswer: async (answer) => {
            const item = await ctx.outbox.enqueue("satisfaction", { jurisdiction: slug, requestId: open.id, answer }, { summary: { reportId: id } });
            const done = await ctx.outbox.settled(item.id, 8000);
            if (done?.state === "failed") throw done.error;
            return done?.state === "sent" ? done.result : { waiting: true };
          },
        }),
      );
    }
    const item = mine?.items?.find((r) => r.id === id);
    let following = Boolean(item?.following);
    const toggle = button("", async () => {
      toggle.disabled = true;
      try {
        if (following) await api.reports.unfollow(id);
        else await api.reports.follow(id);
        following = !following;
        paint();
        announce(following ? t("detail.now_following") : t("detail.not_following"));
      } catch (error) {
        announce(errorSentence(error));
        follow.append(h("p", { class: "field-error" }, errorSentence(error)));
      } finally {
        toggle.disabled = false;
      }
    }, { kind: "secondary" });
    const note = h("p", { class: "meta" });
    const paint = () => {
      toggle.textContent = following ? t("detail.unfollow") : t("detail.follow");
      toggle.setAttribute("aria-pressed", String(following));
      note.textContent = following ? t("detail.following_hint") : t("detail.follow_hint");
    };
    paint();
    follow.append(h("h2", {}, t("detail.follow_title")), note, toggle);
  });
}
