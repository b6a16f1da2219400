// Who is using the app: the device's (anonymous) account or a signed-in one, its jurisdiction and
// roles. Kept in IndexedDB so the service worker can send the outbox with the same token.
import { kv } from "./store.js";
import * as api from "./api.js";

const KEY = "session";
let current = null; // {token, accountId, jurisdiction: {slug, name, bbox}, anonymous, roles, email,
//                     councilAreaIds, departmentIds}
const listeners = new Set();

export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function save(next) {
  current = next;
  if (next) await kv.set(KEY, next);
  else await kv.remove(KEY);
  api.configure({ token: next?.token ?? null, jurisdiction: next?.jurisdiction?.slug ?? null });
  for (const listener of listeners) listener(current);
}

/** Load the stored session (at app start, and in the service worker before sending). */
export async function load() {
  current = (await kv.get(KEY)) ?? null;
  api.configure({ token: current?.token ?? null, jurisdiction: current?.jurisdiction?.slug ?? null });
  return current;
}

export function get() {
  return current;
}

export function isRegistered() {
  return Boolean(current?.token);
}

export function roles() {
  return current?.roles ?? [];
}

export function jurisdiction() {
  return current?.jurisdiction ?? null;
}

/** First start: an anonymous account for this device. The key is made when the button is pressed. */
export async function registerDevice(jurisdiction, locale, idempotencyKey = api.newKey()) {
  const answer = await api.auth.registerDevice(jurisdiction.slug, locale, idempotencyKey);
  await save({ token: answer.token, accountId: answer.account_id, jurisdiction, anonymous: true, roles: ["resident"] });
  await refresh();
  return current;
}

/** Ask the server who we are (roles change when an administrator grants one). */
export async function refresh() {
  if (!current?.token) return current;
  try {
    const me = await api.auth.me();
    await save({
      ...current,
      accountId: me.account_id,
      anonymous: me.is_anonymous,
      roles: me.roles,
      councilAreaIds: me.council_area_ids,
      departmentIds: me.department_ids,
    });
  } catch (error) {
    if (error.status === 401) await save(null); // the token expired or was revoked: start again
    else if (!error.offline) throw error;
  }
  return current;
}

/** Keep this device's reports: the anonymous account becomes a registered one. */
export async function signUp({ email, password, displayName, locale }) {
  const answer = await api.auth.signUp({
    jurisdiction: current.jurisdiction.slug,
    email,
    password,
    display_name: displayName || null,
    locale,
  });
  await save({ ...current, token: answer.token, accountId: answer.account_id, anonymous: false, email });
  return refresh();
}

export async function signIn({ email, password }) {
  const answer = await api.auth.signIn({ jurisdiction: current.jurisdiction.slug, email, password });
  await save({ ...current, token: answer.token, accountId: answer.account_id, anonymous: false, email });
  return refresh();
}

/** Forget the sign-in on this device; the next start registers a new anonymous device. */
export async function signOut() {
  await save(null);
}

export async function setJurisdiction(jurisdiction) {
  await save({ ...current, jurisdiction });
}
