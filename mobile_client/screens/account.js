// An optional account: keep your reports when you change phones. Signing up turns this device's
// anonymous account into a registered one, so its reports stay yours.
import { h, heading, field, button, showErrors, clearErrors, apiErrors, announce } from "../js/ui.js";

export async function render(main, ctx) {
  const { t, session, i18n } = ctx;
  main.append(heading(t("account.title")), h("p", {}, t("account.intro")));
  if (!session.get().anonymous) {
    main.append(h("p", { class: "notice" }, t("account.already", { email: session.get().email || "" })));
    return;
  }

  const signUp = form(ctx, {
    id: "sign-up",
    title: t("account.sign_up"),
    fields: [
      ["email", "email", t("account.email"), "email"],
      ["password", "password", t("account.password"), "new-password", t("account.password_hint")],
      ["display_name", "text", t("account.name"), "name", t("account.name_hint"), true],
    ],
    submit: t("account.sign_up_button"),
    send: (values) => session.signUp({ email: values.email, password: values.password, displayName: values.display_name, locale: i18n.language() }),
  });
  const signIn = form(ctx, {
    id: "sign-in",
    title: t("account.sign_in"),
    intro: t("account.sign_in_intro"),
    fields: [
      ["email", "email", t("account.email"), "email"],
      ["password", "password", t("account.password"), "current-password"],
    ],
    submit: t("account.sign_in_button"),
    send: (values) => session.signIn(values),
  });
  main.append(signUp, signIn);
}

function form(ctx, { id, title, intro, fields, submit, send }) {
  const { t } = ctx;
  const element = h("form", { novalidate: true, "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title));
  if (intro) element.append(h("p", {}, intro));
  const inputs = {};
  for (const [name, type, label, autocomplete, hint, optional] of fields) {
    inputs[name] = h("input", { type, name, autocomplete, id: `${id}-${name}` });
    element.append(field({ label, hint, control: inputs[name], name, optional }));
  }
  const go = button(submit, null, { type: "submit" });
  element.append(h("div", { class: "actions" }, go));
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(element);
    const values = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value.trim()]));
    const missing = ["email", "password"].filter((k) => k in values && !values[k]).map((k) => ({ field: k, message: t("errors.field.required") }));
    if (missing.length) return showErrors(element, missing);
    go.disabled = true;
    try {
      await send(values);
      announce(t("account.done"));
      // Back to the screen that asked for the sign-in (only a path of this app), else the settings.
      const next = ctx.query.get("next");
      ctx.navigate(next && /^\/(?!\/)/.test(next) ? next : "/settings");
    } catch (error) {
      go.disabled = false;
      showErrors(element, apiErrors(error, Object.keys(inputs)));
    }
  });
  return element;
}
