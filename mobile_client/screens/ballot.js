// Vote in a budget round. First who votes (the signed-in account with a checked address, or the code
// from the letter), then the round's own rules, then the choices, each rule break said next to the
// choice before anything is sent, then "your vote is counted" with the time.
//
// The ballot is secret, also on the phone: the choices live in this screen's memory only. A ballot is
// never put in the outbox, IndexedDB, localStorage, the URL or the history, and is forgotten once sent;
// "change my vote" starts from an empty ballot. Without a network the ballot is not sent (and not kept
// for later): the resident tries again when online. See docs/mobile-app.md, "Ballot secrecy on the phone".
import { h, heading, failure, button, showErrors, clearErrors, errorSentence, announce, uid } from "../js/ui.js";
import { jurisdictionOf, linkTo, money, inlineError, rankingList, put } from "../js/participation.js";

export async function render(main, ctx) {
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  return renderBallot(main, ctx, { slug: await jurisdictionOf(ctx), roundId: id });
}

/** The ballot of one round; `code`/`codeInfo` when the voter came with a letter's code (from /vote). */
export async function renderBallot(main, ctx, { slug, roundId, code = null, codeInfo = null }) {
  const { t, i18n, api, session } = ctx;
  let round;
  let projects;
  let eligibility = null;
  try {
    [round, projects] = await Promise.all([api.rounds.one(slug, roundId), api.rounds.proposals(slug, roundId, "feasible")]);
    if (!code && session.isRegistered() && session.jurisdiction()?.slug === slug) {
      eligibility = await api.rounds.eligibility(slug, roundId);
    }
  } catch (error) {
    put(main, heading(t("ballot.title")), error.status === 404 ? h("p", {}, t("round.not_found")) : failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  const voter = { code, codeInfo, uncertain: false };
  show();

  function show() {
    main.replaceChildren(heading(t("ballot.heading", { round: round.title })));
    const back = h("p", {}, h("a", { href: linkTo(ctx, `/rounds/${roundId}`) }, t("ballot.about_round")));
    if (round.phase === "proposals" || round.phase === "review") {
      put(main, h("p", { class: "notice" }, round.voting_opens_at ? t("ballot.not_yet_on", { date: i18n.dateTime(round.voting_opens_at) }) : t("ballot.not_yet")), back);
      return;
    }
    if (round.phase !== "voting") {
      const voted = voter.codeInfo?.voted || eligibility?.voted;
      put(main, 
        h("p", { class: "notice" }, t("ballot.closed")),
        voted ? h("p", { class: "notice success" }, t("ballot.included")) : null,
        h("p", {}, h("a", { class: "button primary", href: linkTo(ctx, `/rounds/${roundId}/results`) }, t("ballot.see_results"))),
      );
      return;
    }
    if (round.voting_closes_at) put(main, h("p", { class: "meta" }, t("round.voting_until", { date: i18n.dateTime(round.voting_closes_at) })));
    if (voter.code) return ballot();
    if (eligibility?.eligible) return ballot();
    whoVotes();
  }

  // -------------------------------------------------------------------------------------------
  // Who votes: the account cannot (or the phone is not registered here): the code from the letter.

  function whoVotes() {
    put(main, h("h2", {}, t("ballot.who_title")));
    if (eligibility && !eligibility.eligible) {
      put(main, h("p", { class: "notice" }, errorSentence({ code: eligibility.reason }), " ", t("ballot.use_code_instead")));
    } else {
      put(main, h("p", {}, t("ballot.who_intro")));
    }
    if (!session.isRegistered()) {
      put(main, h("p", { class: "meta" }, t("ballot.have_account"), " ", h("a", { href: "/account" }, t("ballot.sign_in"))));
    }
    const input = h("input", { type: "text", name: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: false });
    const form = h(
      "form",
      { novalidate: true },
      h(
        "div",
        { class: "field", dataset: { field: "code" } },
        h("label", { for: "voting-code" }, t("ballot.code_label")),
        h("p", { class: "hint", id: "voting-code-hint" }, t("ballot.code_hint")),
        h("p", { class: "field-error", hidden: true }),
        input,
      ),
      h("div", { class: "actions" }, button(t("ballot.code_use"), null, { type: "submit" })),
    );
    input.id = "voting-code";
    input.setAttribute("aria-describedby", "voting-code-hint");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(main);
      const typed = input.value.trim();
      if (typed.replace(/[\s-]/g, "").length < 4) return showErrors(main, [{ field: "code", message: t("ballot.code_missing") }]);
      try {
        const info = await api.rounds.lookupCode(typed);
        if (info.jurisdiction !== slug || info.round_id !== roundId) {
          return showErrors(main, [{ field: "code", message: t("errors.code-for-another-round") }]);
        }
        voter.code = typed;
        voter.codeInfo = info;
        show();
        main.querySelector("h1").focus();
      } catch (error) {
        showErrors(main, [{ field: "code", message: errorSentence(error) }]);
      }
    });
    put(main, form);
  }

  // -------------------------------------------------------------------------------------------
  // The ballot

  function ballot() {
    const info = voter.code ? voter.codeInfo : eligibility;
    if (info?.voted && !info.can_change) {
      put(main, h("p", { class: "notice success" }, t(voter.code ? "errors.code-already-used" : "ballot.voted_no_change")));
      return;
    }
    put(main, 
      h("p", { class: "notice" }, voter.code ? t("ballot.with_code") : t("ballot.with_account")),
      info?.voted ? h("p", { class: "notice" }, t("ballot.voted_can_change")) : null,
    );
    const rules = round.ballot_rules || {};
    const type = round.ballot_type;
    const budget = Number(round.budget);
    const cost = (p) => Number(p.final_cost ?? p.estimated_cost);
    put(main, 
      h(
        "section",
        { class: "rules", "aria-labelledby": "ballot-rules" },
        h("h2", { id: "ballot-rules" }, t("ballot.rules_title")),
        h("p", {}, ruleText(type, rules, budget)),
        h("p", {}, t(round.rule === "greedy" ? "ballot.count_greedy" : "ballot.count_mes", { budget: money(i18n, budget, round.currency) })),
        h("p", { class: "meta" }, t("ballot.secret")),
      ),
    );

    const chosen = new Set(); // approval and knapsack
    const points = new Map(); // cumulative
    let ranking = null; // ranked
    const wrappers = new Map();
    const status = h("p", { class: "ballot-status", "aria-live": "polite" });
    const fieldset = h(
      "fieldset",
      { class: "field choices ballot", dataset: { field: "projects" } },
      h("legend", {}, t(type === "cumulative" ? "ballot.legend_points" : "ballot.legend")),
      h("p", { class: "field-error", hidden: true }),
    );
    let bar = null;
    const fits = new Map();

    const left = () => budget - [...chosen].reduce((sum, pid) => sum + cost(projects.find((p) => p.id === pid)), 0);
    const pointsLeft = () => (rules.points || 0) - [...points.values()].reduce((a, b) => a + b, 0);

    const update = () => {
      if (type === "approval") {
        status.textContent = rules.max_projects
          ? t("ballot.chosen_of_max", { count: chosen.size, max: rules.max_projects })
          : t("ballot.chosen", { count: chosen.size });
      } else if (type === "knapsack") {
        const remaining = left();
        bar.value = budget - remaining;
        const over = projects.filter((p) => !chosen.has(p.id) && cost(p) > remaining);
        status.textContent = t("ballot.budget_status", { chosen: money(i18n, budget - remaining, round.currency), left: money(i18n, remaining, round.currency) });
        noFit.textContent = over.length ? t("ballot.no_longer_fits", { names: over.map((p) => p.title).join(", ") }) : "";
        for (const p of projects) fits.get(p.id).hidden = chosen.has(p.id) || cost(p) <= remaining;
      } else if (type === "cumulative") {
        status.textContent = t("ballot.points_left", { count: pointsLeft(), total: rules.points });
      }
    };

    let noFit = null;
    if (type === "knapsack") {
      bar = h("progress", { max: budget, value: 0, "aria-labelledby": "budget-bar-label", id: "budget-bar" });
      noFit = h("p", { class: "hint" });
      put(main, 
        h(
          "div",
          { class: "budget-bar", dataset: { field: "budget" } },
          h("p", { id: "budget-bar-label", class: "budget-bar-label" }, t("ballot.bar_label", { budget: money(i18n, budget, round.currency) })),
          bar,
          status,
          noFit,
        ),
      );
    } else {
      put(main, status);
    }

    if (type === "ranked") {
      ranking = rankingList({
        t,
        items: projects.map((p) => ({ id: p.id, label: `${p.title} (${money(i18n, cost(p), round.currency)})` })),
        order: [],
        limit: rules.top_k ?? null,
        name: "projects",
        legend: t("ballot.legend_ranked"),
        hint: t("ballot.ranked_hint"),
        onChange: () => clearErrors(main),
        onRefused: (_, wrapper) => inlineError(wrapper, t("ballot.rank_limit", { count: rules.top_k })),
      });
      put(main, ranking.element);
    } else {
      for (const project of projects) put(fieldset, choice(project));
      put(main, fieldset);
    }

    function choice(project) {
      const inputId = uid("project");
      const costId = `${inputId}-cost`;
      const fitId = `${inputId}-fit`;
      const wrapper = h("div", { class: "field project-choice", dataset: { field: `project-${project.id}` } }, h("p", { class: "field-error", hidden: true }));
      wrappers.set(project.id, wrapper);
      const details = h(
        "details",
        {},
        h("summary", {}, t("ballot.more_about", { title: project.title })),
        h("p", {}, project.description),
        project.review_reason ? h("p", { class: "meta" }, project.review_reason) : null,
      );
      const fit = h("p", { class: "hint", id: fitId, hidden: true }, t("ballot.does_not_fit_now"));
      fits.set(project.id, fit);
      if (type === "cumulative") {
        const input = h("input", { type: "number", id: inputId, name: `points-${project.id}`, min: 0, max: rules.max_points_per_project ?? rules.points, step: 1, inputMode: "numeric", value: "0", "aria-describedby": costId });
        input.addEventListener("change", () => {
          let value = Math.max(0, Math.floor(Number(input.value) || 0));
          let message = "";
          const cap = rules.max_points_per_project;
          if (cap && value > cap) {
            value = cap;
            message = t("ballot.max_points_project", { count: cap });
          }
          const room = pointsLeft() + (points.get(project.id) || 0);
          if (value > room) {
            value = room;
            message = t("ballot.not_enough_points", { count: room });
          }
          input.value = String(value);
          if (value) points.set(project.id, value);
          else points.delete(project.id);
          inlineError(wrapper, message);
          update();
        });
        put(wrapper, 
          h("label", { for: inputId }, t("ballot.points_for", { title: project.title })),
          h("p", { class: "meta", id: costId }, money(i18n, cost(project), round.currency)),
          input,
          details,
        );
        return wrapper;
      }
      const input = h("input", { type: "checkbox", id: inputId, name: "projects", value: String(project.id), "aria-describedby": `${costId} ${fitId}` });
      input.addEventListener("change", () => {
        if (input.checked) {
          if (type === "approval" && rules.max_projects && chosen.size >= rules.max_projects) {
            input.checked = false;
            return inlineError(wrapper, t("ballot.max_reached", { count: rules.max_projects }));
          }
          if (type === "knapsack" && cost(project) > left()) {
            input.checked = false;
            return inlineError(wrapper, t("ballot.does_not_fit", { cost: money(i18n, cost(project), round.currency), left: money(i18n, left(), round.currency) }));
          }
          chosen.add(project.id);
        } else {
          chosen.delete(project.id);
        }
        for (const other of wrappers.values()) inlineError(other, "");
        clearErrors(fieldset);
        update();
      });
      put(wrapper, 
        h("div", { class: "choice" }, input, h("label", { for: inputId }, project.title)),
        h("p", { class: "meta", id: costId }, money(i18n, cost(project), round.currency)),
        fit,
        details,
      );
      return wrapper;
    }

    update();
    const send = button(t("ballot.send"), null, { type: "submit" });
    const form = h("form", { novalidate: true, class: "ballot-form" }, h("div", { class: "actions" }, send));
    put(main, form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(main);
      const body = bodyOf();
      const problems = check(body);
      if (problems.length) return showErrors(main, problems.map((message) => ({ field: "projects", message })));
      if (voter.code) body.code = voter.code;
      send.disabled = true;
      const sending = h("p", { class: "notice", role: "status" }, t("ballot.sending"));
      form.before(sending);
      try {
        const receipt = await api.rounds.cast(slug, roundId, body);
        counted(receipt, new Date());
      } catch (error) {
        sending.remove();
        send.disabled = false;
        refused(error);
      }
    });

    function bodyOf() {
      if (type === "ranked") return { projects: ranking.order().map(Number) };
      if (type === "cumulative") {
        const given = projects.filter((p) => points.get(p.id));
        return { projects: given.map((p) => p.id), points: given.map((p) => points.get(p.id)) };
      }
      return { projects: projects.filter((p) => chosen.has(p.id)).map((p) => p.id) };
    }

    function check(body) {
      const count = body.projects.length;
      if (!count) return [t("ballot.empty")];
      const minimum = rules.min_projects;
      if (minimum && count < minimum) return [t("ballot.too_few", { count: minimum })];
      if (type === "knapsack" && rules.min_share_spent) {
        const needed = budget * rules.min_share_spent;
        if (budget - left() < needed) return [t("ballot.spend_more", { amount: money(i18n, needed, round.currency) })];
      }
      return [];
    }

    function refused(error) {
      const already = ["already-voted", "code-already-used"].includes(error.code);
      if (already && voter.uncertain) {
        // The earlier try reached the server although its answer was lost on the way back.
        return counted({ replaced_earlier_ballot: false, channel: "online" }, null);
      }
      voter.uncertain ||= Boolean(error.offline);
      const violations = error.problem?.violations || [];
      if (violations.length) {
        return showErrors(main, violations.map((v) => ({ field: "projects", message: violationSentence(v) })));
      }
      showErrors(main, [{ field: null, message: error.offline ? t("ballot.offline") : errorSentence(error) }]);
    }
  }

  function violationSentence(violation) {
    const key = `ballot.violation.${violation.code}`;
    return ctx.i18n.has(key) ? t(key, { count: violation.limit ?? 0 }) : t("ballot.violation.other");
  }

  function ruleText(type, rules, budget) {
    if (type === "approval") {
      if (rules.min_projects && rules.max_projects) return t("ballot.rules_approval_min_max", { min: rules.min_projects, max: rules.max_projects });
      if (rules.max_projects) return t("ballot.rules_approval_max", { count: rules.max_projects });
      if (rules.min_projects) return t("ballot.rules_approval_min", { count: rules.min_projects });
      return t("ballot.rules_approval");
    }
    if (type === "knapsack") {
      const base = t("ballot.rules_knapsack", { budget: money(i18n, budget, round.currency) });
      return rules.min_share_spent ? `${base} ${t("ballot.rules_knapsack_min", { amount: money(i18n, budget * rules.min_share_spent, round.currency) })}` : base;
    }
    if (type === "cumulative") {
      const base = t("ballot.rules_cumulative", { count: rules.points });
      return rules.max_points_per_project ? `${base} ${t("ballot.rules_cumulative_max", { count: rules.max_points_per_project })}` : base;
    }
    const base = t("ballot.rules_ranked", { count: rules.top_k });
    return rules.min_projects ? `${base} ${t("ballot.rules_ranked_min", { count: rules.min_projects })}` : base;
  }

  // -------------------------------------------------------------------------------------------
  // Counted

  function counted(receipt, at) {
    // The choices are gone with the form; only the credential stays, to change the vote.
    const canChange = round.allow_ballot_changes && round.phase === "voting";
    if (voter.code && voter.codeInfo) voter.codeInfo = { ...voter.codeInfo, voted: true, can_change: canChange };
    if (eligibility) eligibility = { ...eligibility, voted: true, can_change: canChange };
    voter.uncertain = false;
    main.replaceChildren(
      heading(t("ballot.counted_title")),
      h(
        "div",
        { class: "notice success counted", role: "status" },
        h("p", { class: "counted-line" }, t(receipt.replaced_earlier_ballot ? "ballot.counted_changed" : "ballot.counted")),
        at ? h("p", {}, t("ballot.received_at", { time: i18n.dateTime(at) })) : h("p", {}, t("ballot.arrived_earlier")),
        h("p", {}, t("ballot.secret_kept")),
      ),
    );
    if (canChange) {
      put(main, 
        h("p", {}, round.voting_closes_at ? t("ballot.change_until", { date: i18n.dateTime(round.voting_closes_at) }) : t("ballot.change_while_open")),
        h("div", { class: "actions" }, button(t("ballot.change"), () => {
          show();
          main.querySelector("h1").focus();
          announce(t("ballot.change_started"));
        }, { kind: "secondary" })),
      );
    }
    put(main, h("p", {}, h("a", { href: linkTo(ctx, `/rounds/${roundId}`) }, t("ballot.about_round"))));
    main.querySelector("h1").focus();
    announce(t("ballot.counted"));
  }
}
