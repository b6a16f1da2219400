// My reports: what waits in the outbox (waiting for network, or refused and to be fixed) and what
// the server has, newest first, each with its status.
import { h, heading, statusTag, errorSentence, failure, loading, button, announce } from "../js/ui.js";

export async function render(main, ctx) {
  const { t, i18n, outbox } = ctx;
  main.append(heading(t("my_reports.title")));
  const queued = h("section", { "aria-labelledby": "queued-title" });
  const listed = h("section", { "aria-labelledby": "listed-title" }, loading());
  main.append(queued, listed);

  const renderQueue = async () => {
    const items = (await outbox.items({ kind: "report" })).filter((item) => item.state !== "sent");
    if (!ctx.isCurrent()) return;
    queued.replaceChildren();
    if (!items.length) return;
    queued.append(h("h2", { id: "queued-title" }, t("my_reports.queued")));
    const list = h("ul", { class: "cards" });
    for (const item of items) {
      const state = item.state === "failed" ? "failed" : "waiting";
      list.append(
        h(
          "li",
          { class: "card" },
          h(
            "div",
            { class: "body" },
            h("h3", {}, item.summary.categoryName || item.summary.category || t("my_reports.report")),
            h("p", {}, statusTag(state), " ", h("span", { class: "meta" }, i18n.dateTime(item.createdAt))),
            h("p", {}, item.summary.description),
            item.state === "failed"
              ? [
                  h("p", { class: "field-error" }, errorSentence(item.error)),
                  button(t("my_reports.fix"), async () => {
                    const { editFailed } = await import("./report.js");
                    editFailed(item);
                    await outbox.discard(item.id);
                    ctx.navigate("/report");
                  }),
                  button(t("my_reports.delete"), async () => {
                    await outbox.discard(item.id);
                    announce(t("my_reports.deleted"));
                  }, { kind: "warning" }),
                ]
              : h("p", { class: "meta" }, t("my_reports.waiting_hint")),
          ),
        ),
      );
    }
    queued.append(list);
  };

  const renderList = async () => {
    let answer;
    try {
      answer = await ctx.api.reports.mine({ limit: 100 });
    } catch (error) {
      if (!ctx.isCurrent()) return;
      listed.replaceChildren(h("h2", { id: "listed-title" }, t("my_reports.sent")), failure(error, renderList));
      return;
    }
    if (!ctx.isCurrent()) return;
    listed.replaceChildren(h("h2", { id: "listed-title" }, t("my_reports.sent")));
    if (!answer.items.length) {
      listed.append(h("p", {}, t("my_reports.empty")), h("a", { class: "button primary", href: "/report" }, t("nav.report")));
      return;
    }
    const list = h("ul", { class: "cards" });
    for (const report of answer.items) {
      list.append(
        h(
          "li",
          { class: "card" },
          report.thumbnail_url ? h("img", { class: "thumb", src: report.thumbnail_url, alt: "" }) : null,
          h(
            "div",
            { class: "body" },
            h(
              "h3",
              {},
              h("a", { class: "title", href: `/reports/${report.id}` }, t("my_reports.item_title", { id: report.id, category: i18n.pick(report.category_name) })),
            ),
            h("p", {}, statusTag(report.status), " ", h("span", { class: "meta" }, t("my_reports.updated", { date: i18n.date(report.updated_at) }))),
            h("p", { class: "meta" }, report.reported ? t("my_reports.you_reported") : t("my_reports.you_follow")),
          ),
        ),
      );
    }
    listed.append(list);
  };

  await Promise.all([renderQueue(), renderList()]);
  let sentBefore = null;
  const stop = outbox.subscribe(async () => {
    await renderQueue();
    const sent = (await outbox.items({ kind: "report" })).filter((i) => i.state === "sent").length;
    if (sentBefore !== null && sent !== sentBefore) renderList();
    sentBefore = sent;
  });
  return stop;
}
