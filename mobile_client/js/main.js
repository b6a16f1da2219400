// The app's start: language, the stored session, the service worker, the outbox triggers, then the
// router. Everything a screen needs arrives in its `ctx`.
import * as i18n from "./i18n.js";
import * as api from "./api.js";
import * as session from "./session.js";
import * as outbox from "./outbox.js";
import "./senders.js";
import "./participation_screens.js";
import * as router from "./router.js";
import { announce } from "./ui.js";

const badges = { unread: 0 };

const context = {
  api,
  session,
  outbox,
  i18n,
  t: i18n.t,
  navigate: router.navigate,
  announce,
  badges,
  refreshBadges,
};

async function refreshBadges() {
  if (!session.isRegistered() || !navigator.onLine) return;
  try {
    const { unread } = await api.messages.unread();
    if (unread !== badges.unread) {
      badges.unread = unread;
      router.updateNavigation(router.match(location.pathname).screen);
    }
  } catch {
    // not important enough to bother the resident
  }
}

function showConnection() {
  const el = document.getElementById("connection");
  el.hidden = navigator.onLine;
  el.textContent = navigator.onLine ? "" : i18n.t("app.offline");
}

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/sw.js", { type: "module", scope: "/" });
  } catch (error) {
    console.warn("no service worker", error);
  }
}

async function start() {
  // The first screen's module (and what it declares to preload, e.g. the map library) starts loading
  // beside the texts and the session: one round trip less on a cold start.
  const first = router.match(location.pathname).screen;
  first.load().catch(() => {});
  first.preload?.().catch(() => {});
  await Promise.all([i18n.setLanguage(i18n.preferredLanguage(), { remember: false }), session.load()]);
  showConnection();
  window.addEventListener("online", () => {
    showConnection();
    announce(i18n.t("app.online_again"));
    outbox.flush();
    refreshBadges();
  });
  window.addEventListener("offline", () => {
    showConnection();
    announce(i18n.t("app.offline"));
  });
  // Another context (the service worker) may ask us to send, e.g. when a sync event comes in.
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data === "flush-outbox") outbox.flush();
  });
  await router.start(context);
  outbox.flush();
  refreshBadges();
  document.addEventListener("screen-ready", refreshBadges);
  if (session.isRegistered() && navigator.onLine) session.refresh().catch(() => {});
  registerServiceWorker();
}

start();
