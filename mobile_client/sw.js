// The service worker (hand-written, no library). The server fills in the version and the shell list.
//
// - The app shell (index, styles, modules, icons, texts) is cached per version at install; old
//   versions' caches go when the new worker takes over. Pages are answered from the cache first, so
//   the app opens without a network.
// - Files under /app/<version>/ are immutable: cache first (the map library is cached when first used).
// - Map tiles: the recently seen ones are kept (at most MAX_TILES), refreshed in the background.
// - Public reference data (jurisdictions, categories, areas) is network first with the cache as
//   fallback, so a report can be made offline. Nothing else from the API is ever cached: answers
//   that carry personal data (my reports, the inbox, the account) never touch the cache.
// - Background Sync "outbox": send the queued writes (reports, "me too", answers) without a page.
import * as session from "%BASE%/js/session.js";
import { flush } from "%BASE%/js/outbox.js";
import "%BASE%/js/senders.js";

const VERSION = "%VERSION%";
const SHELL = "%SHELL%";
const SHELL_CACHE = `shell-${VERSION}`;
const TILE_CACHE = "tiles";
const DATA_CACHE = "public-data";
const MAX_TILES = 400;
const PUBLIC_DATA = [
  /^\/api\/v1\/jurisdictions$/,
  /^\/api\/v1\/jurisdictions\/[^/]+$/,
  /^\/api\/v1\/jurisdictions\/[^/]+\/categories$/,
  /^\/api\/v1\/jurisdictions\/[^/]+\/areas$/,
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      await cache.addAll(["/", ...SHELL]);
      // No skipWaiting: a page of the old version keeps its files until it is closed.
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("shell-") && name !== SHELL_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname.startsWith("/api/") || url.pathname === "/docs") return;
    event.respondWith(shellFirst(request));
  } else if (url.pathname.startsWith(`/app/${VERSION}/`)) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.startsWith("/tiles/")) {
    event.respondWith(recentTiles(event, request));
  } else if (!request.headers.has("Authorization") && PUBLIC_DATA.some((re) => re.test(url.pathname))) {
    event.respondWith(networkFirst(request));
  }
});

/** Every client-side route is the same index.html: answer from the cache, refresh it behind. */
async function shellFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match("/");
  const fresh = fetch("/", { cache: "no-cache" })
    .then((response) => {
      if (response.ok) cache.put("/", response.clone());
      return response;
    })
    .catch(() => null);
  if (cached) return cached;
  return (await fresh) || fetch(request);
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

async function recentTiles(event, request) {
  const cache = await caches.open(TILE_CACHE);
  const cached = await cache.match(request);
  const fresh = fetch(request)
    .then(async (response) => {
      if (response.ok) {
        await cache.put(request, response.clone());
        const keys = await cache.keys();
        for (const old of keys.slice(0, Math.max(0, keys.length - MAX_TILES))) await cache.delete(old);
      }
      return response;
    })
    .catch(() => null);
  if (cached) {
    event.waitUntil(fresh);
    return cached;
  }
  return (await fresh) || new Response(null, { status: 504 });
}

async function networkFirst(request) {
  const cache = await caches.open(DATA_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") event.waitUntil(sendOutbox());
});

async function sendOutbox() {
  await session.load();
  const counts = await flush();
  if (counts.waiting) throw new Error("still waiting for the network"); // the browser retries later
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: "civicloop", body: event.data?.text() };
  }
  const title = data.title || data.subject || "civicloop";
  const reportId = data.data?.report_id;
  const page = data.data?.url ? new URL(data.data.url, self.location.origin) : null;
  const sameApp = page && page.origin === self.location.origin && !page.pathname.startsWith("/api/");
  const url = reportId ? `/reports/${reportId}` : sameApp ? page.pathname + page.search : "/inbox";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      icon: `/app/${VERSION}/icons/icon-192.png`,
      badge: `/app/${VERSION}/icons/icon-192.png`,
      data: { url },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data?.url || "/";
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if ("focus" in client) {
          await client.navigate(url).catch(() => null);
          return client.focus();
        }
      }
      return self.clients.openWindow(url);
    })(),
  );
});
