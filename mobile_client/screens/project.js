// One idea or project of a budget round: what it is, the staff's review (feasible or not, the public
// reason, the final cost), after the vote why it was or was not funded, and for a funded project its
// progress with dated updates and photos. Follow it to hear of its progress (a request of its own).
import { h, heading, failure, button, announce, errorSentence } from "../js/ui.js";
import { jurisdictionOf, linkTo, money, explanationSentence, put } from "../js/participation.js";

export async function render(main, ctx) {
  const { t, i18n, api, session } = ctx;
  const id = Number(ctx.params.id);
  const projectId = Number(ctx.params.project);
  if (![id, projectId].every((n) => Number.isInteger(n) && n > 0)) return ctx.navigate("/not-found", { replace: true });
  const slug = await jurisdictionOf(ctx);
  let round;
  let proposal;
  try {
    [round, proposal] = await Promise.all([api.rounds.one(slug, id), api.rounds.proposal(slug, id, projectId)]);
  } catch (error) {
    put(main, heading(t("project.title")), error.status === 404 ? h("p", {}, t("project.not_found")) : failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  put(main, heading(proposal.title));
  const tags = h("p", {}, h("span", { class: `tag proposal-${proposal.status}` }, t(`proposal.${proposal.status}`)));
  if (proposal.selected !== null) {
    put(tags, " ", h("span", { class: `tag ${proposal.selected ? "result-funded" : "result-not-funded"}` }, t(proposal.selected ? "results.funded" : "results.not_funded")));
  }
  put(main, tags);
  const facts = h("dl", { class: "summary-list" });
  const fact = (term, value) => value && put(facts, h("dt", {}, term), h("dd", {}, value));
  fact(t("project.estimated_cost"), money(i18n, proposal.estimated_cost, round.currency));
  if (proposal.final_cost) fact(t("project.final_cost"), money(i18n, proposal.final_cost, round.currency));
  fact(t("project.round"), h("a", { href: linkTo(ctx, `/rounds/${id}`) }, round.title));
  fact(t("project.place"), proposal.location ? t("project.on_the_map") : t("project.whole_area"));
  put(main, facts, h("h2", {}, t("project.what")), h("p", {}, proposal.description));
  if (proposal.photo_ids.length) {
    put(main, 
      h("ul", { class: "photos", "aria-label": t("project.photos") }, proposal.photo_ids.map((photo, index) =>
        h("li", {}, h("a", { href: api.rounds.photoUrl(slug, photo), "data-external": "" }, h("img", { src: api.rounds.photoUrl(slug, photo, true), alt: t("project.photo_alt", { number: index + 1 }) })))),
      ),
    );
  }

  put(main, h("h2", {}, t("project.review")));
  if (proposal.status === "submitted") put(main, h("p", {}, t("round.review_pending")));
  else if (proposal.status === "withdrawn") put(main, h("p", {}, t("proposal.withdrawn")));
  else {
    put(main, 
      h("p", {}, t(proposal.status === "feasible" ? "project.feasible" : "project.infeasible")),
      proposal.review_reason ? h("p", { class: "message" }, proposal.review_reason) : null,
    );
  }

  const outcome = h("div", {});
  const progress = h("div", {});
  const follow = h("div", { class: "actions" });
  put(main, outcome, progress, follow);
  if (["results", "implementation"].includes(round.phase) && proposal.status === "feasible") {
    api.rounds.results(slug, id).then(
      (results) => {
        const mineNow = results.projects.find((p) => p.id === projectId);
        if (!mineNow || !ctx.isCurrent()) return;
        outcome.replaceChildren(h("h2", {}, t("project.why")), h("p", { class: "explanation" }, explanationSentence(t, i18n, mineNow.explanation, round.currency)));
      },
      () => {},
    );
  }
  if (proposal.selected) {
    try {
      const updates = await api.rounds.updates(slug, id, projectId);
      if (!ctx.isCurrent()) return;
      put(progress, 
        h("h2", {}, t("project.progress_title")),
        h(
          "p",
          {},
          h("label", { for: "project-progress" }, t("results.progress", { status: t(`progress.${proposal.implementation_status || "planned"}`) })),
          " ",
          h("progress", { id: "project-progress", max: 100, value: proposal.progress_percent ?? 0 }),
          " ",
          t("results.percent", { percent: proposal.progress_percent ?? 0 }),
        ),
        updates.length
          ? h(
              "ol",
              { class: "timeline", "aria-label": t("project.updates") },
              [...updates].reverse().map((update) =>
                h(
                  "li",
                  {},
                  h("p", {}, h("strong", {}, i18n.date(update.created_at)), " ", t(`progress.${update.status}`), ", ", t("results.percent", { percent: update.progress_percent })),
                  h("p", { class: "message" }, update.message),
                  update.photo_ids.length
                    ? h("ul", { class: "photos" }, update.photo_ids.map((photo, index) => h("li", {}, h("img", { src: api.rounds.photoUrl(slug, photo, true), alt: t("project.update_photo_alt", { number: index + 1, date: i18n.date(update.created_at) }) }))))
                    : null,
                ),
              ),
            )
          : h("p", {}, t("project.no_updates")),
      );
    } catch (error) {
      put(progress, failure(error));
    }
  }

  if (session.isRegistered() && session.jurisdiction()?.slug === slug) {
    let following = false;
    const draw = () => {
      follow.replaceChildren(
        h("p", {}, t(following ? "project.following" : "project.follow_why")),
        button(t(following ? "project.unfollow" : "project.follow"), async () => {
          try {
            if (following) await api.rounds.unfollow(slug, id, projectId);
            else await api.rounds.follow(slug, id, projectId);
            following = !following;
            draw();
            follow.querySelector("button").focus();
            announce(t(following ? "project.now_following" : "project.stopped_following", { title: proposal.title }));
          } catch (error) {
            announce(errorSentence(error));
          }
        }, { kind: "secondary" }),
      );
    };
    api.rounds.following(slug, id, projectId).then(
      (answer) => {
        following = answer.following;
        if (ctx.isCurrent()) draw();
      },
      () => draw(),
    );
  }
}
