// Small DOM helpers and the shared pieces of every screen: fields with hint and error, the error
// summary (GOV.UK / NL Design System pattern), status tags, the live region. No innerHTML: text is
// always set as text, so nothing from the server can become markup.
import { t, has } from "./i18n.js";

/** h("p", {class: "hint", id: "x"}, "text", child, [children]) */
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name in el && !name.includes("-") && name !== "list" && name !== "form") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** The screen's heading: focus goes here when the screen opens. */
export function heading(text) {
  return h("h1", { tabindex: "-1", class: "screen-title" }, text);
}

let idCounter = 0;
export function uid(prefix = "f") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Say something to screen reader users without moving focus. */
export function announce(message) {
  const region = document.getElementById("status");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/**
 * A labelled field: label, optional hint, the error slot and the control, wired with
 * aria-describedby. `name` is the API's field name, used to place its error message.
 */
export function field({ label, hint, control, name, optional = false }) {
  const id = control.id || uid(name || "field");
  control.id = id;
  if (name) control.dataset.field = name;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const described = [hintId].filter(Boolean).join(" ");
  if (described) control.setAttribute("aria-describedby", described);
  const labelText = optional ? `${label} ${t("form.optional")}` : label;
  return h(
    "div",
    { class: "field", dataset: { field: name || id } },
    h("label", { for: id }, labelText),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    h("p", { class: "field-error", id: errorId, hidden: true }),
    control,
  );
}

/** A group of radios or checkboxes in a fieldset with its legend. */
export function choices({ legend, name, type = "radio", options, value, hint, onchange }) {
  const hintId = hint ? uid("hint") : null;
  const set = h(
    "fieldset",
    { class: "field choices", dataset: { field: name }, "aria-describedby": hintId },
    h("legend", {}, legend),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    h("p", { class: "field-error", hidden: true }),
  );
  for (const option of options) {
    const id = uid(name);
    const checked = Array.isArray(value) ? value.includes(option.value) : value === option.value;
    set.append(
      h(
        "div",
        { class: "choice" },
        h("input", { type, id, name, value: option.value, checked, onchange }),
        h("label", { for: id }, option.label),
      ),
    );
  }
  return set;
}

export function button(text, onclick, { kind = "primary", type = "button", ...rest } = {}) {
  return h("button", { type, class: `button ${kind}`, onclick, ...rest }, text);
}

/** A status tag with its text: never colour alone. */
export function statusTag(status) {
  return h("span", { class: `tag status-${status}` }, has(`status.${status}`) ? t(`status.${status}`) : status);
}

/** The sentence for an API error: its code's text when we have one, else a general one. */
export function errorSentence(error) {
  if (error?.offline) return t("errors.offline");
  if (error?.code && has(`errors.${error.code}`)) return t(`errors.${error.code}`);
  if (error?.status >= 500) return t("errors.server");
  return t("errors.generic");
}

/** The text for one field's API message (pydantic type or the extra-field message). */
export function fieldSentence(info) {
  const type = info?.type || "";
  const message = (info?.message || "").toLowerCase();
  if (type === "missing" || message.includes("required")) return t("errors.field.required");
  if (type.startsWith("string_too_long") || message.startsWith("at most")) return t("errors.field.too_long");
  if (type.startsWith("string_too_short")) return t("errors.field.required");
  if (message.includes("email")) return t("errors.field.email");
  if (message.includes("number")) return t("errors.field.number");
  if (message.includes("one of") || message.includes("options")) return t("errors.field.option");
  if (type.startsWith("string_pattern")) return t("errors.field.pattern");
  return t("errors.field.invalid");
}

/** Remove the error summary and every field's error. */
export function clearErrors(root) {
  root.querySelector(".error-summary")?.remove();
  for (const el of root.querySelectorAll(".field-error")) {
    el.hidden = true;
    el.textContent = "";
  }
  for (const el of root.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const described = (el.getAttribute("aria-describedby") || "").split(" ").filter((x) => !x.endsWith("-error"));
    if (described.length) el.setAttribute("aria-describedby", described.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  for (const el of root.querySelectorAll(".field.has-error")) el.classList.remove("has-error");
}

/**
 * Show errors: a summary at the top of `root` (focused, each entry a link to its field) and each
 * message next to its field. `errors` is [{field, message}]; a field not on the screen is listed in
 * the summary only.
 */
export function showErrors(root, errors) {
  clearErrors(root);
  const list = h("ul", {});
  for (const { field: name, message } of errors) {
    const wrapper = name ? root.querySelector(`.field[data-field="${CSS.escape(name)}"]`) : null;
    const control = wrapper?.querySelector("input, select, textarea, button");
    if (wrapper) {
      wrapper.classList.add("has-error");
      const slot = wrapper.querySelector(".field-error");
      slot.hidden = false;
      slot.textContent = message;
      if (control) {
        slot.id ||= `${control.id || uid("e")}-error`;
        control.setAttribute("aria-invalid", "true");
        const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        control.setAttribute("aria-describedby", [...described, slot.id].join(" "));
      }
    }
    const target = control?.id ? h("a", { href: `#${control.id}`, onclick: (e) => jump(e, control) }, message) : message;
    list.append(h("li", {}, target));
  }
  const summary = h(
    "div",
    { class: "error-summary", role: "alert", tabindex: "-1", "aria-labelledby": "error-summary-title" },
    h("h2", { id: "error-summary-title" }, t("errors.summary_title")),
    list,
  );
  const anchor = root.querySelector(".screen-title");
  if (anchor) anchor.after(summary);
  else root.prepend(summary);
  summary.focus();
  return summary;
}

function jump(event, control) {
  event.preventDefault();
  control.focus();
}

/** The errors of an ApiError as [{field, message}], the whole-form sentence first when no field. */
export function apiErrors(error, known = []) {
  const entries = Object.entries(error?.fields || {});
  const found = entries
    .filter(([name]) => known.length === 0 || known.includes(name) || name.startsWith("extra."))
    .map(([name, info]) => ({ field: name, message: fieldSentence(info) }));
  if (!found.length) return [{ field: null, message: errorSentence(error) }];
  return found;
}

/** A paragraph that says something went wrong, with a "try again" button. */
export function failure(error, retry) {
  return h(
    "div",
    { class: "notice warning", role: "alert" },
    h("p", {}, errorSentence(error)),
    retry ? button(t("common.try_again"), retry, { kind: "secondary" }) : null,
  );
}

export function loading() {
  return h("p", { class: "loading" }, t("common.loading"));
}
