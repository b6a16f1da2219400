// Texts come only from i18n/nl.json and i18n/en.json: flat keys namespaced by screen
// ("report.title", "inbox.empty"), a {placeholder} syntax, and {one, other} objects for plurals.
// Numbers, dates and distances are formatted with Intl in the resident's language.

export const LANGUAGES = ["nl", "en"];
export const DEFAULT_LANGUAGE = "nl";
const STORAGE_KEY = "civicloop.lang";

let catalog = {};
let current = DEFAULT_LANGUAGE;
let plural = new Intl.PluralRules(DEFAULT_LANGUAGE);

/** The language to start in: the one chosen before, else the browser's if we have it, else Dutch. */
export function preferredLanguage() {
  const chosen = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (LANGUAGES.includes(chosen)) return chosen;
  for (const tag of globalThis.navigator?.languages || []) {
    const base = tag.slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(base)) return base;
  }
  return DEFAULT_LANGUAGE;
}

export function language() {
  return current;
}

export async function loadCatalog(lang) {
  const response = await fetch(new URL(`../i18n/${lang}.json`, import.meta.url));
  if (!response.ok) throw new Error(`no texts for ${lang}`);
  return response.json();
}

/** Switch language: load its texts, remember the choice, translate the static page parts. */
export async function setLanguage(lang, { remember = true } = {}) {
  if (!LANGUAGES.includes(lang)) lang = DEFAULT_LANGUAGE;
  catalog = await loadCatalog(lang);
  current = lang;
  plural = new Intl.PluralRules(lang);
  if (remember) globalThis.localStorage?.setItem(STORAGE_KEY, lang);
  if (globalThis.document) {
    document.documentElement.lang = lang;
    translatePage(document);
  }
}

/** Use a catalog without fetching (unit tests). */
export function useCatalog(lang, texts) {
  catalog = texts;
  current = lang;
  plural = new Intl.PluralRules(lang);
}

export function has(key) {
  return Object.hasOwn(catalog, key);
}

/** The text of `key` with its {placeholders} filled; a plural object picks by `params.count`. */
export function t(key, params = {}) {
  let text = catalog[key];
  if (text === undefined) {
    console.warn(`missing text: ${key}`);
    return key;
  }
  if (typeof text === "object") text = text[plural.select(Number(params.count ?? 0))] ?? text.other;
  // {count} is formatted for the language (1.234 / 1,234); ids and other values are shown as given.
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    params[name] === undefined ? whole : name === "count" ? number(params[name]) : String(params[name]),
  );
}

/** Elements with data-i18n (text) or data-i18n-label (aria-label) in the static HTML. */
export function translatePage(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}

export function number(value, options) {
  return new Intl.NumberFormat(current, options).format(value);
}

export function date(value) {
  return new Intl.DateTimeFormat(current, { day: "numeric", month: "long", year: "numeric" }).format(new Date(value));
}

export function dateTime(value) {
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(new Date(value));
}

export function distance(metres) {
  if (metres < 1000) return number(Math.round(metres), { style: "unit", unit: "meter" });
  return number(metres / 1000, { style: "unit", unit: "kilometer", maximumFractionDigits: 1 });
}

/** A translated name from the API ({nl, en}): the resident's language, else Dutch. */
export function pick(names) {
  if (!names || typeof names !== "object") return names ?? "";
  return names[current] || names.nl || Object.values(names)[0] || "";
}
