// From the link in an e-mail: no more e-mails of this kind, in one tap (no sign-in; the link carries
// a signed token). Opening the page changes nothing: mail filters follow links.
import { h, heading, button, failure, errorSentence, announce } from "../js/ui.js";

export async function render(main, ctx) {
  const { t, api, i18n } = ctx;
  const token = ctx.params.token;
  main.append(heading(t("unsubscribe.title")));
  let preview;
  try {
    preview = await api.feedback.unsubscribePreview(token);
  } catch (error) {
    main.append([403, 404, 410, 422].includes(error.status) ? h("p", { class: "notice warning" }, t("unsubscribe.invalid_link")) : failure(error, () => ctx.rerender()));
    return;
  }
  if (!ctx.isCurrent()) return;
  const kind = i18n.has(`kind.${preview.kind}`) ? t(`kind.${preview.kind}`) : preview.kind;
  main.append(h("p", {}, t("unsubscribe.explain", { kind })));
  const result = h("p", { role: "status" });
  const stop = button(t("unsubscribe.confirm"), async () => {
    stop.disabled = true;
    try {
      await api.feedback.unsubscribe(token);
      stop.remove();
      result.className = "notice success";
      result.textContent = t("unsubscribe.done", { kind });
      announce(result.textContent);
    } catch (error) {
      stop.disabled = false;
      result.textContent = errorSentence(error);
    }
  });
  main.append(h("div", { class: "actions" }, stop), result, h("p", { class: "meta" }, t("unsubscribe.settings_hint"), " ", h("a", { href: "/settings" }, t("settings.title"))));
}
