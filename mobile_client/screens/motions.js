// The motions of my council: open ones first (with my vote, or that I have not voted yet), drafts my
// council can open, then decided ones with their outcome. An administrator sees every council's.
import { h, heading, failure, loading } from "../js/ui.js";

export function motionTag(t, motion) {
  const state = motion.status === "closed" ? motion.outcome || "closed" : motion.status;
  return h("span", { class: `tag motion-${state}` }, t(`motion.state.${state}`));
}

export async function render(main, ctx) {
  const { t, i18n, api } = ctx;
  main.append(heading(t("motions.title")), h("p", {}, t("motions.intro")));
  const box = h("div", {}, loading());
  main.append(box);
  let motions;
  try {
    motions = await api.council.motions();
  } catch (error) {
    box.replaceChildren(failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  box.replaceChildren();
  if (!motions.length) {
    box.append(h("p", {}, t("motions.empty")));
    return;
  }
  for (const group of ["open", "draft", "closed"]) {
    const found = motions.filter((m) => m.status === group);
    if (!found.length) continue;
    const titleId = `motions-${group}`;
    box.append(
      h(
        "section",
        { "aria-labelledby": titleId },
        h("h2", { id: titleId }, t(`motions.group.${group}`)),
        h(
          "ul",
          { class: "cards" },
          found.map((m) =>
            h(
              "li",
              { class: "card" },
              h(
                "div",
                { class: "body" },
                h("h3", {}, h("a", { class: "title", href: `/motions/${m.id}` }, m.title)),
                h("p", {}, motionTag(t, m), " ", h("span", { class: "meta" }, m.area_name)),
                m.status === "open"
                  ? h(
                      "p",
                      { class: "meta" },
                      m.my_choice ? t("motions.you_voted", { choice: t(`motion.choice.${m.my_choice}`) }) : m.may_vote ? t("motions.not_voted") : "",
                      m.closes_at ? ` ${t("motions.closes", { date: i18n.dateTime(m.closes_at) })}` : "",
                    )
                  : null,
                m.status === "closed" && m.closed_at ? h("p", { class: "meta" }, t("motions.closed_on", { date: i18n.date(m.closed_at) })) : null,
              ),
            ),
          ),
        ),
      ),
    );
  }
}
