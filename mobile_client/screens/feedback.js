// "Is it fixed?": from the link in the e-mail (no sign-in needed, the link carries a signed token),
// and as a block on a report's page. One tap answers: yes, partly or no (with a comment if you like).
import { h, heading, button, failure, errorSentence, announce, uid } from "../js/ui.js";

export const ANSWERS = {
  yes: { fixed: true, score: 5 },
  partly: { fixed: false, score: 3 },
  no: { fixed: false, score: 1 },
};

/** The question as a section: `onAnswer(answer)` sends it and resolves when it is done. */
export function satisfactionQuestion(ctx, { onAnswer, headingLevel = "h2" }) {
  const { t } = ctx;
  const id = uid("comment");
  const comment = h("textarea", { id, name: "comment", rows: 3, maxLength: 2000 });
  const section = h(
    "section",
    { class: "notice", "aria-labelledby": `${id}-title` },
    h(headingLevel, { id: `${id}-title` }, t("feedback.question")),
    h("p", {}, t("feedback.explain")),
    h("div", { class: "field" }, h("label", { for: id }, `${t("feedback.comment")} ${t("form.optional")}`), comment),
  );
  const result = h("p", { role: "status" });
  const buttons = h("div", { class: "actions" });
  for (const [key, value] of Object.entries(ANSWERS)) {
    buttons.append(
      button(t(`feedback.answer_${key}`), async () => {
        for (const b of buttons.querySelectorAll("button")) b.disabled = true;
        const answer = { ...value };
        if (comment.value.trim()) answer.comment = comment.value.trim();
        try {
          const done = await onAnswer(answer);
          section.replaceChildren(h(headingLevel, {}, t("feedback.thanks_title")));
          const said = done?.waiting ? t("feedback.waiting") : done?.alreadyAnswered ? t("feedback.already") : key === "yes" ? t("feedback.thanks_fixed") : t("feedback.thanks_not_fixed");
          section.append(h("p", {}, said));
          announce(`${t("feedback.thanks_title")}. ${said}`);
        } catch (error) {
          for (const b of buttons.querySelectorAll("button")) b.disabled = false;
          result.textContent = error.code === "already-answered" ? t("feedback.already") : errorSentence(error);
        }
      }, { kind: key === "yes" ? "primary" : "secondary" }),
    );
  }
  section.append(buttons, result);
  return section;
}

export async function render(main, ctx) {
  const { t, api, i18n } = ctx;
  const token = ctx.params.token;
  main.append(heading(t("feedback.title")));
  let request;
  try {
    request = await api.feedback.byToken(token);
  } catch (error) {
    main.append([403, 404, 410, 422].includes(error.status) ? h("p", { class: "notice warning" }, t("feedback.invalid_link")) : failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  main.append(h("p", {}, h("a", { href: `/reports/${request.report_id}` }, t("feedback.about", { id: request.report_id }))));
  if (request.answered_at) {
    main.append(h("p", { class: "notice success" }, t("feedback.already_on", { date: i18n.date(request.answered_at) })));
    return;
  }
  main.append(
    satisfactionQuestion(ctx, {
      onAnswer: async (answer) => {
        try {
          return await api.feedback.answerByToken(token, answer);
        } catch (error) {
          if (error.code === "already-answered") return { alreadyAnswered: true };
          throw error;
        }
      },
    }),
  );
}
