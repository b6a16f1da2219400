// The outcome of a budget round: which projects get money and which do not, each with why (in words,
// from the tally's numbers), on a map and as a list; how far the funded ones are ("your neighbourhood's
// money at work"); follow a project to hear of its progress (a request of its own: the ballot stays
// secret); and, for someone who voted, that their vote was included.
import { h, heading, failure, button, announce, errorSentence } from "../js/ui.js";
import { jurisdictionOf, linkTo, money, phaseLine, projectMap, explanationSentence, put } from "../js/participation.js";

export async function render(main, ctx) {
  const { t, i18n, api, session } = ctx;
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  const slug = await jurisdictionOf(ctx);
  const mine = session.isRegistered() && session.jurisdiction()?.slug === slug;
  let round;
  let results;
  let proposals;
  try {
    round = await api.rounds.one(slug, id);
    [results, proposals] = await Promise.all([api.rounds.results(slug, id), api.rounds.proposals(slug, id, "feasible")]);
  } catch (error) {
    put(main, heading(t("results.title")));
    if (error.code === "results-not-published") {
      put(main, h("p", { class: "notice" }, t("results.not_yet")), h("p", {}, h("a", { href: linkTo(ctx, `/rounds/${id}`) }, t("ballot.about_round"))));
    } else {
      put(main, failure(error, () => ctx.rerender()));
    }
    return;
  }
  if (!ctx.isCurrent()) return;
  const byId = new Map(proposals.map((p) => [p.id, p]));
  const funded = results.projects.filter((p) => p.selected);
  const notFunded = results.projects.filter((p) => !p.selected);
  put(main, heading(t("results.heading", { round: round.title })), phaseLine(t, round.phase));
  const included = h("div", {});
  put(main, 
    h("p", {}, t("results.voters", { count: results.num_participations ?? results.num_ballots ?? 0 })),
    h("p", {}, t("results.spent", { count: funded.length, spent: money(i18n, results.spent, round.currency), budget: money(i18n, round.budget, round.currency) })),
    included,
    h("p", { class: "meta" }, t(round.rule === "greedy" ? "ballot.count_greedy" : "ballot.count_mes", { budget: money(i18n, round.budget, round.currency) })),
  );
  if (mine) {
    api.rounds.eligibility(slug, id).then(
      (me) => {
        if (me.voted && ctx.isCurrent()) included.replaceChildren(h("p", { class: "notice success" }, t("ballot.included")));
      },
      () => {},
    );
  }

  const mapBox = h("div", { class: "map", id: "results-map" });
  const toggle = button(t("round.hide_map"), () => {
    mapBox.hidden = !mapBox.hidden;
    toggle.textContent = mapBox.hidden ? t("round.show_map") : t("round.hide_map");
    toggle.setAttribute("aria-expanded", String(!mapBox.hidden));
  }, { kind: "secondary", "aria-controls": "results-map", "aria-expanded": "true" });
  const picked = h("div", { "aria-live": "polite" });
  put(main, h("div", { class: "view-switch" }, toggle), mapBox, h("p", { class: "meta" }, t("results.map_legend")), picked);

  const card = (project, level = "h3") => {
    const proposal = byId.get(project.id);
    const progress = project.selected && proposal?.progress_percent != null;
    const item = h(
      "li",
      { class: `card result ${project.selected ? "funded" : "not-funded"}`, dataset: { project: String(project.id) } },
      h(
        "div",
        { class: "body" },
        h(level, {}, h("a", { class: "title", href: linkTo(ctx, `/rounds/${id}/projects/${project.id}`) }, project.title)),
        h(
          "p",
          {},
          h("span", { class: `tag ${project.selected ? "result-funded" : "result-not-funded"}` }, t(project.selected ? "results.funded" : "results.not_funded")),
          " ",
          h("span", { class: "meta" }, money(i18n, project.cost, round.currency)),
        ),
        h("p", { class: "explanation" }, explanationSentence(t, i18n, project.explanation, round.currency)),
        progress
          ? h(
              "p",
              { class: "meta" },
              h("label", { for: `progress-${project.id}` }, t("results.progress", { status: t(`progress.${proposal.implementation_status || "planned"}`) })),
              " ",
              h("progress", { id: `progress-${project.id}`, max: 100, value: proposal.progress_percent }),
              " ",
              t("results.percent", { percent: proposal.progress_percent }),
            )
          : null,
      ),
    );
    if (project.selected && mine) item.querySelector(".body").append(followButton(project));
    return item;
  };

  function followButton(project) {
    const holder = h("div", { class: "actions" });
    let following = false;
    const draw = () => {
      holder.replaceChildren(
        button(t(following ? "project.unfollow_named" : "project.follow_named", { title: project.title }), async () => {
          try {
            if (following) await api.rounds.unfollow(slug, id, project.id);
            else await api.rounds.follow(slug, id, project.id);
            following = !following;
            draw();
            holder.querySelector("button").focus();
            announce(t(following ? "project.now_following" : "project.stopped_following", { title: project.title }));
          } catch (error) {
            announce(errorSentence(error));
          }
        }, { kind: "secondary" }),
      );
    };
    api.rounds.following(slug, id, project.id).then(
      (answer) => {
        following = answer.following;
        draw();
      },
      () => draw(),
    );
    return holder;
  }

  put(main, 
    h("h2", { id: "funded-title" }, t("results.funded_title", { count: funded.length })),
    round.phase === "implementation" ? h("p", {}, t("results.money_at_work")) : null,
    funded.length ? h("ul", { class: "cards", "aria-labelledby": "funded-title" }, funded.map((p) => card(p))) : h("p", {}, t("results.none_funded")),
    h("h2", { id: "not-funded-title" }, t("results.not_funded_title", { count: notFunded.length })),
    notFunded.length ? h("ul", { class: "cards", "aria-labelledby": "not-funded-title" }, notFunded.map((p) => card(p))) : h("p", {}, t("results.all_funded")),
  );

  let handle = null;
  let left = false;
  drawMap();
  return () => {
    left = true;
    handle?.map.remove();
  };

  async function drawMap() {
    try {
      handle = await projectMap(mapBox, ctx, {
        slug,
        projects: results.projects.map((p) => ({ id: p.id, location: byId.get(p.id)?.location, state: p.selected ? "funded" : "not_funded" })),
        label: t("results.map_label"),
        onSelect: (pid) => {
          const project = results.projects.find((p) => p.id === pid);
          if (!project) return;
          picked.replaceChildren(
            h(
              "div",
              { class: "card" },
              h("div", { class: "body" },
                h("p", {}, h("a", { href: linkTo(ctx, `/rounds/${id}/projects/${project.id}`) }, project.title), " ", h("span", { class: "meta" }, t(project.selected ? "results.funded" : "results.not_funded"))),
                h("p", {}, explanationSentence(t, i18n, project.explanation, round.currency)),
              ),
            ),
          );
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
