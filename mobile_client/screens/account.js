// An optional account: keep your reports when you change phones. Signing up mails a link; opening it
// turns this device's anonymous account into a registered one, so its reports stay yours. Signed in:
// change the password, sign out here or everywhere.
import { h, heading, field, button, showErrors, clearErrors, apiErrors, announce } from "../js/ui.js";

export async function render(main, ctx) {
  const { t, session, i18n } = ctx;
  main.append(heading(t("account.title")));
  if (!session.get().anonymous) {
    signedIn(main, ctx);
    yourData(main, ctx);
    return;
  }
  main.append(h("p", {}, t("account.intro")));

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
    done: (values, element) => sent(element, t("account.sign_up_sent", { email: values.email })),
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
    done: () => {
      announce(t("account.done"));
      // Back to the screen that asked for the sign-in (only a path of this app), else the settings.
      const next = ctx.query.get("next");
      ctx.navigate(next && /^\/(?![/\\])/.test(next) ? next : "/settings");
    },
  });
  const forgot = form(ctx, {
    id: "forgot",
    title: t("account.forgot"),
    intro: t("account.forgot_intro"),
    fields: [["email", "email", t("account.email"), "email"]],
    submit: t("account.forgot_button"),
    kind: "secondary",
    send: (values) => session.requestPasswordReset(values.email),
    done: (values, element) => sent(element, t("account.forgot_sent", { email: values.email })),
  });
  main.append(signUp, signIn, forgot);
  yourData(main, ctx);
}

/** Everything kept about this account as a file, and deleting it (issue 12: the AVG/GDPR). */
function yourData(main, ctx) {
  const { t, session, api } = ctx;
  const registered = !session.get().anonymous;
  const section = h(
    "section",
    { "aria-labelledby": "data-title" },
    h("h2", { id: "data-title" }, t("account.data_title")),
    h("p", {}, t("account.data_intro")),
  );
  const status = h("p", { role: "status" });
  const download = button(t("account.data_download"), async () => {
    download.disabled = true;
    try {
      const data = await api.auth.myData();
      const file = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const link = h("a", { href: file, download: "civicloop-data.json" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(file), 10_000);
      announce(t("account.data_downloaded"));
    } catch (error) {
      status.textContent = apiErrors(error)[0].message;
    } finally {
      download.disabled = false;
    }
  }, { kind: "secondary" });
  section.append(h("div", { class: "actions" }, download), status);
  const remove = form(ctx, {
    id: "delete",
    title: t("account.delete_title"),
    intro: registered ? t("account.delete_intro") : t("account.delete_intro_device"),
    fields: registered ? [["password", "password", t("account.password"), "current-password"]] : [],
    submit: t("account.delete_button"),
    kind: "warning",
    send: (values) => session.deleteAccount(values.password || null),
    done: () => {
      announce(t("account.deleted"));
      ctx.navigate("/welcome");
    },
  });
  main.append(section, remove);
}

function signedIn(main, ctx) {
  const { t, session } = ctx;
  main.append(h("p", {}, t("account.already", { email: session.get().email || "" })));
  const change = form(ctx, {
    id: "password",
    title: t("account.change_password"),
    fields: [
      ["current_password", "password", t("account.current_password"), "current-password"],
      ["new_password", "password", t("account.new_password"), "new-password", t("account.password_hint")],
    ],
    submit: t("account.change_button"),
    send: (values) => session.changePassword(values.current_password, values.new_password),
    done: (values, element) => sent(element, t("account.password_changed")),
  });
  const out = h(
    "section",
    { "aria-labelledby": "sign-out-title" },
    h("h2", { id: "sign-out-title" }, t("account.sign_out_title")),
    h("p", {}, t("account.sign_out_intro")),
  );
  const status = h("p", { role: "status" });
  const leave = (everywhere) => async (event) => {
    event.target.disabled = true;
    try {
      await session.signOut({ everywhere });
      announce(t("account.signed_out"));
      ctx.navigate("/welcome");
    } catch (error) {
      event.target.disabled = false;
      status.textContent = apiErrors(error)[0].message;
    }
  };
  out.append(
    h(
      "div",
      { class: "actions" },
      button(t("account.sign_out"), leave(false), { kind: "warning" }),
      button(t("account.sign_out_everywhere"), leave(true), { kind: "secondary" }),
    ),
    status,
  );
  main.append(change, out);
}

/** The form's place shows what happens next (and the live region says it). */
function sent(element, message) {
  element.replaceChildren(element.firstChild, h("p", { class: "notice" }, message));
  announce(message);
}

function form(ctx, { id, title, intro, fields, submit, send, done, kind = "primary" }) {
  const { t } = ctx;
  const element = h("form", { novalidate: true, "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title));
  if (intro) element.append(h("p", {}, intro));
  const inputs = {};
  for (const [name, type, label, autocomplete, hint, optional] of fields) {
    inputs[name] = h("input", { type, name, autocomplete, id: `${id}-${name}` });
    element.append(field({ label, hint, control: inputs[name], name, optional }));
  }
  const go = button(submit, null, { type: "submit", kind });
  element.append(h("div", { class: "actions" }, go));
  const required = fields.filter((f) => !f[5]).map((f) => f[0]);
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(element);
    const values = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value.trim()]));
    const missing = required.filter((k) => !values[k]).map((k) => ({ field: k, message: t("errors.field.required") }));
    if (missing.length) return showErrors(element, missing);
    go.disabled = true;
    try {
      await send(values);
      done(values, element);
    } catch (error) {
      go.disabled = false;
      showErrors(element, apiErrors(error, Object.keys(inputs)));
    }
  });
  return element;
}
