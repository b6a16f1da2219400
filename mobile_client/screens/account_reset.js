// The link in the password e-mail: choose a new password. Every other session of the account ends;
// this device is signed in with the new one.
import { h, heading, field, button, showErrors, clearErrors, apiErrors, announce } from "../js/ui.js";

export async function render(main, ctx) {
  const { t, session } = ctx;
  main.append(heading(t("account_reset.title")), h("p", {}, t("account_reset.intro")));
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", id: "reset-password" });
  const save = button(t("account_reset.button"), null, { type: "submit" });
  const form = h(
    "form",
    { novalidate: true, "aria-label": t("account_reset.title") },
    field({ label: t("account.new_password"), hint: t("account.password_hint"), control: password, name: "password" }),
    h("div", { class: "actions" }, save),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(main);
    if (!password.value) return showErrors(main, [{ field: "password", message: t("errors.field.required") }]);
    save.disabled = true;
    try {
      await session.resetPassword(ctx.params.token, password.value);
    } catch (error) {
      save.disabled = false;
      showErrors(main, apiErrors(error, ["password"]));
      return;
    }
    announce(t("account_reset.done"));
    ctx.navigate("/settings", { replace: true });
  });
  main.append(form, h("p", {}, h("a", { href: "/account" }, t("account.link_again"))));
}
