// The link in the sign-up e-mail: confirm the account and sign in (also on a device that never opened
// the app before). Then on to the settings, where the account shows.
import { h, heading, loading, errorSentence, announce } from "../js/ui.js";

export async function render(main, ctx) {
  const { t, session } = ctx;
  main.append(heading(t("account_confirm.title")));
  const place = h("div", {}, h("p", { role: "status" }, t("account_confirm.busy")), loading());
  main.append(place);
  try {
    await session.confirmSignUp(ctx.params.token);
  } catch (error) {
    if (!ctx.isCurrent()) return;
    place.replaceChildren(
      h("div", { class: "notice warning", role: "alert" }, h("p", {}, errorSentence(error))),
      h("p", {}, h("a", { href: "/account" }, t("account.link_again"))),
    );
    return;
  }
  if (!ctx.isCurrent()) return;
  announce(t("account_confirm.done"));
  ctx.navigate("/settings", { replace: true });
}
