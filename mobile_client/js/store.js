// IndexedDB, the app's only persistent store (through idb). Screens never use it directly: the
// session module keeps the sign-in here, the outbox module its queue. Works in the page and in the
// service worker alike (no DOM).
import { openDB } from "../vendor/idb/index.js";

const NAME = "civicloop";
const VERSION = 1;
let opened = null;

/** The database, opened once per context. Stores: kv (small values), outbox (queued writes). */
export function database() {
  opened ??= openDB(NAME, VERSION, {
    upgrade(db) {
      db.createObjectStore("kv");
      const outbox = db.createObjectStore("outbox", { keyPath: "id" });
      outbox.createIndex("createdAt", "createdAt");
    },
  });
  return opened;
}

export const kv = {
  async get(key) {
    return (await database()).get("kv", key);
  },
  async set(key, value) {
    await (await database()).put("kv", value, key);
  },
  async remove(key) {
    await (await database()).delete("kv", key);
  },
};

export const outboxTable = {
  async all() {
    return (await database()).getAllFromIndex("outbox", "createdAt");
  },
  async get(id) {
    return (await database()).get("outbox", id);
  },
  async put(item) {
    await (await database()).put("outbox", item);
  },
  async remove(id) {
    await (await database()).delete("outbox", id);
  },
};
