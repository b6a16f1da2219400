// A small History-API router over the screen registry (screens.js). It loads a screen's module when
// first opened, renders it into <main>, sets the title, moves focus to the new heading, marks the
// current navigation entry and hides what the signed-in roles may not see.
import { SCREENS, NOT_FOUND, RESIDENT } from "./screens.js";
import { t } from "./i18n.js";
import { h, loading, failure } from "./ui.js";

let context = null;
let cleanup = null;
let renderCount = 0;
const compiled = new Map();

function pattern(path) {
  if (!compiled.has(path)) {
    const names = [];
    const source = path.replace(/:(\w+)/g, (_, name) => {
      names.push(name);
      return "([^/]+)";
    });
    compiled.set(path, { regex: new RegExp(`^${source}/?$`), names });
  }
  return compiled.get(path);
}

export function match(pathname) {
  for (const screen of SCREENS) {
    const { regex, names } = pattern(screen.path);
    const found = regex.exec(pathname);
    if (found) {
      const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { screen, params };
    }
  }
  return { screen: NOT_FOUND, params: {} };
}

export function allowed(screen, roles) {
  const needed = screen.roles ?? [RESIDENT];
  return needed.some((role) => roles.includes(role));
}

/** Start routing. `ctx` is shared by every screen (api, session, outbox, t, navigate, ...). */
export function start(ctx) {
  context = ctx;
  document.addEventListener("click", onClick);
  window.addEventListener("popstate", () => render());
  return render();
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const link = event.target.closest?.("a[href]");
  if (!link || link.target || link.hasAttribute("download") || link.dataset.external !== undefined) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname === "/docs") return;
  if (url.pathname === location.pathname && url.hash) return; // in-page anchor
  event.preventDefault();
  navigate(url.pathname + url.search);
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", path);
  else history.pushState({}, "", path);
  return render();
}

/** Render the screen for the current location. */
export async function render() {
  const run = ++renderCount;
  const main = document.getElementById("main");
  const { screen, params } = match(location.pathname);
  const session = context.session;
  if (!screen.public && !session.isRegistered()) {
    const next = location.pathname + location.search;
    return navigate(`/welcome?next=${encodeURIComponent(next)}`, { replace: true });
  }
  if (!screen.public && !allowed(screen, session.roles())) {
    // A staff or council screen opened before signing in (a link, a bookmark): sign in, then go there.
    if (session.get()?.anonymous) {
      const next = location.pathname + location.search;
      return navigate(`/account?next=${encodeURIComponent(next)}`, { replace: true });
    }
    return navigate("/", { replace: true });
  }
  if (cleanup) {
    try {
      cleanup();
    } catch (error) {
      console.error(error);
    }
    cleanup = null;
  }
  document.title = `${t(screen.title)} - civicloop`;
  updateNavigation(screen);
  main.replaceChildren(loading());
  let module;
  try {
    module = await screen.load();
  } catch (error) {
    const offline = { offline: !navigator.onLine };
    main.replaceChildren(h("h1", { class: "screen-title" }, t(screen.title)), failure(offline, () => render()));
    main.querySelector("h1").focus();
    return;
  }
  if (run !== renderCount) return; // a newer navigation won
  const query = new URLSearchParams(location.search);
  const ctx = { ...context, params, query, rerender: render, isCurrent: () => run === renderCount };
  main.replaceChildren();
  try {
    cleanup = (await module.render(main, ctx)) || null;
  } catch (error) {
    console.error(error);
    main.append(failure(error, () => render()));
  }
  if (run !== renderCount) return;
  const title = main.querySelector("h1");
  if (title) {
    title.setAttribute("tabindex", "-1");
    title.focus({ preventScroll: false });
  }
  main.dataset.screen = screen.path;
  document.dispatchEvent(new CustomEvent("screen-ready", { detail: { path: screen.path } }));
}

/** The navigation: entries the roles allow, in order, the current one marked. */
export function updateNavigation(active) {
  const list = document.getElementById("app-nav-list");
  if (!list || !context) return;
  const roles = context.session.roles();
  const registered = context.session.isRegistered();
  const entries = SCREENS.filter((s) => s.nav && registered && allowed(s, roles)).sort((a, b) => a.nav.order - b.nav.order);
  document.getElementById("app-nav").hidden = entries.length === 0;
  list.replaceChildren(
    ...entries.map((s) => {
      const current = active && (active === s || (active.path === "/" && s.path === "/report"));
      const badge = s.nav.badge ? context.badges?.[s.nav.badge] : 0;
      return h(
        "li",
        {},
        h(
          "a",
          { href: s.path, class: `nav-link icon-${s.nav.icon}`, "aria-current": current ? "page" : null },
          h("span", { class: "nav-icon", "aria-hidden": "true" }),
          h("span", { class: "nav-text" }, t(s.nav.label)),
          badge ? h("span", { class: "badge" }, h("span", { class: "visually-hidden" }, ", "), t("nav.unread", { count: badge })) : null,
        ),
      );
    }),
  );
}
