// One motion: its text, the options (yes / no / abstain), how it is decided (quorum and majority), my
// vote (changeable until it closes), opening and closing for the council, and once closed the outcome
// with the public roll call: who voted what.
import { h, heading, failure, button, choices, announce, errorSentence, showErrors, clearErrors } from "../js/ui.js";
import { motionTag } from "./motions.js";

const CHOICES = ["yes", "no", "abstain"];

export async function render(main, ctx) {
  const { t, i18n, api, session, outbox } = ctx;
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id < 1) return ctx.navigate("/not-found", { replace: true });
  let motion;
  let mine;
  try {
    const [found, list] = await Promise.all([api.council.motion(id), api.council.motions()]);
    motion = found;
    mine = list.find((m) => m.id === id) || null;
  } catch (error) {
    main.append(heading(t("motion.title")), error.status === 404 ? h("p", {}, t("motion.not_found")) : failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  main.append(heading(motion.title), h("p", {}, motionTag(t, { ...motion, outcome: motion.outcome }), " ", h("span", { class: "meta" }, mine?.area_name || "")));
  if (motion.description) main.append(h("h2", {}, t("motion.text")), ...motion.description.split(/\n+/).map((p) => h("p", {}, p)));

  const rules = h("dl", { class: "summary-list" });
  const rule = (term, value) => rules.append(h("dt", {}, term), h("dd", {}, value));
  const quorum = Number(motion.quorum);
  rule(t("motion.options"), CHOICES.map((c) => t(`motion.choice.${c}`)).join(", "));
  rule(
    t("motion.quorum"),
    motion.status === "draft"
      ? t("motion.quorum_share", { share: i18n.number(quorum, { style: "percent", maximumFractionDigits: 1 }) })
      : t("motion.quorum_needed", { needed: motion.quorum_needed, members: motion.members, share: i18n.number(quorum, { style: "percent", maximumFractionDigits: 1 }) }),
  );
  rule(t("motion.majority_rule"), t(`motion.majority.${motion.majority}`));
  if (motion.opened_at) rule(t("motion.opened"), i18n.dateTime(motion.opened_at));
  if (motion.closes_at && motion.status !== "closed") rule(t("motion.closes"), i18n.dateTime(motion.closes_at));
  if (motion.closed_at) rule(t("motion.closed"), i18n.dateTime(motion.closed_at));
  main.append(h("h2", {}, t("motion.rules")), rules);

  if (motion.status === "open") {
    main.append(h("p", { class: "meta" }, t("motion.present", { present: motion.present, members: motion.members })));
    if (mine?.may_vote) main.append(voteForm());
    else main.append(h("p", {}, t("motion.not_a_member")));
  }
  if (motion.status === "closed") main.append(...result());
  if (mine?.may_manage && motion.status !== "closed") main.append(manage());

  function voteForm() {
    const form = h("form", { novalidate: true, class: "vote-form", "aria-labelledby": "vote-title" }, h("h2", { id: "vote-title" }, t("motion.your_vote")));
    if (mine.my_choice) form.append(h("p", { class: "notice", id: "current-vote" }, t("motions.you_voted", { choice: t(`motion.choice.${mine.my_choice}`) })));
    const set = choices({
      legend: t("motion.choose"),
      name: "choice",
      options: CHOICES.map((c) => ({ value: c, label: t(`motion.choice.${c}`) })),
      value: mine.my_choice,
      hint: t("motion.change_hint"),
    });
    form.append(set);
    const submit = button(t("motion.vote"), null, { type: "submit" });
    const status = h("p", { "aria-live": "polite", class: "vote-status" });
    form.append(h("div", { class: "actions" }, submit), status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const choice = form.querySelector('input[name="choice"]:checked')?.value;
      if (!choice) {
        showErrors(form, [{ field: "choice", message: t("motion.choose_missing") }]);
        return;
      }
      submit.disabled = true;
      const item = await outbox.enqueue("motion_vote", { jurisdiction: session.jurisdiction().slug, motionId: id, choice }, { summary: { motionId: id, choice } });
      const done = navigator.onLine ? await outbox.settled(item.id, 8000) : await outbox.get(item.id);
      submit.disabled = false;
      if (!ctx.isCurrent()) return;
      if (done?.state === "sent") {
        mine.my_choice = done.result.choice;
        status.textContent = t("motion.voted", { choice: t(`motion.choice.${done.result.choice}`) });
        form.querySelector("#current-vote")?.remove();
      } else if (done?.state === "failed") {
        await outbox.discard(item.id);
        showErrors(form, [{ field: "choice", message: errorSentence(done.error) }]);
      } else {
        status.textContent = t("motion.vote_waiting");
      }
    });
    return form;
  }

  function result() {
    const outcome = motion.outcome || "no_quorum";
    const counts = h(
      "table",
      { class: "data" },
      h("caption", {}, t("motion.counts")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("motion.vote_column")), h("th", { scope: "col" }, t("motion.votes")))),
      h("tbody", {}, CHOICES.map((c) => h("tr", {}, h("th", { scope: "row" }, t(`motion.choice.${c}`)), h("td", { dataset: { value: motion.counts[c] } }, i18n.number(motion.counts[c]))))),
    );
    const roll = motion.roll_call.length
      ? h(
          "table",
          { class: "data roll-call" },
          h("caption", { class: "visually-hidden" }, t("motion.roll_call")),
          h(
            "thead",
            {},
            h("tr", {}, h("th", { scope: "col" }, t("motion.member")), h("th", { scope: "col" }, t("motion.vote_column")), h("th", { scope: "col" }, t("motion.cast_at"))),
          ),
          h(
            "tbody",
            {},
            motion.roll_call.map((r) =>
              h("tr", {}, h("th", { scope: "row" }, r.name || t("motion.member_unnamed", { id: r.account_id })), h("td", {}, t(`motion.choice.${r.choice}`)), h("td", {}, i18n.dateTime(r.cast_at))),
            ),
          ),
        )
      : h("p", {}, t("motion.nobody_voted"));
    return [
      h("h2", {}, t("motion.result")),
      h("p", { class: `notice motion-${outcome}` }, t(`motion.state.${outcome}`), ". ", t("motion.present", { present: motion.present, members: motion.members })),
      counts,
      h("h2", {}, t("motion.roll_call")),
      roll,
    ];
  }

  function manage() {
    const box = h("section", { "aria-labelledby": "manage-title" }, h("h2", { id: "manage-title" }, t("motion.manage")));
    const to = motion.status === "draft" ? "open" : "closed";
    const confirm = h("div", { class: "actions", hidden: true });
    const ask = button(t(`motion.to.${to}`), () => {
      ask.hidden = true;
      confirm.hidden = false;
      confirm.querySelector("button").focus();
    }, { kind: "secondary" });
    const yes = button(t(`motion.confirm.${to}`), async () => {
      yes.disabled = true;
      try {
        await api.council.setMotionStatus(id, to);
        announce(t(`motion.done.${to}`));
        ctx.rerender();
      } catch (error) {
        yes.disabled = false;
        confirm.after(h("p", { class: "field-error", role: "alert" }, errorSentence(error)));
      }
    }, { kind: to === "closed" ? "warning" : "primary" });
    const no = button(t("staff.cancel"), () => {
      confirm.hidden = true;
      ask.hidden = false;
      ask.focus();
    }, { kind: "secondary" });
    confirm.append(h("p", {}, t(`motion.confirm_text.${to}`)), yes, no);
    box.append(h("p", { class: "meta" }, t(`motion.manage_hint.${to}`)), ask, confirm);
    return box;
  }
}
