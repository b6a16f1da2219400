// One budget round: where it stands (phase, dates, budget), what to do now (send an idea, vote, see
// the results) and its ideas or projects on a map and as a list, with the staff's review of each.
import { h, heading, failure, button } from "../js/ui.js";
import { jurisdictionOf, linkTo, money, phaseLine, roundDates, projectMap, put } from "../js/participation.js";

export async function render(main, ctx) {
  const { t, i18n, api } = ctx;
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  const slug = await jurisdictionOf(ctx);
  let round;
  let proposals;
  try {
    [round, proposals] = await Promise.all([api.rounds.one(slug, id), api.rounds.proposals(slug, id)]);
  } catch (error) {
    put(main, heading(t("round.title")), error.status === 404 ? h("p", {}, t("round.not_found")) : failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  put(main, heading(round.title), phaseLine(t, round.phase));
  const facts = h("dl", { class: "summary-list" });
  const fact = (term, value) => value && put(facts, h("dt", {}, term), h("dd", {}, value));
  fact(t("round.budget"), money(i18n, round.budget, round.currency));
  fact(t("round.phase_now"), t(`phase.${round.phase}_explained`));
  fact(t("round.dates"), roundDates(t, i18n, round));
  put(main, facts);
  if (round.description) put(main, h("p", {}, round.description));

  const next = h("div", { class: "actions" });
  if (round.phase === "proposals") {
    put(next, h("a", { class: "button primary", href: `/rounds/${id}/propose` }, t("round.send_idea")));
  } else if (round.phase === "voting") {
    put(next, h("a", { class: "button primary", href: linkTo(ctx, `/rounds/${id}/vote`) }, t("round.vote")));
  } else if (round.phase === "results" || round.phase === "implementation") {
    put(next, h("a", { class: "button primary", href: linkTo(ctx, `/rounds/${id}/results`) }, t("round.see_results")));
  }
  put(main, next);

  const visible = proposals.filter((p) => p.status !== "withdrawn");
  const listTitle = t(["proposals", "review"].includes(round.phase) ? "round.ideas_title" : "round.projects_title");
  const mapBox = h("div", { class: "map", id: "round-map" });
  const toggle = button(t("round.hide_map"), () => {
    mapBox.hidden = !mapBox.hidden;
    toggle.textContent = mapBox.hidden ? t("round.show_map") : t("round.hide_map");
    toggle.setAttribute("aria-expanded", String(!mapBox.hidden));
  }, { kind: "secondary", "aria-controls": "round-map", "aria-expanded": "true" });
  const chosen = h("div", { "aria-live": "polite" });
  const pending = h("div", {});
  put(main, 
    h("h2", { id: "round-list-title" }, listTitle, " ", h("span", { class: "meta" }, t("round.count", { count: visible.length }))),
    pending,
    visible.length ? h("div", { class: "view-switch" }, toggle) : null,
    visible.length ? mapBox : null,
    chosen,
    visible.length
      ? h("ul", { class: "cards", "aria-labelledby": "round-list-title" }, visible.map((p) => card(p, "h3")))
      : h("p", {}, t("round.no_ideas")),
  );

  function card(proposal, level) {
    const review = {
      submitted: t("round.review_pending"),
      feasible: proposal.review_reason || "",
      infeasible: proposal.review_reason || "",
    }[proposal.status];
    const cost = proposal.final_cost ?? proposal.estimated_cost;
    return h(
      "li",
      { class: "card" },
      proposal.photo_ids[0] ? h("img", { class: "thumb", src: api.rounds.photoUrl(slug, proposal.photo_ids[0], true), alt: "" }) : null,
      h(
        "div",
        { class: "body" },
        h(level, {}, h("a", { class: "title", href: linkTo(ctx, `/rounds/${id}/projects/${proposal.id}`) }, proposal.title)),
        h("p", {}, h("span", { class: `tag proposal-${proposal.status}` }, t(`proposal.${proposal.status}`)), " ", h("span", { class: "meta" }, money(i18n, cost, round.currency))),
        review ? h("p", { class: "meta" }, review) : null,
      ),
    );
  }

  // Ideas this phone sent that still wait for the network (or were refused).
  const showPending = async () => {
    const waiting = (await ctx.outbox.items({ kind: "proposal" })).filter((item) => item.payload.roundId === id && item.state !== "sent");
    pending.replaceChildren(
      ...waiting.map((item) =>
        h("p", { class: "notice" }, t(item.state === "failed" ? "round.idea_refused" : "round.idea_waiting", { title: item.summary.title })),
      ),
    );
  };
  const stop = ctx.session.isRegistered() ? ctx.outbox.subscribe(showPending) : () => {};
  if (ctx.session.isRegistered()) showPending();

  let handle = null;
  let left = false;
  if (visible.length) drawMap();
  return () => {
    left = true;
    stop();
    handle?.map.remove();
  };

  async function drawMap() {
    try {
      const state = (p) => (p.selected === true ? "funded" : p.selected === false ? "not_funded" : "idea");
      handle = await projectMap(mapBox, ctx, {
        slug,
        projects: visible.map((p) => ({ id: p.id, location: p.location, state: state(p) })),
        label: t("round.map_label"),
        onSelect: (pid) => {
          const proposal = visible.find((p) => p.id === pid);
          if (proposal) chosen.replaceChildren(h("ul", { class: "cards" }, card(proposal, "h3")));
        },
      });
      if (left) return handle.map.remove();
      mapBox.dataset.ready = "true";
    } catch (error) {
      console.warn("no map", error);
      mapBox.replaceWith(h("p", { class: "notice warning" }, t("round.no_map")));
    }
  }
}

