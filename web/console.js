// The shopsync web console (docs/web-console.md): one page, four views, the
// node's /api/console/* endpoints. No framework, no build step.

const REFRESH_MS = 2500;
const $ = (selector, root = document) => root.querySelector(selector);

// h("td", {class: "num"}, "12") -> <td class="num">12</td>. Text is always
// set as text (record values come from anywhere).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// ---- session ----------------------------------------------------------------

const session = {
  token: sessionStorage.getItem("shopsync.token") || localStorage.getItem("shopsync.token") || "",
  save(token, remember) {
    this.token = token;
    sessionStorage.setItem("shopsync.token", token);
    if (remember) localStorage.setItem("shopsync.token", token);
  },
  clear() {
    this.token = "";
    sessionStorage.removeItem("shopsync.token");
    localStorage.removeItem("shopsync.token");
  },
};

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = "GET", body, token = session.token } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { "Authorization": `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError("The node does not answer. Is shopsyncd running?", 0);
  }
  const doc = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(doc.error || response.statusText, response.status);
  return doc;
}

// ---- formatting -------------------------------------------------------------

function ago(ms, now = Date.now()) {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return "just now";
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function duration(ms) {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

function offset(ms) {
  if (Math.abs(ms) < 1000) return `${ms >= 0 ? "+" : "−"}${Math.abs(ms)} ms`;
  return `${ms >= 0 ? "+" : "−"}${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

const when = (ms) => (ms ? new Date(ms).toLocaleString() : "never");
const valueText = (v) => (typeof v === "string" ? v : JSON.stringify(v));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Node names by id (this node and its peers), for "written at shop-b".
const nodeNames = new Map();
function learnNames(status, peers) {
  state.node = status;
  nodeNames.set(status.node_id, status.name || "this node");
  for (const p of peers) if (p.node_id && p.name) nodeNames.set(p.node_id, p.name);
}
// Who wrote a version: this node names its own writes; another node's
// writer id is not a name this node knows.
function writer(version) {
  return version.written_here ? `${state.node?.name || "this node"} (here)` : "another node";
}
const nodeName = (id) => nodeNames.get(id) || `node ${id}`;

function stateBadge(state) {
  const kind = state === "connected" ? "ok" : state === "refused" || state === "error" ? "bad" : "warn";
  return h("span", { class: `badge ${kind}` }, state || "unknown");
}

function valueCell(fields, name, deleted) {
  if (deleted) return h("span", { class: "value absent" }, "deleted");
  if (!(name in fields)) return h("span", { class: "value absent" }, "not set");
  return h("span", { class: "value" }, valueText(fields[name]));
}

// ---- the page ---------------------------------------------------------------

const views = ["overview", "conflicts", "records", "tokens"];
const state = { view: "login", timer: null, node: null, conflict: null, collection: null, record: null, mergeTouched: false };

function notice(text, bad = false) {
  const el = $("#notice");
  el.textContent = text;
  el.className = bad ? "notice bad" : "notice";
  el.hidden = !text;
  clearTimeout(notice.timer);
  if (text) notice.timer = setTimeout(() => { el.hidden = true; }, bad ? 12000 : 6000);
}

function show(view) {
  state.view = view;
  for (const name of ["login", ...views]) $(`#view-${name}`).hidden = name !== view;
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.view === view);
  const signedIn = view !== "login";
  $("#tabs").hidden = !signedIn;
  $("#logout").hidden = !signedIn;
  $("#live").hidden = !signedIn;
}

async function refresh() {
  if (state.view === "login") return;
  try {
    await renderers[state.view]();
    $("#live").classList.remove("stale");
    $("#live").textContent = "live";
    $("#updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (e.status === 401) return signOut("Your token was refused (revoked?). Sign in again.");
    $("#live").classList.add("stale");
    $("#live").textContent = "offline";
    notice(e.message, true);
  }
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(async () => {
    await refresh();
    if (state.view !== "login") schedule();
  }, REFRESH_MS);
}

async function route() {
  if (!session.token) return show("login");
  const view = (location.hash.match(/^#\/(\w+)/) || [])[1];
  if (view !== "tokens") state.createdToken = null;  // a secret is shown once
  if (view !== state.view) notice("");
  show(views.includes(view) ? view : "overview");
  await refresh();
  schedule();
  $("#main").focus({ preventScroll: true });
}

function signOut(message) {
  session.clear();
  clearTimeout(state.timer);
  show("login");
  $("#login-error").textContent = message || "";
  $("#login-error").hidden = !message;
  $("#token").value = "";
  $("#token").focus();
}

// ---- nodes and peers ----------------------------------------------------------

async function renderOverview() {
  const doc = await api("/api/console/overview");
  const s = doc.status;
  state.node = s;
  learnNames(s, doc.peers);
  updateHeader(s);
  const records = s.collections.reduce((n, c) => n + c.records, 0);
  const view = $("#view-overview");
  const stat = (k, v, bad) => h("div", { class: bad ? "stat bad" : "stat" }, h("div", { class: "k" }, k), h("div", { class: "v" }, v));
  const peers = doc.peers;
  view.replaceChildren(
    h("h1", {}, `${s.name || "This node"}`, h("span", { class: "muted" }, ` · ${s.role} · cluster ${s.cluster}`)),
    h("div", { class: "stats" },
      stat("Records", records.toLocaleString()),
      stat("Open conflicts", s.open_conflicts, s.open_conflicts > 0),
      stat("Peers connected", `${peers.filter((p) => p.state === "connected").length} of ${peers.length}`),
      stat("Writes made here", s.counter.toLocaleString()),
      stat("Running for", duration(s.uptime_ms)),
      stat("Disk", s.disk_full_since_ms ? "FULL" : "OK", !!s.disk_full_since_ms)),
    h("h2", {}, "Peers"),
    peers.length === 0
      ? h("div", { class: "empty" }, "No peers yet. Other nodes appear here when they are found on the network or configured.")
      : h("table", { id: "peers" },
          h("thead", {}, h("tr", {},
            h("th", {}, "Node"), h("th", {}, "State"), h("th", { class: "num" }, "Behind (changes)"),
            h("th", { class: "num" }, "Behind (time)"), h("th", {}, "Last sync"), h("th", { class: "num" }, "Clock offset"),
            h("th", {}, "Sync progress"), h("th", {}, "Last error"))),
          h("tbody", {}, peers.map((p) => peerRow(p, doc.now_ms)))),
    h("h2", {}, "Collections"),
    h("table", { id: "collections" },
      h("thead", {}, h("tr", {}, h("th", {}, "Collection"), h("th", { class: "num" }, "Records"))),
      h("tbody", {}, s.collections.map((c) => h("tr", {},
        h("td", {}, h("a", { href: `#/records/${encodeURIComponent(c.name)}` }, c.name)),
        h("td", { class: "num" }, c.records.toLocaleString()))))),
    h("p", { class: "muted" }, `Node ${s.node_id} · shopsyncd ${s.version || ""} · HLC clock ${when(s.clock_ms)}`));
}

function peerRow(p, now) {
  const sync = p.syncing && p.sync
    ? h("div", {},
        `${p.sync.records_received.toLocaleString()} of ~${p.sync.records_total.toLocaleString()}`,
        h("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
                   "aria-valuenow": Math.round(100 * p.sync.records_received / Math.max(1, p.sync.records_total)) },
          progressBar(p.sync.records_received, p.sync.records_total)),
        p.sync.rate ? h("span", { class: "muted" }, `${p.sync.rate.toLocaleString()} rec/s, ETA ${duration(p.sync.eta_ms)}`) : "")
    : h("span", { class: "muted" }, p.lag_changes === 0 ? "in step" : "idle");
  return h("tr", { "data-peer": p.name || p.node_id },
    h("td", {}, h("strong", {}, p.name || p.node_id), h("div", { class: "muted mono" }, `${p.role} · ${p.address || p.node_id}`)),
    h("td", {}, stateBadge(p.state)),
    h("td", { class: "num" }, p.lag_changes.toLocaleString()),
    h("td", { class: "num" }, p.lag_changes ? duration(p.lag_ms) : "—"),
    h("td", {}, ago(p.last_sync_ms, now)),
    h("td", { class: "num" }, offset(p.clock_offset_ms)),
    h("td", {}, sync),
    h("td", { class: p.last_error ? "error" : "muted" }, p.last_error || "none"));
}

function progressBar(done, total) {
  const bar = h("span");
  bar.style.width = `${Math.min(100, Math.round(100 * done / Math.max(1, total)))}%`;
  return bar;
}

function updateHeader(s) {
  $("#node-name").textContent = s.name ? `· ${s.name}` : "";
  document.title = `shopsync · ${s.name || "console"}`;
  const count = $("#conflict-count");
  count.textContent = s.open_conflicts;
  count.hidden = !s.open_conflicts;
}

// ---- conflicts ----------------------------------------------------------------

async function renderConflicts() {
  if (!nodeNames.size) {
    const o = await api("/api/console/overview");
    learnNames(o.status, o.peers);
  }
  const doc = await api("/api/console/conflicts?limit=200");
  const open = doc.open;
  const view = $("#view-conflicts");
  const key = (r) => `${r.collection}/${r.id}`;
  const selected = open.find((r) => state.conflict && key(r) === state.conflict.key) || open[0] || null;
  const count = $("#conflict-count");
  count.textContent = open.length;
  count.hidden = !open.length;
  if (selected && state.conflict && state.conflict.key === key(selected) && same(state.conflict.data, selected) &&
      view.childElementCount) {
    return;  // nothing changed: keep what the person is composing
  }
  state.conflict = selected ? { key: key(selected), data: selected } : null;
  state.mergeTouched = false;
  if (!open.length) {
    view.replaceChildren(h("h1", {}, "Conflicts"),
      h("div", { class: "empty", id: "no-conflicts" }, "No open conflicts. Every record has one agreed version."));
    return;
  }
  const list = h("ul", { class: "list", id: "conflict-list", "aria-label": "Open conflicts" },
    open.map((r) => h("li", {
      tabindex: 0, class: selected && key(r) === key(selected) ? "selected" : "", "data-key": key(r),
      onclick: () => selectConflict(r), onkeydown: (e) => listKeys(e, () => selectConflict(r)),
    }, h("strong", {}, key(r)), h("div", { class: "sub" }, `${r.siblings.length} versions · ${r.strategy}`))));
  view.replaceChildren(h("h1", {}, "Conflicts ", h("span", { class: "muted" }, `(${open.length} open)`)),
    h("div", { class: "split" }, list, conflictDetail(selected)));
}

function selectConflict(r) {
  state.conflict = { key: `${r.collection}/${r.id}`, data: null };
  renderConflicts().catch((e) => notice(e.message, true));
}

function listKeys(e, open) {
  if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); }
  if (e.key === "ArrowDown" && e.target.nextElementSibling) { e.preventDefault(); e.target.nextElementSibling.focus(); }
  if (e.key === "ArrowUp" && e.target.previousElementSibling) { e.preventDefault(); e.target.previousElementSibling.focus(); }
}

function fieldNames(versions) {
  const names = new Set();
  for (const v of versions) for (const n of Object.keys(v.fields)) names.add(n);
  return [...names].sort();
}

// The versions side by side, field by field, and a merge column: each field
// takes one version's value (buttons) or a value typed in.
function conflictDetail(r) {
  const versions = r.siblings;
  const names = fieldNames(versions);
  const merge = {};
  const mergeCells = {};
  for (const name of names) {
    const first = versions.find((v) => !v.deleted && name in v.fields);
    merge[name] = first ? first.fields[name] : undefined;
  }
  // A field whose versions all hold text is edited as text; any other as JSON.
  const textual = {};
  const shown = (name, value) => (value === undefined ? "" : textual[name] ? value : JSON.stringify(value));
  const setMerge = (name, value) => {
    merge[name] = value;
    mergeCells[name].value = shown(name, value);
    mergeCells[name].setCustomValidity("");
    state.mergeTouched = true;
  };
  const rows = names.map((name) => {
    const values = versions.map((v) => (v.deleted || !(name in v.fields) ? undefined : v.fields[name]));
    const differs = values.some((v) => !same(v, values[0]));
    textual[name] = values.every((v) => v === undefined || typeof v === "string");
    const input = h("input", { type: "text", "aria-label": `Merged value of ${name}`, "data-field": name,
      placeholder: "(left out)",
      oninput: (e) => {
        state.mergeTouched = true;
        const text = e.target.value;
        if (textual[name] || text.trim() === "") {
          merge[name] = text === "" ? undefined : text;
          return;
        }
        try { merge[name] = JSON.parse(text); e.target.setCustomValidity(""); }
        catch { e.target.setCustomValidity("Not a number or JSON value"); }
      } });
    input.value = shown(name, merge[name]);
    mergeCells[name] = input;
    return h("tr", {},
      h("td", { class: "field" }, name),
      versions.map((v) => h("td", { class: differs ? "differs" : "" }, valueCell(v.fields, name, v.deleted))),
      h("td", { class: "merge" }, h("div", { class: "choices" }, input, versions.map((v, i) => h("button", {
        type: "button", title: `Take ${name} from version ${i + 1}`, "aria-label": `Take ${name} from version ${i + 1}`,
        onclick: () => setMerge(name, values[i]),
      }, `${i + 1}`)))));
  });
  const pickButtons = versions.map((v, i) => h("button", {
    type: "button", class: "primary", "data-pick": v.dot,
    onclick: () => resolve(r, { pick: v.dot }, `version ${i + 1}`),
  }, `Keep version ${i + 1}`));
  const saveMerge = h("button", {
    type: "button", id: "save-merge",
    onclick: () => {
      const bad = Object.values(mergeCells).find((cell) => !cell.checkValidity());
      if (bad) {
        notice(`${bad.dataset.field}: ${bad.validationMessage}`, true);
        bad.focus();
        return;
      }
      const fields = {};
      for (const [n, v] of Object.entries(merge)) if (v !== undefined) fields[n] = v;
      resolve(r, { fields }, "the merged record");
    },
  }, "Save merged record");
  return h("div", { class: "card", id: "conflict-detail" },
    h("h2", {}, `${r.collection} / ${r.id}`),
    h("p", { class: "muted" }, `Strategy ${r.strategy}: these versions were written at different shops without seeing each other. ` +
      "Keep one, or build the merged record in the last column (changed fields are highlighted). The choice is sent to every node."),
    h("div", { class: "actions" }, pickButtons, saveMerge),
    h("div", { class: "scroll" }, h("table", { class: "versions", id: "versions" },
      h("thead", {}, h("tr", {}, h("th", {}, "Field"),
        versions.map((v, i) => h("th", {}, `Version ${i + 1}`, h("span", { class: "when" }, `from ${writer(v)}${v.uplink ? " (uplink)" : ""}`),
          h("span", { class: "when" }, when(v.updated_at_ms)))),
        h("th", {}, "Merged record", h("span", { class: "when" }, "take a version's value or type one")))),
      h("tbody", {}, rows))));
}

async function resolve(r, how, what) {
  try {
    await api("/api/console/resolve", { method: "POST", body: { collection: r.collection, id: r.id, ...how } });
    notice(`${r.collection}/${r.id}: kept ${what}. Connected nodes receive it now.`);
    state.conflict = null;
    await renderConflicts();
  } catch (e) {
    notice(`Could not resolve ${r.collection}/${r.id}: ${e.message}`, true);
  }
}

// ---- records --------------------------------------------------------------------

async function renderRecords() {
  const match = location.hash.match(/^#\/records\/([^/]+)(?:\/(.+))?$/);
  if (match) {
    state.collection = decodeURIComponent(match[1]);
    state.record = match[2] ? decodeURIComponent(match[2]) : null;
  }
  const cols = (await api("/api/console/records")).collections;
  if (!state.collection && cols.length) state.collection = cols[0].name;
  const view = $("#view-records");
  const search = $("#record-search", view);
  const typed = search ? search.value : "";
  const hadFocus = search && document.activeElement === search;
  const colList = h("ul", { class: "list", id: "collection-list", "aria-label": "Collections" },
    cols.map((c) => h("li", {
      tabindex: 0, class: c.name === state.collection ? "selected" : "", "data-collection": c.name,
      onclick: () => { location.hash = `#/records/${encodeURIComponent(c.name)}`; },
      onkeydown: (e) => listKeys(e, () => { location.hash = `#/records/${encodeURIComponent(c.name)}`; }),
    }, h("strong", {}, c.name), h("div", { class: "sub" }, `${c.records.toLocaleString()} records · ${c.strategy}`))));
  let right = h("div", { class: "empty" }, "No records yet.");
  let data = null;
  if (state.collection && state.record) [right, data] = await recordDetail(state.collection, state.record);
  else if (state.collection) [right, data] = await recordList(state.collection, typed);
  // Unchanged: keep the page as it is (a row about to be clicked stays).
  const seen = JSON.stringify([cols, state.collection, state.record, typed, data]);
  if (seen === state.recordsSeen && view.childElementCount) return;
  state.recordsSeen = seen;
  view.replaceChildren(h("h1", {}, "Records"), h("div", { class: "split" }, colList, right));
  if (hadFocus) {
    const s = $("#record-search", view);
    s.focus();
    s.setSelectionRange(s.value.length, s.value.length);
  }
}

async function recordList(collection, typed) {
  const after = typed ? typed.slice(0, -1) + String.fromCharCode(Math.max(0, typed.charCodeAt(typed.length - 1) - 1)) + "\uffff" : "";
  const page = await api(`/api/console/records/${encodeURIComponent(collection)}?limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`);
  const records = page.records.filter((r) => !typed || r.id.startsWith(typed));
  const names = fieldNames(records).filter((n) => !n.endsWith("_id")).slice(0, 4);
  const search = h("input", { type: "search", id: "record-search", placeholder: "Find by id (press / )", value: typed,
    "aria-label": "Find a record by id", oninput: () => renderRecords().catch((e) => notice(e.message, true)) });
  const open = (r) => { location.hash = `#/records/${encodeURIComponent(collection)}/${encodeURIComponent(r.id)}`; };
  return [h("div", {},
    h("div", { class: "row" }, h("div", { class: "grow" }, search)),
    h("p", { class: "muted" }, `${collection}: showing ${records.length}${page.next_after ? "+" : ""} record(s) in id order. Enter opens one.`),
    records.length === 0 ? h("div", { class: "empty" }, "No record matches.")
      : h("table", { id: "record-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "Id"), names.map((n) => h("th", {}, n)), h("th", {}, "Updated"), h("th", {}, ""))),
          h("tbody", {}, records.map((r) => h("tr", {
            class: "pick", tabindex: 0, "data-id": r.id, onclick: () => open(r), onkeydown: (e) => listKeys(e, () => open(r)),
          }, h("td", { class: "mono" }, r.id), names.map((n) => h("td", {}, valueCell(r.fields, n, false))),
            h("td", {}, ago(r.updated_at_ms)),
            h("td", {}, r.conflicted ? h("span", { class: "badge bad" }, "conflict") : "")))))), page];
}

async function recordDetail(collection, id) {
  if (!nodeNames.size) {
    const o = await api("/api/console/overview");
    learnNames(o.status, o.peers);
  }
  const doc = await api(`/api/console/records/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`);
  const r = doc.record;
  const versions = r.siblings && r.siblings.length ? r.siblings
    : [{ dot: r.dot, updated_at_ms: r.updated_at_ms, deleted: r.deleted, fields: r.fields, written_here: r.written_here }];
  const names = fieldNames(versions);
  const back = h("button", { type: "button", onclick: () => { location.hash = `#/records/${encodeURIComponent(collection)}`; } }, "← All records");
  return [h("div", { class: "card", id: "record-detail" },
    h("div", { class: "row" }, back, h("h2", { class: "grow" }, `${collection} / ${id}`),
      r.conflicted ? h("a", { href: "#/conflicts" }, h("span", { class: "badge bad" }, "conflict: resolve")) : h("span", { class: "badge ok" }, "agreed")),
    h("p", { class: "muted" }, `Strategy ${r.strategy} · last written ${when(r.updated_at_ms)} · version ${r.dot}`),
    h("h3", {}, versions.length > 1 ? `${versions.length} versions` : "Current version"),
    h("table", { class: "versions", id: "record-versions" },
      h("thead", {}, h("tr", {}, h("th", {}, "Field"), versions.map((v, i) => h("th", {},
        versions.length > 1 ? `Version ${i + 1}` : "Value", h("span", { class: "when" }, `written at ${writer(v)}`))))),
      h("tbody", {}, names.map((n) => h("tr", {}, h("td", { class: "field" }, n),
        versions.map((v) => h("td", {}, valueCell(v.fields, n, v.deleted))))))),
    h("h2", {}, "History"),
    doc.history.length === 0
      ? h("p", { class: "muted", id: "history-empty" }, "No conflict was ever recorded for this record.")
      : h("ul", { class: "list history", id: "history" }, doc.history.slice().reverse().map((e) => h("li", {},
          h("strong", {}, `${when(e.detected_at_ms)} · ${e.strategy}`),
          h("div", { class: "sub" }, `${e.siblings.length} versions met at ${nodeName(e.detected_by)}; ` +
            `${e.strategy === "manual" ? "left for a person to choose" : `kept version ${e.winner}`}${e.near_simultaneous ? " (near simultaneous)" : ""}`),
          e.siblings.map((s) => h("div", { class: "sub value" }, `${writer(s)}: ${s.deleted ? "deleted" : JSON.stringify(s.fields)}`)))))), doc];
}

// ---- tokens ---------------------------------------------------------------------

async function renderTokens(force = false) {
  const view = $("#view-tokens");
  // The periodic refresh leaves a name being typed alone.
  if (!force && document.activeElement?.id === "new-token-name") return;
  const doc = await api("/api/console/tokens");
  // Unchanged: keep the page as it is (a button about to be clicked stays).
  const seen = JSON.stringify([doc.tokens, state.createdToken]);
  if (!force && seen === state.tokensSeen && view.childElementCount) return;
  state.tokensSeen = seen;
  const name = h("input", { type: "text", id: "new-token-name", placeholder: "till-2, shop-frontend, …", pattern: "[A-Za-z0-9._\\-]{1,64}", required: true });
  const made = state.createdToken;
  const created = made && h("div", { class: "card", id: "token-created" },
    h("h3", {}, `Token "${made.name}" created`),
    h("p", {}, "Copy it now: it is shown only once. Paste it into the till or the app that will use it."),
    h("div", { class: "row" }, h("div", { class: "secret grow", id: "new-token-secret", tabindex: -1 }, made.token),
      h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(made.token) }, "Copy")));
  const form = h("form", { class: "card", id: "token-form", onsubmit: async (e) => {
    e.preventDefault();
    try {
      state.createdToken = await api("/api/console/tokens", { method: "POST", body: { name: name.value } });
      await renderTokens(true);
      $("#new-token-secret").focus();
    } catch (err) {
      notice(`Could not create the token: ${err.message}`, true);
    }
  } },
  h("label", { for: "new-token-name" }, "New token: a name for who will use it (letters, digits, . _ -)"),
  h("div", { class: "row" }, h("div", { class: "grow" }, name), h("button", { type: "submit", class: "primary" }, "Create token")));
  view.replaceChildren(h("h1", {}, "Access tokens"),
    h("p", { class: "muted" }, "Every till, app and person using this node's HTTP gateway signs in with a token. Revoke one and it is refused from the next request on."),
    ...(created ? [created] : []),
    form,
    h("h2", {}, "Tokens"),
    h("table", { id: "token-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Created"), h("th", {}, ""))),
      h("tbody", {}, doc.tokens.map((t) => h("tr", { "data-token": t.name },
        h("td", {}, h("strong", {}, t.name)), h("td", {}, when(t.created_ms)),
        h("td", {}, h("button", { type: "button", class: "danger", onclick: () => revoke(t.name) }, "Revoke")))))));
}

async function revoke(name) {
  if (!confirm(`Revoke the token "${name}"? Whatever uses it is refused from now on.`)) return;
  try {
    await api(`/api/console/tokens/${encodeURIComponent(name)}`, { method: "DELETE" });
    notice(`Token "${name}" revoked.`);
    if (state.createdToken?.name === name) state.createdToken = null;
    await renderTokens(true);
  } catch (e) {
    if (e.status === 401) return signOut("You revoked the token you were signed in with.");
    notice(`Could not revoke "${name}": ${e.message}`, true);
  }
}

const renderers = { overview: renderOverview, conflicts: renderConflicts, records: renderRecords, tokens: renderTokens };

// ---- start ------------------------------------------------------------------------

$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = $("#token").value.trim();
  try {
    await api("/api/console/overview", { token });
    session.save(token, $("#remember").checked);
    $("#login-error").hidden = true;
    if (!location.hash || location.hash === "#/") location.hash = "#/overview";
    else await route();
  } catch (err) {
    $("#login-error").textContent = err.status === 401 ? "This token is not valid on this node." : err.message;
    $("#login-error").hidden = false;
  }
});
$("#logout").addEventListener("click", () => signOut(""));
window.addEventListener("hashchange", () => {
  if (!location.hash.startsWith("#/records")) state.record = null;
  route();
});
document.addEventListener("keydown", (e) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || "");
  if (e.key === "Escape") {
    if (typing) document.activeElement.blur();
    else if (state.view === "records" && state.record) location.hash = `#/records/${encodeURIComponent(state.collection)}`;
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey || state.view === "login") return;
  const n = Number(e.key);
  if (n >= 1 && n <= views.length) { location.hash = `#/${views[n - 1]}`; e.preventDefault(); }
  if (e.key === "r") refresh();
  if (e.key === "/") {
    e.preventDefault();
    if (state.view !== "records" || state.record) location.hash = state.collection ? `#/records/${encodeURIComponent(state.collection)}` : "#/records";
    setTimeout(() => $("#record-search")?.focus(), 150);
  }
});
route();
