// The page a letter's QR code opens (/vote?code=...), also on a phone that never opened the app: the
// code is taken out of the address at once (so it stays out of the history), looked up, and the
// round's ballot opens with it. Without a code: a field to type the one from the letter.
import { h, heading, field, button, showErrors, clearErrors, errorSentence } from "../js/ui.js";
import { put } from "../js/participation.js";
import { renderBallot } from "./ballot.js";

export async function render(main, ctx) {
  const { t, api } = ctx;
  const fromLink = ctx.query.get("code");
  if (fromLink) history.replaceState({}, "", "/vote");
  if (fromLink) {
    try {
      const info = await api.rounds.lookupCode(fromLink);
      if (!ctx.isCurrent()) return;
      return renderBallot(main, ctx, { slug: info.jurisdiction, roundId: info.round_id, code: fromLink, codeInfo: info });
    } catch (error) {
      if (!ctx.isCurrent()) return;
      put(main, heading(t("vote_code.title")), h("p", { class: "notice warning", role: "alert" }, errorSentence(error)));
    }
  } else {
    put(main, heading(t("vote_code.title")));
  }
  put(main, h("p", {}, t("vote_code.intro")));
  const input = h("input", { type: "text", name: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: false });
  const form = h(
    "form",
    { novalidate: true },
    field({ label: t("ballot.code_label"), hint: t("ballot.code_hint"), control: input, name: "code" }),
    h("div", { class: "actions" }, button(t("ballot.code_use"), null, { type: "submit" })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(main);
    const typed = input.value.trim();
    if (typed.replace(/[\s-]/g, "").length < 4) return showErrors(main, [{ field: "code", message: t("ballot.code_missing") }]);
    try {
      const info = await api.rounds.lookupCode(typed);
      main.replaceChildren();
      await renderBallot(main, ctx, { slug: info.jurisdiction, roundId: info.round_id, code: typed, codeInfo: info });
      main.querySelector("h1")?.focus();
    } catch (error) {
      showErrors(main, [{ field: "code", message: errorSentence(error) }]);
    }
  });
  put(main, form);
}
