// The outbox: every write a resident makes waits here (IndexedDB) until the server has it.
//
// An item is made when the button is pressed, with its Idempotency-Key, so however often it is sent
// (retries, a reload, Background Sync in the service worker and the page at once) the server makes
// one report. It survives closing the app and is sent on `online`, on app start and by Background
// Sync where the browser has it. One flush at a time per device (Web Locks), items in order.
//
// What is sent for a kind of item is a *sender*, registered with registerSender(kind, fn) (see
// senders.js); fn(item, save) does the calls and may save progress (e.g. uploaded photo ids) with
// `await save()`. It returns the result kept on the item (e.g. the new report's id).
import { outboxTable } from "./store.js";
import { newKey } from "./api.js";

export const WAITING = "waiting";
export const SENDING = "sending";
export const SENT = "sent";
export const FAILED = "failed";

const senders = new Map();
const listeners = new Set();
const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("civicloop-outbox");
const KEEP_SENT_MS = 14 * 24 * 3600 * 1000;
let flushing = null;
let next = null; // the run promised to callers that came during the current one

export function registerSender(kind, send) {
  senders.set(kind, send);
}

/** Call `listener()` whenever an item changes, in this context or another (page, worker). */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  for (const listener of listeners) listener();
  channel?.postMessage("changed");
}
channel?.addEventListener("message", () => {
  for (const listener of listeners) listener();
});

/** Queue a write. `summary` is what lists show while it waits (plain data, no texts). */
export async function enqueue(kind, payload, { summary = {}, key = newKey() } = {}) {
  if (!senders.has(kind)) throw new Error(`no sender for ${kind}`);
  const item = {
    id: key,
    kind,
    payload,
    summary,
    idempotencyKey: key,
    createdAt: Date.now(),
    state: WAITING,
    attempts: 0,
    result: null,
    error: null,
  };
  await outboxTable.put(item);
  changed();
  await requestBackgroundSync();
  flush();
  return item;
}

export async function items({ kind } = {}) {
  const all = await outboxTable.all();
  return all.filter((item) => !kind || item.kind === kind).reverse();
}

export function get(id) {
  return outboxTable.get(id);
}

export async function discard(id) {
  await outboxTable.remove(id);
  changed();
}

/** A failed item (refused by the server) sent again, e.g. after the resident changed nothing. */
export async function retry(id) {
  const item = await outboxTable.get(id);
  if (item && item.state === FAILED) {
    item.state = WAITING;
    item.error = null;
    await outboxTable.put(item);
    changed();
  }
  return flush();
}

/** Resolve when the item is sent or failed (or after `timeout` ms), with the item. */
export function settled(id, timeout = 30000) {
  return new Promise((resolve) => {
    let stop = () => {};
    const check = async () => {
      const item = await outboxTable.get(id);
      if (!item || item.state === SENT || item.state === FAILED) {
        stop();
        clearTimeout(timer);
        resolve(item);
      }
    };
    const timer = setTimeout(async () => {
      stop();
      resolve(await outboxTable.get(id));
    }, timeout);
    stop = subscribe(check);
    check();
  });
}

async function withLock(work) {
  if (globalThis.navigator?.locks) return navigator.locks.request("civicloop-outbox", work);
  return work();
}

/**
 * Send what waits, oldest first. Returns {sent, waiting, failed} counts of the run that covers
 * everything queued before the call: called during a run, it answers with the next run (one for
 * all such callers), so `await flush()` never returns while an item it should send is mid-flight.
 */
export function flush() {
  if (flushing) {
    next ??= flushing
      .catch(() => {})
      .then(() => {
        next = null;
        return flush();
      });
    return next;
  }
  flushing = withLock(sendAll).finally(() => {
    flushing = null;
  });
  return flushing;
}

async function sendAll() {
  const counts = { sent: 0, waiting: 0, failed: 0 };
  const now = Date.now();
  for (const item of await outboxTable.all()) {
    if (item.state === SENT && now - item.createdAt > KEEP_SENT_MS) {
      await outboxTable.remove(item.id);
      continue;
    }
    if (item.state !== WAITING && item.state !== SENDING) continue;
    if (globalThis.navigator && navigator.onLine === false) {
      counts.waiting += 1;
      continue;
    }
    const send = senders.get(item.kind);
    if (!send) continue;
    item.state = SENDING;
    item.attempts += 1;
    await outboxTable.put(item);
    changed();
    try {
      item.result = await send(item, async () => {
        await outboxTable.put(item);
        changed();
      });
      item.state = SENT;
      item.error = null;
      counts.sent += 1;
    } catch (error) {
      const retryable = error?.retryable ?? false;
      item.state = retryable ? WAITING : FAILED;
      item.error = { code: error?.code || "error", status: error?.status || 0, fields: error?.fields || {} };
      counts[retryable ? "waiting" : "failed"] += 1;
    }
    await outboxTable.put(item);
    changed();
    if (item.state === WAITING) break; // the network is gone: the rest waits too, in order
  }
  return counts;
}

async function requestBackgroundSync() {
  try {
    const registration = await globalThis.navigator?.serviceWorker?.getRegistration?.();
    await registration?.sync?.register("outbox");
  } catch {
    // No Background Sync (Safari, Firefox) or not allowed: `online` and app start send it instead.
  }
}
