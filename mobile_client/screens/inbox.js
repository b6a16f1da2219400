// The in-app messages from the municipality, newest first; opening one marks it read.
import { h, heading, failure, button, announce } from "../js/ui.js";

export async function render(main, ctx) {
  const { t, i18n, api } = ctx;
  main.append(heading(t("inbox.title")));
  let messages;
  try {
    messages = await api.messages.inbox();
  } catch (error) {
    main.append(failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  if (!messages.length) {
    main.append(h("p", {}, t("inbox.empty")));
    return;
  }
  const unread = messages.filter((m) => !m.read_at).length;
  main.append(h("p", {}, t("inbox.unread", { count: unread })));
  if (unread) {
    const all = button(t("inbox.read_all"), async () => {
      await api.messages.readAll();
      announce(t("inbox.all_read"));
      ctx.refreshBadges();
      ctx.rerender();
    }, { kind: "secondary" });
    main.append(all);
  }
  const list = h("ul", { class: "cards" });
  for (const message of messages) {
    const id = `message-${message.id}`;
    const body = h("div", { id, hidden: true }, message.body.split("\n").filter(Boolean).map((line) => h("p", {}, line)));
    const reportId = message.data?.report_id;
    if (reportId) body.append(h("p", {}, h("a", { href: `/reports/${reportId}` }, message.data?.satisfaction_request_id ? t("inbox.answer_question") : t("inbox.open_report", { id: reportId }))));
    const page = !reportId && appPage(message.data?.url);
    if (page) body.append(h("p", {}, h("a", { href: page }, t("inbox.open_page"))));
    const state = h("span", { class: "meta" }, message.read_at ? "" : t("inbox.new"));
    const toggle = button(message.title, async () => {
      body.hidden = !body.hidden;
      toggle.setAttribute("aria-expanded", String(!body.hidden));
      if (!message.read_at) {
        try {
          const read = await api.messages.read(message.id);
          message.read_at = read.read_at;
          card.classList.remove("unread");
          state.textContent = "";
          ctx.refreshBadges();
        } catch {
          // stays unread; no harm
        }
      }
    }, { kind: "link", "aria-expanded": "false", "aria-controls": id });
    const card = h(
      "li",
      { class: `card${message.read_at ? "" : " unread"}` },
      h("div", { class: "body" }, h("h2", {}, toggle), h("p", { class: "meta" }, i18n.dateTime(message.created_at), " ", state), body),
    );
    list.append(card);
  }
  main.append(list);
}

/** A link in a message that opens a page of this app (budget rounds, consultations), as a path. */
function appPage(url) {
  try {
    const parsed = new URL(url, location.origin);
    return parsed.origin === location.origin && !parsed.pathname.startsWith("/api/") ? parsed.pathname + parsed.search : null;
  } catch {
    return null;
  }
}
