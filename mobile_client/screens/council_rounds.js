// Budget rounds and consultations in my areas (administrators: all), with how many took part and how
// many of them heard what was done with their input.
import { h, heading, failure, loading } from "../js/ui.js";

export async function render(main, ctx) {
  const { t, i18n, api } = ctx;
  main.append(heading(t("council_rounds.title")), h("p", {}, t("council_rounds.intro")));
  const box = h("div", {}, loading());
  main.append(box);
  let found;
  try {
    found = await api.council.participation();
  } catch (error) {
    box.replaceChildren(failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  const share = (value) => (value === null ? t("dashboard.no_data") : i18n.number(value, { style: "percent", maximumFractionDigits: 0 }));
  const money = (amount, currency) => i18n.number(Number(amount), { style: "currency", currency, maximumFractionDigits: 0 });
  const dates = (from, to) => [from ? i18n.date(from) : null, to ? i18n.date(to) : null].filter(Boolean).join(" – ");
  box.replaceChildren(
    h("h2", {}, t("council_rounds.budget_rounds")),
    found.budget_rounds.length
      ? h(
          "ul",
          { class: "cards" },
          found.budget_rounds.map((r) =>
            h(
              "li",
              { class: "card", dataset: { roundId: r.id } },
              h(
                "div",
                { class: "body" },
                h("h3", {}, r.title),
                h("p", { class: "meta" }, `${r.area_name} · ${t(`council_rounds.phase.${r.phase}`)} · ${money(r.budget, r.currency)}`),
                dates(r.voting_opens_at, r.voting_closes_at) ? h("p", { class: "meta" }, t("council_rounds.voting", { dates: dates(r.voting_opens_at, r.voting_closes_at) })) : null,
                h(
                  "dl",
                  { class: "summary-list" },
                  h("dt", {}, t("council_rounds.proposals")),
                  h("dd", {}, i18n.number(r.proposals)),
                  h("dt", {}, t("council_rounds.voters")),
                  h("dd", { dataset: { measure: "voters" } }, i18n.number(r.voters)),
                  h("dt", {}, t("council_rounds.told")),
                  h("dd", { dataset: { measure: "told" } }, `${share(r.told_share)} (${t("dashboard.of", { part: r.told, whole: r.voters })})`),
                ),
              ),
            ),
          ),
        )
      : h("p", {}, t("council_rounds.no_budget_rounds")),
    h("h2", {}, t("council_rounds.consultations")),
    found.consultation_rounds.length
      ? h(
          "ul",
          { class: "cards" },
          found.consultation_rounds.map((r) =>
            h(
              "li",
              { class: "card", dataset: { roundId: r.id } },
              h(
                "div",
                { class: "body" },
                h("h3", {}, r.consultation_title === r.title ? r.title : `${r.consultation_title}: ${r.title}`),
                h("p", { class: "meta" }, `${r.area_name} · ${t(`council_rounds.status.${r.status}`)}`),
                dates(r.opens_at, r.closes_at) ? h("p", { class: "meta" }, dates(r.opens_at, r.closes_at)) : null,
                h(
                  "dl",
                  { class: "summary-list" },
                  h("dt", {}, t("council_rounds.responses")),
                  h("dd", { dataset: { measure: "responses" } }, i18n.number(r.responses)),
                  h("dt", {}, t("council_rounds.told")),
                  h("dd", { dataset: { measure: "told" } }, `${share(r.told_share)} (${t("dashboard.of", { part: r.told, whole: r.responses })})`),
                ),
                h("p", { class: "meta" }, r.you_said_we_did_published ? t("council_rounds.published") : t("council_rounds.not_published")),
              ),
            ),
          ),
        )
      : h("p", {}, t("council_rounds.no_consultations")),
  );
}
