// Take part: the budget rounds and consultations of my neighbourhood (where the phone is, or my
// verified address) first, the rest of the city below; a way in with the code from a letter.
import { h, heading, failure, loading } from "../js/ui.js";
import * as geo from "../js/geo.js";
import { money, roundDates, put } from "../js/participation.js";

export async function render(main, ctx) {
  const { t, api, session } = ctx;
  put(main, heading(t("take_part.title")), h("p", {}, t("take_part.intro")));
  const status = h("div", {}, loading());
  put(main, 
    status,
    h(
      "p",
      { class: "notice" },
      t("take_part.have_code"),
      " ",
      h("a", { href: "/vote" }, t("take_part.enter_code")),
    ),
  );
  let left = false;
  fill();
  return () => {
    left = true;
  };

  async function fill() {
    const position = await geo.once(4000);
    if (left) return;
    let answer;
    try {
      answer = await api.rounds.takingPart(session.jurisdiction().slug, position ? [position.longitude, position.latitude] : null);
    } catch (error) {
      status.replaceChildren(failure(error, () => ctx.rerender()));
      return;
    }
    if (left) return;
    const near = (r) => r.concerns.length > 0;
    const parts = [];
    if (answer.verified_address === false) parts.push(h("p", { class: "meta" }, t("take_part.not_verified")));
    const budgets = answer.budget_rounds;
    const asks = answer.consultation_rounds;
    parts.push(
      section("take-part-near", t("take_part.near_title"), budgets.filter(near), asks.filter(near), t(position || answer.verified_address ? "take_part.near_empty" : "take_part.no_position")),
    );
    if (budgets.some((r) => !near(r)) || asks.some((r) => !near(r))) {
      parts.push(section("take-part-city", t("take_part.city_title"), budgets.filter((r) => !near(r)), asks.filter((r) => !near(r)), ""));
    }
    status.replaceChildren(...parts);
  }

  function section(id, title, budgets, asks, empty) {
    const items = [...budgets.map(budgetCard), ...asks.map(consultationCard)];
    return h(
      "section",
      { "aria-labelledby": id },
      h("h2", { id }, title),
      items.length ? h("ul", { class: "cards" }, items) : h("p", {}, empty),
    );
  }

  function why(round) {
    if (round.concerns.includes("address")) return t("take_part.by_address", { area: round.area_name });
    if (round.concerns.includes("location")) return t("take_part.by_location", { area: round.area_name });
    return round.area_name;
  }

  function budgetCard(round) {
    const { i18n } = ctx;
    const action = {
      voting: [round.voted ? "take_part.change_vote" : "take_part.vote", `/rounds/${round.id}/vote`],
      results: ["take_part.see_results", `/rounds/${round.id}/results`],
      implementation: ["take_part.see_progress", `/rounds/${round.id}/results`],
      proposals: ["take_part.send_idea", `/rounds/${round.id}`],
      review: ["take_part.see_ideas", `/rounds/${round.id}`],
    }[round.phase];
    return h(
      "li",
      { class: "card" },
      h(
        "div",
        { class: "body" },
        h("p", { class: "meta" }, t("take_part.kind_budget")),
        h("h3", {}, h("a", { class: "title", href: `/rounds/${round.id}` }, round.title)),
        h("p", {}, h("span", { class: `tag phase-${round.phase}` }, t(`phase.${round.phase}`)), " ", why(round)),
        h("p", { class: "meta" }, t("take_part.budget", { amount: money(i18n, round.budget, round.currency) }), " ", roundDates(t, i18n, round)),
        round.voted ? h("p", { class: "notice success" }, t("take_part.you_voted")) : null,
        action ? h("p", {}, h("a", { href: action[1] }, t(action[0]))) : null,
      ),
    );
  }

  function consultationCard(round) {
    const { i18n } = ctx;
    const open = round.status === "open";
    const href = open ? `/consultation-rounds/${round.id}` : `/consultation-rounds/${round.id}/results`;
    return h(
      "li",
      { class: "card" },
      h(
        "div",
        { class: "body" },
        h("p", { class: "meta" }, t("take_part.kind_consultation")),
        h("h3", {}, h("a", { class: "title", href }, `${round.consultation_title}: ${round.title}`)),
        h("p", {}, h("span", { class: `tag consultation-${round.status}` }, t(`consultation.status_${round.status}`)), " ", why(round)),
        open && round.closes_at ? h("p", { class: "meta" }, t("take_part.answer_until", { date: i18n.dateTime(round.closes_at) })) : null,
        round.responded ? h("p", { class: "notice success" }, t("take_part.you_answered")) : null,
        round.you_said_we_did ? h("p", {}, h("a", { href: `/consultation-rounds/${round.id}/results` }, t("take_part.you_said_we_did"))) : null,
      ),
    );
  }
}
