// Who is using the app: the device's (anonymous) account or a signed-in one, its jurisdiction and
// roles. Kept in IndexedDB so the service worker can send the outbox with the same token.
import { kv } from "./store.js";
import * as api from "./api.js";
import * as push from "./push.js";

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

/**
 * Ask for an account: the server mails a link (the answer is the same whether the address has an
 * account or not). Opening the link on this device turns its anonymous account into the new one, so
 * its reports stay; the session does not change until then.
 */
export async function signUp({ email, password, displayName, locale }) {
  await api.auth.signUp({
    jurisdiction: current.jurisdiction.slug,
    email,
    password,
    display_name: displayName || null,
    locale,
  });
}

/** Sign in with a token from a mailed link, here or on a device that never opened the app. */
async function adopt(answer) {
  api.configure({ token: answer.token, jurisdiction: current?.jurisdiction?.slug ?? null });
  const me = await api.auth.me();
  let jurisdiction = current?.jurisdiction ?? null;
  if (jurisdiction?.slug !== me.jurisdiction) {
    const found = (await api.places.jurisdictions()).find((j) => j.slug === me.jurisdiction);
    jurisdiction = { slug: me.jurisdiction, name: found?.name ?? me.jurisdiction, bbox: found?.bbox ?? null };
  }
  await save({
    ...(current ?? {}),
    token: answer.token,
    accountId: me.account_id,
    jurisdiction,
    anonymous: me.is_anonymous,
    roles: me.roles,
    email: me.email,
  });
  return current;
}

export async function confirmSignUp(token) {
  return adopt(await api.auth.confirmSignUp(token));
}

export async function requestPasswordReset(email) {
  await api.auth.requestReset({ jurisdiction: current.jurisdiction.slug, email });
}

export async function resetPassword(token, password) {
  return adopt(await api.auth.resetPassword(token, password));
}

/** A new password ends every other session; this device goes on with the new token. */
export async function changePassword(currentPassword, newPassword) {
  const answer = await api.auth.changePassword({ current_password: currentPassword, new_password: newPassword });
  await save({ ...current, token: answer.token });
}

export async function signIn({ email, password }) {
  const answer = await api.auth.signIn({ jurisdiction: current.jurisdiction.slug, email, password });
  await save({ ...current, token: answer.token, accountId: answer.account_id, anonymous: false, email });
  return refresh();
}

/**
 * Sign out: push on this device stops, the server ends the token (or, `everywhere`, every token of
 * the account), and the app forgets it; the next start registers a new anonymous device. Offline, the
 * token is forgotten here all the same.
 */
export async function signOut({ everywhere = false } = {}) {
  await push.disable().catch(() => {});
  try {
    await (everywhere ? api.auth.signOutEverywhere() : api.auth.signOut());
  } catch (error) {
    if (!error.offline && error.status !== 401) throw error;
  }
  await save(null);
}

/** Delete the account (its reports stay, anonymised); this device then starts afresh. */
export async function deleteAccount(password) {
  await push.disable().catch(() => {});
  await api.auth.deleteAccount(password);
  await save(null);
}

export async function setJurisdiction(jurisdiction) {
  await save({ ...current, jurisdiction });
}
