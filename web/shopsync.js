// shopsync.js: the browser client of a shopsync node's sync endpoints
// (docs/web-console.md, "The JavaScript client"). An ES module with no build
// step and no dependency: import it from the node that serves it.
//
//   import { ShopSync } from "/shopsync.js";
//   const sync = await ShopSync.open({ token, deviceId: "till-1" });
//   await sync.put("customers", { customer_id: "C1", name: "Ada" });  // local, UNSYNCED
//   const report = await sync.sync();                                  // push, then pull every page
//
// Records live in IndexedDB (database "shopsync:<deviceId>"), so the app
// works offline; sync() sends what changed locally and brings what changed
// elsewhere. Failed requests are retried with exponential backoff and full
// jitter; 4xx answers (but 408 and 429) are not retried.

const SEED_COLLECTIONS = ["customers", "orders", "payments", "projects"];
const BOOKKEEPING = ["sync_status", "last_synced_at", "_deleted", "updated_at"];

// The record id field of a collection, as the gateway names it:
// "customers" -> "customer_id", "categories" -> "category_id".
export function idField(collection) {
  let s = collection;
  if (s.length > 3 && s.endsWith("ies")) s = s.slice(0, -3) + "y";
  else if (s.endsWith("sses") || s.endsWith("xes")) s = s.slice(0, -2);
  else if (s.length > 1 && s.endsWith("s") && !s.endsWith("ss")) s = s.slice(0, -1);
  return s + "_id";
}

// An error of a request: `status` 0 when the node could not be reached.
export class SyncError extends Error {
  constructor(message, status = 0, code = "network") {
    super(message);
    this.name = "SyncError";
    this.status = status;
    this.code = code;
  }
  get retryable() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

// The wait before retry number `attempt` (0-based): full jitter over an
// exponentially growing cap, at most `maxDelayMs`.
export function backoffDelay(attempt, baseDelayMs, maxDelayMs, random = Math.random) {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
  });
}

// The local copy: records by [collection, id] and a few settings.
class LocalStore {
  constructor(db) {
    this.db = db;
  }

  static async open(name) {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      const records = db.createObjectStore("records", { keyPath: ["collection", "id"] });
      records.createIndex("sync_status", "sync_status");
      db.createObjectStore("meta");
      db.createObjectStore("conflicts", { keyPath: ["collection", "id"] });
    };
    return new LocalStore(await promised(request));
  }

  close() {
    this.db.close();
  }

  async meta(key) {
    return promised(this.db.transaction("meta").objectStore("meta").get(key));
  }

  async setMeta(key, value) {
    const tx = this.db.transaction("meta", "readwrite");
    tx.objectStore("meta").put(value, key);
    return done(tx);
  }

  async get(collection, id) {
    return promised(this.db.transaction("records").objectStore("records").get([collection, String(id)]));
  }

  async all(collection) {
    const range = IDBKeyRange.bound([collection, ""], [collection, "\uffff"]);
    return promised(this.db.transaction("records").objectStore("records").getAll(range));
  }

  async unsynced() {
    return promised(this.db.transaction("records").objectStore("records").index("sync_status").getAll("UNSYNCED"));
  }

  async write(entries, storeName = "records") {
    const tx = this.db.transaction(storeName, "readwrite");
    const store = tx.objectStore(storeName);
    for (const e of entries) store.put(e);
    return done(tx);
  }

  async remove(keys, storeName) {
    const tx = this.db.transaction(storeName, "readwrite");
    for (const k of keys) tx.objectStore(storeName).delete(k);
    return done(tx);
  }

  async conflicts() {
    return promised(this.db.transaction("conflicts").objectStore("conflicts").getAll());
  }
}

export class ShopSync {
  // Options:
  //   token        the gateway's Bearer token (required)
  //   deviceId     this device's name, 1 to 100 of [A-Za-z0-9._:-] (required)
  //   baseUrl      the node's address; default: the page's origin
  //   dbName       IndexedDB database; default "shopsync:<deviceId>"
  //   pageSize     records per pull page (1..1000, default 1000)
  //   retries      retries of a failed request (default 5)
  //   baseDelayMs  first backoff cap (default 500); maxDelayMs: largest (default 30000)
  //   timeoutMs    one request's time limit (default 30000)
  //   onProgress   called with {phase, ...} as a sync advances (see docs)
  //   fetch        the fetch function to use (default globalThis.fetch)
  static async open(options) {
    if (!options || !options.token) throw new SyncError("ShopSync.open: a token is required", 0, "invalid_argument");
    if (!/^[A-Za-z0-9._:-]{1,100}$/.test(options.deviceId || "")) {
      throw new SyncError("ShopSync.open: deviceId must be 1 to 100 of A-Z a-z 0-9 . _ : -", 0, "invalid_argument");
    }
    const store = await LocalStore.open(options.dbName || `shopsync:${options.deviceId}`);
    return new ShopSync(options, store);
  }

  constructor(options, store) {
    this.token = options.token;
    this.deviceId = options.deviceId;
    this.baseUrl = (options.baseUrl || globalThis.location?.origin || "").replace(/\/$/, "");
    this.pageSize = options.pageSize || 1000;
    this.retries = options.retries ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30000;
    this.timeoutMs = options.timeoutMs ?? 30000;
    this.onProgress = options.onProgress || (() => {});
    this.fetch = options.fetch || globalThis.fetch.bind(globalThis);
    this.store = store;
    this.running = null;
    this.timer = null;
  }

  close() {
    this.stopAuto();
    this.store.close();
  }

  // ---- the local copy ------------------------------------------------------

  // The record (its fields, plus sync_status), or undefined.
  async get(collection, id) {
    const entry = await this.store.get(collection, id);
    return entry && !entry.deleted ? { ...entry.data, sync_status: entry.sync_status } : undefined;
  }

  // Every live record of a collection, in id order.
  async all(collection) {
    const entries = await this.store.all(collection);
    return entries.filter((e) => !e.deleted).map((e) => ({ ...e.data, sync_status: e.sync_status }));
  }

  // Writes a record locally (the whole record; its id field names it) and
  // marks it UNSYNCED until a sync delivers it.
  async put(collection, record) {
    const field = idField(collection);
    if (record[field] === undefined || record[field] === null) {
      throw new SyncError(`${collection}: the record has no ${field}`, 0, "invalid_argument");
    }
    const data = { ...record };
    for (const k of BOOKKEEPING) delete data[k];
    const entry = {
      collection, id: String(record[field]), data, deleted: false,
      sync_status: "UNSYNCED", updated_at: new Date().toISOString(),
    };
    await this.store.write([entry]);
    return { ...data, sync_status: "UNSYNCED" };
  }

  // Deletes a record locally; the next sync deletes it on the node.
  async remove(collection, id) {
    const field = idField(collection);
    const entry = {
      collection, id: String(id), data: { [field]: id }, deleted: true,
      sync_status: "UNSYNCED", updated_at: new Date().toISOString(),
    };
    await this.store.write([entry]);
  }

  // Records written here and not yet accepted by the node.
  async pending() {
    return (await this.store.unsynced()).length;
  }

  // Conflicts the node left for a person to settle (manual strategy), as the
  // node reported them: {entityType, entityId, serverVersion, ...}.
  async conflicts() {
    return this.store.conflicts();
  }

  // ---- talking to the node -------------------------------------------------

  // POST (or GET without body) with retries; the parsed JSON answer.
  async request(path, body, method = body === undefined ? "GET" : "POST") {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce(path, body, method);
      } catch (error) {
        const e = error instanceof SyncError ? error : new SyncError(String(error?.message || error));
        if (!e.retryable || attempt >= this.retries) throw e;
        const delay = backoffDelay(attempt, this.baseDelayMs, this.maxDelayMs);
        this.onProgress({ phase: "retry", path, attempt: attempt + 1, delayMs: delay, error: e.message });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async requestOnce(path, body, method) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response;
    try {
      // The browser asks for gzip itself (Accept-Encoding) and inflates the answer.
      response = await this.fetch(this.baseUrl + path, {
        method,
        headers: { "Authorization": `Bearer ${this.token}`, "Content-Type": "application/json", "Accept": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (error) {
      throw new SyncError(`${path}: the node cannot be reached (${error?.message || error})`);
    } finally {
      clearTimeout(timer);
    }
    let doc = null;
    try {
      doc = await response.json();
    } catch {
      doc = null;
    }
    if (!response.ok) {
      throw new SyncError(`${path}: ${doc?.error || response.statusText}`, response.status, doc?.code || "http");
    }
    return doc;
  }

  // The node's view of this device (GET /api/sync/status/:deviceId).
  async status() {
    return this.request(`/api/sync/status/${encodeURIComponent(this.deviceId)}`);
  }

  // Pushes what changed locally, then pulls every page (POST /api/sync/full,
  // then /api/sync/pull with the cursor). One sync at a time: a call while
  // one runs returns the running one's promise.
  sync() {
    return this.exclusive(() => this.run(true));
  }

  // Pulls only (POST /api/sync/pull, every page).
  pull() {
    return this.exclusive(() => this.run(false));
  }

  // Pushes only (POST /api/sync/push).
  push() {
    return this.exclusive(async () => {
      const batch = await this.outgoing();
      if (batch.count === 0) return { pushed: 0, applied: [], conflicts: [], errors: [] };
      this.onProgress({ phase: "push", records: batch.count });
      const answer = await this.request("/api/sync/push", { deviceId: this.deviceId, changes: batch.changes });
      await this.settlePush(batch, answer);
      return { pushed: batch.count, applied: answer.applied, conflicts: answer.conflicts, errors: answer.errors };
    });
  }

  // Settles a conflict the node keeps for a person (POST
  // /api/sync/resolve-conflict): "server" keeps the node's version,
  // "client" or "merge" writes `data` (the whole record).
  async resolveConflict(collection, id, resolution, data) {
    const body = { deviceId: this.deviceId, entityType: collection, entityId: String(id), resolution };
    if (data !== undefined) body.data = data;
    const answer = await this.request("/api/sync/resolve-conflict", body);
    const record = answer.resolved?.record;
    if (record) await this.store.write([this.entryFromNode(collection, record, "SYNCED")]);
    await this.store.remove([[collection, String(id)]], "conflicts");
    return answer.resolved;
  }

  // Syncs every `intervalMs` (and at once); errors go to onProgress
  // ({phase: "error"}). stopAuto() ends it.
  startAuto(intervalMs = 30000) {
    this.stopAuto();
    const tick = async () => {
      try {
        await this.sync();
      } catch (error) {
        this.onProgress({ phase: "error", error: error.message, status: error.status });
      }
      if (this.timer !== null) this.timer = setTimeout(tick, intervalMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  stopAuto() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  // ---- internals -----------------------------------------------------------

  exclusive(work) {
    if (!this.running) this.running = work().finally(() => { this.running = null; });
    return this.running;
  }

  async outgoing() {
    const unsynced = await this.store.unsynced();
    const changes = {};
    for (const e of unsynced) {
      const record = { ...e.data, updated_at: e.updated_at };
      if (e.deleted) record._deleted = true;
      (changes[e.collection] ||= []).push(record);
    }
    return { changes, entries: unsynced, count: unsynced.length };
  }

  // Marks pushed records SYNCED unless they were written again meanwhile;
  // keeps the conflicts left for a person.
  async settlePush(batch, answer) {
    const failed = new Set((answer.errors || []).map((e) => `${e.entityType}\u0000${e.uniqueId ?? e.entityId}`));
    const settled = [];
    for (const sent of batch.entries) {
      if (failed.has(`${sent.collection}\u0000${sent.id}`)) continue;
      const now = await this.store.get(sent.collection, sent.id);
      if (now && now.updated_at === sent.updated_at) settled.push({ ...now, sync_status: "SYNCED", last_synced_at: new Date().toISOString() });
    }
    await this.store.write(settled);
    const manual = (answer.conflicts || []).filter((c) => c.requiresResolution || c.pendingResolution);
    await this.store.write(manual.map((c) => ({ ...c, collection: c.entityType, id: String(c.entityId) })), "conflicts");
  }

  entryFromNode(collection, record, status) {
    const id = String(record[idField(collection)]);
    const data = { ...record };
    for (const k of BOOKKEEPING) delete data[k];
    return { collection, id, data, deleted: record._deleted === true, sync_status: status, updated_at: record.updated_at };
  }

  async run(withPush) {
    const report = { pushed: 0, pulled: 0, pages: 0, applied: [], conflicts: [], errors: [] };
    const since = (await this.store.meta("lastSyncTimestamp")) ?? null;
    let batch = { count: 0, changes: {}, entries: [] };
    if (withPush) batch = await this.outgoing();
    this.onProgress({ phase: "start", pending: batch.count });
    let body = { deviceId: this.deviceId, lastSyncTimestamp: since, limit: this.pageSize, cursor: null };
    let path = "/api/sync/pull";
    if (batch.count > 0) {
      path = "/api/sync/full";
      body = { ...body, changes: batch.changes };
      this.onProgress({ phase: "push", records: batch.count });
    }
    let first = null;
    for (;;) {
      const answer = await this.request(path, body);
      if (path === "/api/sync/full") {
        await this.settlePush(batch, answer);
        report.pushed = batch.count;
        report.applied = answer.applied || [];
        report.errors = answer.errors || [];
      }
      first ??= answer.timestamp;
      report.conflicts.push(...(answer.conflicts || []));
      report.pulled += await this.applyPulled(answer.changes || {});
      report.pages += 1;
      this.onProgress({ phase: "pull", page: report.pages, records: report.pulled, hasMore: !!answer.hasMore });
      if (!answer.hasMore) break;
      path = "/api/sync/pull";
      body = { deviceId: this.deviceId, lastSyncTimestamp: since, limit: this.pageSize, cursor: answer.cursor };
    }
    // The first page's timestamp: what was written while the pages were read
    // comes with the next sync.
    await this.store.setMeta("lastSyncTimestamp", first);
    this.onProgress({ phase: "done", ...report });
    return report;
  }

  // Stores pulled records, but never over a local edit not yet pushed (the
  // node decides that conflict when it arrives).
  async applyPulled(changes) {
    const entries = [];
    for (const [collection, records] of Object.entries(changes)) {
      for (const record of records) {
        const entry = this.entryFromNode(collection, record, "SYNCED");
        const local = await this.store.get(collection, entry.id);
        if (local && local.sync_status === "UNSYNCED") continue;
        entries.push(entry);
      }
    }
    await this.store.write(entries);
    return entries.length;
  }
}

export { SEED_COLLECTIONS };
