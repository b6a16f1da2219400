// Web push on this device, with the API's VAPID key. Unsupported browsers (and iOS outside an
// installed app) simply do not offer it.
import * as api from "./api.js";
import { kv } from "./store.js";

export function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function keyBytes(base64url) {
  const padded = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export async function enabled() {
  if (!supported()) return false;
  const registration = await navigator.serviceWorker.getRegistration();
  return Boolean(await registration?.pushManager.getSubscription()) && Boolean(await kv.get("push-subscription-id"));
}

/** Ask permission, subscribe, tell the server. Throws Error("denied") when the resident says no. */
export async function enable() {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw Object.assign(new Error("denied"), { code: "push-denied" });
  const registration = await navigator.serviceWorker.ready;
  const { public_key } = await api.messages.vapidKey();
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) });
  const saved = await api.messages.registerPush(subscription.toJSON());
  await kv.set("push-subscription-id", saved.id);
}

export async function disable() {
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  await subscription?.unsubscribe();
  const id = await kv.get("push-subscription-id");
  if (id) await api.messages.deletePush(id).catch(() => {});
  await kv.remove("push-subscription-id");
}
