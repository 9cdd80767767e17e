// The player page: one socket, one state, parts that update in place.
// Speaks the wire contract (shared/contract/protocol.md). User text goes in through
// textContent only; the brief is the one piece of HTML, sanitised by the server.

import { fixed, fmt, fmt1, gettext, listNodes, listText, ngettext, num, pct, pct1, pgettext, timeText } from "./i18n.js";
import { effectBar, survivalChart } from "./svg.js";

const app = document.getElementById("app");
const CODE = app.dataset.code;
const WS_PATH = app.dataset.wsPath;
const $ = (id) => document.getElementById(id);
// Phones, in portrait and in landscape (short and not wide): one column, the parts as tabs.
const PHONE = window.matchMedia("(max-width: 759px), (max-height: 500px) and (max-width: 1199px)");

// --- small helpers ----------------------------------------------------------------------------

function h(tag, props = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    // Through the CSSOM: a style attribute would be refused by the Content-Security-Policy.
    else if (k === "style") el.style.cssText = String(v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

const store = {
  get(key, fallback) {
    try {
      const v = sessionStorage.getItem(`ng:${CODE}:${key}`);
      return v === null ? fallback : JSON.parse(v);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      sessionStorage.setItem(`ng:${CODE}:${key}`, JSON.stringify(value));
    } catch {
      /* private mode: the page still works, it just forgets on reload */
    }
  },
};

const cssKey = (k) => String(k).replace(/[^a-zA-Z0-9_-]/g, "_");

/** ISO 8601 from the server (microseconds, +00:00) as ms; every browser reads 3 fraction digits. */
function parseTime(iso) {
  if (typeof iso !== "string") return NaN;
  return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
}

/** A sentence with nodes (role chips) in it: its %(name)s placeholders filled with the nodes or
 * texts of `parts`, the words around them translated as one message. */
function sentence(text, parts) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(/%\((\w+)\)s/g)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const v = parts[m[1]];
    out.push(...(Array.isArray(v) ? v : [v ?? m[0]]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// --- role colours -----------------------------------------------------------------------------

function hexToRgb(hex) {
  let m = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(hex || "");
  if (!m) return null;
  let v = m[1];
  if (v.length === 3) v = v.split("").map((c) => c + c).join("");
  return [0, 2, 4].map((i) => parseInt(v.slice(i, i + 2), 16));
}
function luminance([r, g, b]) {
  const f = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
const toHex = (rgb) => `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("")}`;
const WHITE = [255, 255, 255];
const INK = [27, 31, 36];
const FALLBACK = ["#0072b2", "#d55e00", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#7a5c00", "#555555"];

function installRoleColours(roles) {
  const vars = [];
  const rules = [];
  roles.forEach((r, i) => {
    const key = cssKey(r.key);
    const rgb = hexToRgb(r.colour) || hexToRgb(FALLBACK[i % FALLBACK.length]);
    // A darker shade of the same hue for text on white (contrast at least 4.5:1).
    // (5.2:1 on white keeps 4.5:1 on the page's light tints too.)
    let text = rgb.slice();
    for (let k = 0; k < 30 && contrast(text, WHITE) < 5.2; k++) text = text.map((c) => c * 0.93);
    // Badges: the role colour with white or dark text, whichever reads better; if neither
    // reaches 4.5:1 (a mid orange), a darker shade of the colour under white text.
    let badge = rgb.slice();
    let on = contrast(WHITE, rgb) >= contrast(INK, rgb) ? "#ffffff" : "#1b1f24";
    if (Math.max(contrast(WHITE, rgb), contrast(INK, rgb)) < 4.5) {
      on = "#ffffff";
      for (let k = 0; k < 30 && contrast(badge, WHITE) < 4.6; k++) badge = badge.map((c) => c * 0.95);
    }
    vars.push(`--role-${key}:${toHex(rgb)};--role-${key}-text:${toHex(text)};--role-${key}-badge:${toHex(badge)};--on-role-${key}:${on};`);
    rules.push(
      `.role-${key}{--c:var(--role-${key});--ct:var(--role-${key}-text);--on:var(--on-role-${key});}`,
      `.badge.role-${key}{background:var(--role-${key}-badge);color:var(--on-role-${key});}`,
    );
  });
  $("role-style").textContent = `:root{${vars.join("")}}\n${rules.join("\n")}`;
}

// --- the state --------------------------------------------------------------------------------

const S = {
  st: null, // the last snapshot, kept current by events
  roles: new Map(),
  roleOrder: [],
  issues: [],
  proposals: new Map(),
  chat: new Map(), // channel -> [message], by seq
  chatSeqs: new Set(),
  news: [],
  outcome: null,
  lastSeq: 0,
  tableId: undefined,
  offset: null, // server clock minus local clock, in ms
  blocked: false,
  replaced: false,
  builder: { terms: {}, replaces: null, ...store.get("builder", {}) },
  preview: { ref: null, data: null, terms: null, error: "" },
  activeChannel: store.get("channel", "table"),
  activeTab: store.get("tab", "builder"),
  readMarks: store.get("read", null),
  scenarioSig: "",
};

const you = () => (S.st ? S.st.you : {});
const myRole = () => you().role || null;
const roleName = (key) => (S.roles.get(key) || {}).name || key;
const phase = () => (S.st && S.st.session ? S.st.session.phase : null);
const tableEnded = () => Boolean(S.outcome || (S.st && S.st.table && S.st.table.ended));
const started = () => Boolean(S.st && ((S.st.table && S.st.table.started) || (S.st.session && S.st.session.status !== "lobby")));
const canAct = () => started() && !tableEnded() && Boolean(myRole());

function issueByKey(k) {
  return S.issues.find((i) => i.key === k);
}
function optionOf(issueKey, optKey) {
  const i = issueByKey(issueKey);
  return i ? i.options.find((o) => o.key === optKey) : null;
}
function myPoints(issueKey, optKey) {
  const v = (you().values || {})[issueKey];
  return v && typeof v[optKey] === "number" ? v[optKey] : null;
}
function packagePoints(terms) {
  let total = 0;
  for (const i of S.issues) {
    const p = myPoints(i.key, terms[i.key]);
    if (p === null) return null;
    total += p;
  }
  return total;
}
/** Points are on the tactical scale: 100 is the best package for you that can be agreed. */
function maxPoints() {
  return Object.keys(you().values || {}).length ? 100 : 0;
}
function complete(terms) {
  return S.issues.length > 0 && S.issues.every((i) => terms && optionOf(i.key, terms[i.key]));
}

/** Who must sign: the necessary signatories and every role an option commits, in role order. */
function requiredFor(terms) {
  const need = new Set((S.st && S.st.necessary_signatories) || []);
  for (const i of S.issues) {
    const o = optionOf(i.key, terms[i.key]);
    if (o) for (const r of o.commits || []) need.add(r);
  }
  return S.roleOrder.filter((r) => need.has(r));
}

function normalise(p) {
  const q = { ...p, answers: { ...(p.answers || {}) } };
  if (!Array.isArray(q.required)) q.required = requiredFor(q.terms || {});
  q.pending = q.required.filter((r) => q.answers[r] !== "accept");
  return q;
}

// --- role chips and the "needs" sentence ---------------------------------------------------------

function roleChip(key, { label = null, cls = "" } = {}) {
  return h("span", { class: `role role-${cssKey(key)} ${cls}`.trim() }, label || roleName(key));
}

/** "Needs Russia and Ukraine (and Europe: it commits it to “...”)". */
function needsLine(terms) {
  const base = ((S.st && S.st.necessary_signatories) || []).slice().sort((a, b) => S.roleOrder.indexOf(a) - S.roleOrder.indexOf(b));
  const byOption = new Map();
  for (const i of S.issues) {
    const o = optionOf(i.key, terms[i.key]);
    if (!o) continue;
    const extra = (o.commits || []).filter((r) => !base.includes(r)).sort((a, b) => S.roleOrder.indexOf(a) - S.roleOrder.indexOf(b));
    if (extra.length) byOption.set(o, extra);
  }
  const signers = listNodes(base.map((r) => roleChip(r)));
  if (!byOption.size) return sentence(gettext("Needs %(signers)s."), { signers });
  const parts = [];
  for (const [o, rs] of byOption) {
    if (parts.length) parts.push(gettext("; and "));
    const roles = listNodes(rs.map((r) => roleChip(r)));
    parts.push(...sentence(ngettext("%(roles)s: it commits it to “%(option)s”", "%(roles)s: it commits them to “%(option)s”", rs.length), { roles, option: o.label }));
  }
  return sentence(gettext("Needs %(signers)s (and %(commitments)s)."), { signers, commitments: parts });
}

// --- the socket -------------------------------------------------------------------------------

let ws = null;
let attempt = 0;
let retryTimer = null;
let everOpened = false;
let lastHeard = Date.now();
// Every action waits here, under its ref, until the server acknowledges or definitively refuses
// it: across `unavailable` answers (the database or channel layer is out, or the worker is
// restarting) and reconnects it is sent again, with the same ref (applied once), with backoff.
const outbox = new Map(); // ref -> {msg, onAck, onError, onPending, waiting, sentAt}
const RETRYABLE = new Set(["unavailable", "rate_limited"]);
const PENDING_TEXT = gettext("Reconnecting… your move will be sent.");
let refCounter = 0;
let resendTimer = null;
let resendRound = 0;

function newRef(kind) {
  refCounter += 1;
  return `${kind}-${Date.now().toString(36)}-${refCounter}-${Math.random().toString(36).slice(2, 7)}`.slice(0, 64);
}

function isOpen() {
  return ws && ws.readyState === WebSocket.OPEN;
}

function sendRaw(msg) {
  if (!isOpen()) return false;
  ws.send(JSON.stringify(msg));
  return true;
}

/** A message that changes something: kept until answered, sent again (same ref) after an
 * `unavailable` answer or a reconnect, until it is acknowledged or definitively refused. */
function act(msg, { onAck, onError, onPending } = {}) {
  const ref = newRef(msg.type.replace(/\W/g, ""));
  const item = { msg: { ...msg, ref }, onAck, onError, onPending, waiting: false, sentAt: 0 };
  outbox.set(ref, item);
  // While earlier actions wait for their resend, this one waits with them (order is kept).
  if (resendTimer) {
    item.waiting = true;
    if (onPending) onPending();
    renderPending();
  } else sendItem(item);
  return ref;
}

function sendItem(item) {
  if (sendRaw(item.msg)) item.sentAt = Date.now();
}

/** Send every waiting action again, in the order they were made. */
function flushOutbox() {
  clearTimeout(resendTimer);
  resendTimer = null;
  if (!isOpen()) return; // the socket's "open" sends them
  for (const item of outbox.values()) sendItem(item);
}

function scheduleResend(hintSeconds) {
  if (resendTimer) return;
  resendRound += 1;
  const backoff = Math.min(5000, 1000 * 2 ** (resendRound - 1));
  const delay = Math.max(backoff, (Number(hintSeconds) || 0) * 1000) * (0.8 + Math.random() * 0.4);
  resendTimer = setTimeout(flushOutbox, delay);
}

function onRetryable(item, m) {
  item.waiting = true;
  if (item.onPending) item.onPending(m);
  scheduleResend(m.retry_after);
  renderPending();
}

/** The banner says "your move will be sent" while an action waits for the server. */
function renderPending() {
  const waiting = [...outbox.values()].some((i) => i.waiting) || (outbox.size > 0 && !isOpen());
  const banner = $("offline-banner");
  $("offline-text").textContent = waiting
    ? gettext("your move will be sent as soon as the server answers. Keep this page open.")
    : gettext("The connection dropped. Nothing is lost: the page catches up by itself when the server answers.");
  banner.classList.toggle("is-pending", waiting);
  banner.hidden = !(waiting || (!isOpen() && !S.blocked && !S.replaced && everOpened));
}

// An action sent on an open socket that got no answer for a long while is sent again (same ref).
setInterval(() => {
  if (!isOpen() || resendTimer) return;
  const now = Date.now();
  for (const item of outbox.values()) if (item.sentAt && now - item.sentAt > 20000) sendItem(item);
}, 5000);

function connect() {
  if (S.blocked) return;
  clearTimeout(retryTimer);
  retryTimer = null;
  if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  let sock;
  try {
    sock = new WebSocket(`${proto}//${location.host}${WS_PATH}`);
  } catch {
    scheduleReconnect();
    return;
  }
  ws = sock;
  setConn(everOpened ? "reconnecting" : "connecting");
  sock.addEventListener("open", () => {
    if (ws !== sock) return;
    attempt = 0;
    lastHeard = Date.now();
    const again = everOpened;
    everOpened = true;
    setConn("open");
    if (again && S.lastSeq > 0) sendRaw({ type: "hello", since: S.lastSeq });
    flushOutbox();
    for (const [k, v] of cardPreviews) if (v === "pending") cardPreviews.delete(k);
    cardPreviewRefs.clear();
    if (S.preview.terms && !S.preview.data) schedulePreview(0);
  });
  sock.addEventListener("message", (e) => {
    if (ws !== sock) return;
    lastHeard = Date.now();
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    onMessage(m);
  });
  sock.addEventListener("close", (e) => {
    if (ws !== sock) return;
    ws = null;
    if (e.code === 4403) {
      block();
      return;
    }
    if (e.code === 1012) {
      // The server is restarting and drained this socket: another worker takes it at once
      // (a random moment within a second, so that a whole class does not arrive together).
      attempt = 0;
      setConn("reconnecting");
      retryTimer = setTimeout(() => {
        retryTimer = null;
        connect();
      }, Math.random() * 800);
      return;
    }
    if (e.code === 4409) {
      // Replaced by a newer socket of this seat (another tab): wait until the student chooses
      // this page again, or two tabs would keep closing each other.
      S.replaced = true;
      setConn("replaced");
      return;
    }
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (S.blocked || S.replaced || retryTimer) return;
  attempt += 1;
  const base = Math.min(10000, 500 * 2 ** (attempt - 1));
  const delay = Math.round(base / 2 + (Math.random() * base) / 2);
  setConn("offline");
  retryTimer = setTimeout(() => {
    retryTimer = null;
    connect();
  }, delay);
}

function reconnectNow() {
  if (S.blocked || S.replaced || isOpen()) return;
  attempt = 0;
  clearTimeout(retryTimer);
  retryTimer = null;
  connect();
}

window.addEventListener("online", reconnectNow);
$("replaced-reconnect").addEventListener("click", () => {
  S.replaced = false;
  reconnectNow();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    reconnectNow();
    markRead();
  }
});
// A socket that went silent (no sync for a long while) is dead even if nobody said so.
setInterval(() => {
  if (isOpen() && Date.now() - lastHeard > 75000) ws.close();
}, 5000);

function setConn(status) {
  const el = $("conn");
  el.className = `conn conn-${status}`;
  const text = {
    connecting: gettext("Connecting…"),
    open: gettext("Connected"),
    reconnecting: gettext("Reconnecting…"),
    offline: gettext("Reconnecting…"),
    blocked: gettext("Not seated"),
    replaced: gettext("Open elsewhere"),
  }[status];
  $("conn-text").textContent = text;
  $("replaced-banner").hidden = status !== "replaced";
  document.body.classList.toggle("is-offline", status !== "open");
  renderPending();
  renderActionsEnabled();
}

function block(message) {
  S.blocked = true;
  clearTimeout(retryTimer);
  if (ws) {
    const w = ws;
    ws = null;
    try {
      w.close();
    } catch {
      /* already closed */
    }
  }
  if (message) $("blocked-message").textContent = message;
  setConn("blocked");
  $("offline-banner").hidden = true;
  setView("blocked");
  // The instructor may have handed this browser its student's own seat (the player it joined as
  // was removed in the same step): if the page still opens for this browser, it holds a seat.
  fetch(location.href, { redirect: "manual", cache: "no-store" })
    .then((r) => {
      if (r.ok && r.type !== "opaqueredirect") location.reload();
    })
    .catch(() => {});
}

// --- incoming ---------------------------------------------------------------------------------

function onMessage(m) {
  switch (m.type) {
    case "state":
      applyState(m);
      break;
    case "event":
      applyEvent(m);
      break;
    case "sync":
      if (typeof m.seq === "number" && m.seq > S.lastSeq) sendRaw({ type: "hello", since: S.lastSeq });
      break;
    case "preview":
      if (m.ref && m.ref === S.preview.ref) {
        S.preview.data = m;
        S.preview.error = "";
        renderMeter();
      } else if (m.ref && cardPreviewRefs.has(m.ref)) {
        cardPreviews.set(cardPreviewRefs.get(m.ref), m);
        cardPreviewRefs.delete(m.ref);
        renderProposals();
      }
      break;
    case "ack":
    case "error": {
      if (m.type === "error" && m.ref && cardPreviewRefs.has(m.ref)) {
        // A preview that met an outage is asked for again at the next render.
        if (RETRYABLE.has(m.code)) cardPreviews.delete(cardPreviewRefs.get(m.ref));
        else cardPreviews.set(cardPreviewRefs.get(m.ref), "error");
        cardPreviewRefs.delete(m.ref);
        break;
      }
      if (m.type === "error" && m.ref && m.ref === S.preview.ref) {
        if (RETRYABLE.has(m.code)) {
          S.preview.error = gettext("Reconnecting… the preview comes back by itself.");
          schedulePreview(Math.max(2000, (Number(m.retry_after) || 0) * 1000));
        } else S.preview.error = m.message || gettext("The server could not compute this package.");
        renderMeter();
        break;
      }
      const item = m.ref ? outbox.get(m.ref) : null;
      if (item) {
        if (m.type === "error" && RETRYABLE.has(m.code)) {
          onRetryable(item, m); // not a refusal: it is sent again
          break;
        }
        outbox.delete(m.ref);
        if (m.type === "ack") {
          resendRound = 0;
          item.onAck && item.onAck(m);
        } else if (item.onError) item.onError(m);
        else flash($("builder-status"), m.message, true);
        renderPending();
      }
      break;
    }
    case "removed":
      block(m.message || gettext("Your instructor removed you from this session."));
      break;
    case "reload":
      // The instructor gave this browser its student's own seat back: load it.
      S.blocked = true;
      location.reload();
      break;
    default:
      break;
  }
}

function applyState(st) {
  if (st.you && st.you.removed) {
    block(gettext("Your instructor removed you from this session."));
    return;
  }
  const tableId = st.table ? st.table.id : null;
  if (tableId !== S.tableId) {
    // A new table (or the first): its seq counts from its own start, and its chat is new.
    S.lastSeq = st.seq || 0;
    if (S.tableId !== undefined) $("chat-tabs").dataset.sig = "";
  } else {
    S.lastSeq = Math.max(S.lastSeq, st.seq || 0);
  }
  S.tableId = tableId;
  S.st = st;
  const sig = JSON.stringify([st.roles, st.issues]);
  if (sig !== S.scenarioSig) {
    S.scenarioSig = sig;
    S.roles = new Map((st.roles || []).map((r) => [r.key, r]));
    S.roleOrder = (st.roles || []).map((r) => r.key);
    S.issues = st.issues || [];
    installRoleColours(st.roles || []);
    buildPickers();
  }
  S.proposals = new Map((st.proposals || []).map((p) => [p.id, normalise(p)]));
  S.chat = new Map();
  S.chatSeqs = new Set();
  for (const c of st.chat || []) addChat(c);
  S.news = (st.news || []).slice();
  // A page opened after the end (a reload, another device) shows the outcome first, brief read
  // or not: once the game is over, the outcome is what the student came for.
  if (st.outcome && !S.outcome) S.activeTab = "outcome";
  S.outcome = st.outcome || null;
  if (S.readMarks === null) {
    // First visit: what was said before this page opened counts as read.
    S.readMarks = {};
    for (const [ch, list] of S.chat) S.readMarks[ch] = list.length ? list[list.length - 1].seq : 0;
    store.set("read", S.readMarks);
  }
  const channels = chatChannels();
  if (!channels.includes(S.activeChannel)) S.activeChannel = "table";
  renderAll();
  fillNewsEffects();
  if (complete(S.builder.terms)) schedulePreview(0);
}

function applyEvent(ev) {
  if (typeof ev.seq !== "number" || ev.seq <= S.lastSeq) return; // already in the snapshot
  S.lastSeq = ev.seq;
  const at = parseTime(ev.at);
  if (!Number.isNaN(at)) {
    const cand = at - Date.now(); // the event was made before it arrived: offset >= cand
    S.offset = S.offset === null ? cand : Math.max(S.offset, cand);
  }
  if (!S.st) return;
  const d = ev.data || {};
  const table = S.st.table || {};
  switch (ev.kind) {
    case "chat.message":
      addChat({ seq: ev.seq, at: ev.at, ...d });
      renderChat();
      if (!isMine(d)) {
        const who = d.name ? fmt(pgettext("a chat line's sender", "%(role)s (%(name)s)"), { role: roleName(d.role), name: d.name }) : roleName(d.role);
        const line = d.channel === "table" || !d.channel ? gettext("%(who)s, to the table: %(text)s") : gettext("%(who)s, to you privately: %(text)s");
        say("chat", fmt(line, { who, text: d.text || "" }), `ev:${ev.seq}`, {
          channel: d.channel === "table" || !d.channel ? "table" : "private",
          from: roleName(d.role),
        });
      }
      break;
    case "proposal.made": {
      const p = d.proposal;
      if (p && typeof p.id === "number") {
        S.proposals.set(p.id, normalise(p));
        for (const id of d.closed || []) {
          const old = S.proposals.get(id);
          if (old) S.proposals.set(id, { ...old, status: "replaced" });
        }
        if (S.builder.replaces !== null && (d.closed || []).includes(S.builder.replaces) && p.author !== myRole()) {
          S.builder.replaces = null;
          saveBuilder();
        }
      }
      renderProposals();
      renderBuilderMode();
      if (p && p.author !== myRole()) {
        const original = p.replaces ? S.proposals.get(p.replaces) : null;
        const values = { id: p.id, role: roleName(p.author), terms: packageText(p.terms) };
        const text =
          original && original.author !== p.author
            ? fmt(gettext("New proposal #%(id)s by %(role)s, countering #%(original)s by %(original_role)s: %(terms)s."), {
                ...values,
                original: p.replaces,
                original_role: roleName(original.author),
              })
            : fmt(gettext("New proposal #%(id)s by %(role)s: %(terms)s."), values);
        say("proposal", text, `ev:${ev.seq}`);
      }
      break;
    }
    case "proposal.answered": {
      const p = S.proposals.get(d.proposal);
      if (p) {
        p.answers = { ...p.answers, [d.role]: d.answer };
        if (typeof d.status === "string") p.status = d.status;
        S.proposals.set(p.id, normalise(p));
      }
      renderProposals();
      if (d.role && (d.answer === "accept" || d.answer === "reject")) {
        const accept = d.answer === "accept";
        const text =
          d.role === myRole()
            ? accept
              ? gettext("You accept proposal #%(id)s.")
              : gettext("You reject proposal #%(id)s.")
            : accept
              ? gettext("%(role)s accepts proposal #%(id)s.")
              : gettext("%(role)s rejects proposal #%(id)s.");
        say("answer", fmt(text, { id: d.proposal, role: roleName(d.role) }), `ev:${ev.seq}`);
      }
      break;
    }
    case "proposal.withdrawn": {
      const p = S.proposals.get(d.proposal);
      if (p) S.proposals.set(p.id, { ...p, status: "withdrawn" });
      if (S.builder.replaces === d.proposal) cancelCounter();
      renderProposals();
      if (p && p.author !== myRole()) say("proposal", fmt(gettext("%(role)s withdrew proposal #%(id)s."), { role: roleName(p.author), id: p.id }), `ev:${ev.seq}`);
      break;
    }
    case "agreement.reached": {
      const p = S.proposals.get(d.proposal);
      if (p) S.proposals.set(p.id, { ...p, status: "agreed" });
      for (const id of d.closed || []) {
        const q = S.proposals.get(id);
        if (q && q.status === "open") S.proposals.set(id, { ...q, status: "closed" });
      }
      table.agreement = d.proposal;
      renderProposals();
      say("agreement", fmt(gettext("Agreement reached: proposal #%(id)s is your table's agreement. The negotiation is over."), { id: d.proposal }), `ev:${ev.seq}`);
      break;
    }
    case "phase.changed": {
      const was = S.st.session.phase ? { ...S.st.session.phase } : null;
      const before = was ? was.key : null;
      if (d.phase) {
        S.st.session.phase = { ...(S.st.session.phase || {}), ...d.phase };
        if (S.st.session.status === "lobby") S.st.session.status = "running";
        table.started = true;
      }
      const ph = S.st.session.phase;
      if (d.phase && d.phase.name && d.phase.key !== before) {
        const binding = ph.agreement ? gettext("Deals can be concluded now.") : gettext("Nothing is binding yet.");
        say("phase", [fmt(gettext("Now: %(phase)s."), { phase: ph.name }), clockSentence(ph), binding].join(" "), `ev:${ev.seq}`);
      } else if (d.phase && was) {
        // The same phase: the instructor paused, resumed, or changed the time left. (Said before
        // the clock ticks, so that "one minute left" is not said on top of it.)
        const left = secondsLeft(ph);
        if (!ph.paused && ph.ends_at && left <= 60) said.add(`last-minute:${ph.key}:${ph.ends_at}`);
        if (ph.paused && !was.paused) say("clock", pausedSentence(ph), `ev:${ev.seq}`);
        else if (!ph.paused && was.paused) say("clock", fmt(gettext("The clock runs again: %(time)s left."), { time: spokenClock(left) }), `ev:${ev.seq}`);
        else if (!ph.paused && ph.ends_at && was.ends_at && Math.abs(parseTime(ph.ends_at) - parseTime(was.ends_at)) > 5000) {
          say("clock", fmt(gettext("The clock changed: %(time)s left in %(phase)s."), { time: spokenClock(left), phase: ph.name }), `ev:${ev.seq}`);
        }
      }
      renderAll();
      if (d.phase && d.phase.name && d.phase.key !== before) noticePhase(before, ph);
      break;
    }
    case "news":
      if (d.key && !S.news.some((n) => n.key === d.key)) {
        S.news.push({ key: d.key, headline: d.headline, body: d.body });
        say("news", fmt(gettext("Breaking news: %(headline)s"), { headline: d.headline || "" }), `ev:${ev.seq}`);
        freshNews();
        noticeNews(d);
      }
      renderNews();
      // News changes what options are worth and how long deals hold: fetch the fresh values.
      cardPreviews.clear();
      cardPreviewRefs.clear();
      sendRaw({ type: "hello", since: S.lastSeq });
      break;
    case "presence": {
      const seat = (table.seats || []).find((s) => s.role === d.role);
      if (seat) {
        for (const pl of seat.players || []) if (pl.name === d.name) pl.connected = Boolean(d.connected);
        seat.connected = (seat.players || []).some((pl) => pl.connected);
        renderSeats();
      }
      break;
    }
    case "seats":
      if (Array.isArray(d.seats)) {
        const had = new Set((table.seats || []).flatMap((x) => (x.players || []).map((pl) => `${x.role}:${pl.name}`)));
        for (const seat of d.seats) {
          for (const pl of seat.players || []) {
            if (!had.has(`${seat.role}:${pl.name}`) && pl.id !== you().id) say("seat", fmt(seat.bot ? gettext("%(name)s plays %(role)s (a bot).") : gettext("%(name)s plays %(role)s."), { name: pl.name, role: roleName(seat.role) }), `seat:${seat.role}:${pl.name}`);
          }
        }
        table.seats = d.seats;
      }
      renderSeats();
      if (currentView() === "game") renderChat();
      break;
    case "game.ended": {
      const first = !S.outcome;
      S.outcome = d;
      table.ended = true;
      for (const [id, p] of S.proposals) if (p.status === "open") S.proposals.set(id, { ...p, status: "closed" });
      if (d.agreement && table.agreement == null) {
        // keep the agreed card marked even if agreement.reached was missed
        for (const [id, p] of S.proposals) if (p.status === "agreed") table.agreement = id;
      }
      S.activeTab = "outcome";
      // The game is over: earlier notices would only stand between the student and the outcome
      // (the news stays in the news bar).
      $("notices").replaceChildren();
      renderAll();
      if (first) showOutcome();
      break;
    }
    default:
      break;
  }
}

// --- what a screen reader hears -------------------------------------------------------------------
// One polite live region (#announcer) speaks for the whole page: the other parties' proposals,
// answers and chat lines, the agreement, news, phase changes and the clock's last minute. Events
// that arrive close together (a burst of answers, a reconnect catching up) are spoken as one
// announcement; more than a few chat lines at once are summed up instead of read out; each event is
// spoken once (its key), never when a snapshot re-renders the page. The page's own moves are
// confirmed where they were made (the builder's and the chat's status lines), not here again.
const SAY_DELAY = 900; // ms: what arrives within this is spoken together
const SAY_MAX_CHAT = 3; // beyond this many chat lines in one announcement, a summary
const said = new Set();
let sayQueue = [];
let sayTimer = null;

function say(kind, text, key = null, meta = {}) {
  if (!text) return;
  if (key !== null) {
    if (said.has(key)) return;
    said.add(key);
  }
  sayQueue.push({ kind, text, ...meta });
  if (!sayTimer) sayTimer = setTimeout(flushSay, SAY_DELAY);
}

function chatSummary(chats) {
  const parts = [];
  for (const channel of ["table", "private"]) {
    const mine = chats.filter((c) => c.channel === channel);
    if (!mine.length) continue;
    const from = listText([...new Set(mine.map((c) => c.from))]);
    const n = mine.length;
    const text =
      channel === "table"
        ? ngettext("%(n)s to the table from %(from)s", "%(n)s to the table from %(from)s", n)
        : ngettext("%(n)s to you privately from %(from)s", "%(n)s to you privately from %(from)s", n);
    parts.push(fmt(text, { n, from }));
  }
  const n = chats.length;
  return fmt(ngettext("%(n)s new chat message: %(parts)s. Open the chat to read them.", "%(n)s new chat messages: %(parts)s. Open the chat to read them.", n), {
    n,
    parts: parts.join("; "),
  });
}

function flushSay() {
  sayTimer = null;
  const items = sayQueue;
  sayQueue = [];
  if (!items.length) return;
  const chats = items.filter((i) => i.kind === "chat");
  const parts = [];
  let summed = false;
  for (const i of items) {
    if (i.kind !== "chat" || chats.length <= SAY_MAX_CHAT) parts.push(i.text);
    else if (!summed) {
      parts.push(chatSummary(chats));
      summed = true;
    }
  }
  const el = $("announcer");
  el.textContent = "";
  // Emptied first, then filled: the same words twice in a row are spoken twice.
  setTimeout(() => (el.textContent = parts.join(" ")), 60);
}

/** The clock in words: "7 minutes 42 seconds", "1 minute", "45 seconds". */
function spokenClock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  const r = s % 60;
  const mins = m ? fmt(ngettext("%(n)s minute", "%(n)s minutes", m), { n: m }) : "";
  const secs = r || !m ? fmt(ngettext("%(n)s second", "%(n)s seconds", r), { n: r }) : "";
  return [mins, secs].filter(Boolean).join(" ");
}

function secondsLeft(ph) {
  if (!ph) return 0;
  if (ph.paused) return ph.remaining || 0;
  return ph.ends_at ? (parseTime(ph.ends_at) - (Date.now() + (S.offset || 0))) / 1000 : 0;
}

function pausedSentence(ph) {
  return fmt(gettext("The clock is paused with %(time)s left."), { time: spokenClock(ph.remaining || 0) });
}

function clockSentence(ph) {
  if (ph.paused) return pausedSentence(ph);
  if (ph.ends_at) return fmt(gettext("%(time)s on the clock."), { time: spokenClock(secondsLeft(ph)) });
  return gettext("No time limit.");
}

/** A chat line this seat sent (the student, or a teammate in the same seat is not "mine"). */
function isMine(m) {
  const y = you();
  return m.role === myRole() && (!m.name || !y.name || m.name === y.name);
}

function addChat(c) {
  if (typeof c.seq !== "number" || S.chatSeqs.has(c.seq)) return;
  S.chatSeqs.add(c.seq);
  const ch = c.channel || "table";
  if (!S.chat.has(ch)) S.chat.set(ch, []);
  const list = S.chat.get(ch);
  list.push(c);
  if (list.length > 1 && list[list.length - 2].seq > c.seq) list.sort((a, b) => a.seq - b.seq);
}

// --- views ------------------------------------------------------------------------------------

function currentView() {
  if (S.blocked) return "blocked";
  if (!S.st) return "loading";
  if (!myRole() || !S.st.table) return "lobby";
  if (tableEnded()) return "ended";
  if (!started()) return "lobby";
  if (!introSeen()) return "intro"; // a late joiner: who they play and their brief, first
  return "game";
}

// --- the introduction: "You play Europe", before the table ------------------------------------
// Everyone meets their role before the negotiation: in the lobby, or, for a student who joins
// (or is moved) after the start, on the same page with a button on to the table. Remembered per
// table and role by this browser.
const introKey = () => `ng:${CODE}:intro:${S.tableId}:${myRole()}`;
function introSeen() {
  try {
    return localStorage.getItem(introKey()) === "1";
  } catch {
    return true;
  }
}
function markIntroSeen() {
  try {
    localStorage.setItem(introKey(), "1");
  } catch {
    /* private mode: the page cannot remember, so it does not ask again */
  }
}
$("intro-done").addEventListener("click", () => {
  markIntroSeen();
  markBriefRead();
  S.activeTab = "builder";
  store.set("tab", "builder");
  renderAll();
  window.scrollTo({ top: 0 });
  const head = $("builder-title");
  head.setAttribute("tabindex", "-1");
  head.focus({ preventScroll: true });
  noticePhase(null, phase(), { started: true });
});

function setView(view) {
  const body = document.body;
  for (const v of ["loading", "blocked", "lobby", "intro", "game", "ended"]) body.classList.toggle(`view-${v}`, v === view);
  $("loading").hidden = view !== "loading";
  $("blocked").hidden = view !== "blocked";
  $("lobby").hidden = !(view === "lobby" || view === "intro");
  $("game").hidden = !(view === "game" || view === "ended");
  $("tabbar").hidden = !(view === "game" || view === "ended");
  if (view === "blocked") {
    $("news-banner").hidden = true;
  }
}

function renderAll() {
  const view = currentView();
  setView(view);
  renderHeader();
  renderNews();
  if (view === "lobby" || view === "intro") {
    renderLobby();
    return;
  }
  if (view === "game" || view === "ended") {
    renderBrief();
    renderPoints();
    updatePickers();
    renderBuilderMode();
    renderMeter();
    renderProposals();
    renderChat();
    renderOutcome();
    renderTabs();
    renderActionsEnabled();
  }
}

// --- header and clock -------------------------------------------------------------------------

function renderHeader() {
  if (!S.st) return;
  const y = you();
  const badge = $("you-badge");
  if (y.role) {
    badge.className = `badge tb-badge role-${cssKey(y.role)}`;
    badge.textContent = y.role_name || roleName(y.role);
  } else {
    badge.className = "badge tb-badge";
    badge.textContent = gettext("No seat yet");
  }
  $("you-name").textContent = y.name || "";
  $("session-title").textContent = S.st.session.title || gettext("Negotiation game");
  $("table-label").textContent = S.st.table && S.st.table.number ? ` · ${fmt(gettext("Table %(n)s"), { n: S.st.table.number })}` : "";
  const ph = phase();
  const agreementPhases = (S.st.session.phases || []).filter((p) => p.agreement).map((p) => p.name);
  const agr = $("agreement-status");
  if (tableEnded()) {
    $("phase-name").textContent = gettext("Negotiation over");
    agr.textContent = S.outcome && S.outcome.agreement ? gettext("Agreement concluded") : gettext("No agreement");
    agr.className = "agreement-status";
  } else if (!started() || !ph) {
    $("phase-name").textContent = gettext("Waiting to start");
    agr.textContent = "";
  } else {
    $("phase-name").textContent = ph.name;
    if (ph.agreement) {
      agr.textContent = gettext("Agreement possible now");
      agr.className = "agreement-status is-open";
    } else {
      agr.textContent = agreementPhases.length
        ? fmt(gettext("Agreement not yet: only in %(phases)s"), { phases: listText(agreementPhases) })
        : gettext("Agreement not yet: only in the final stage");
      agr.className = "agreement-status";
    }
  }
  document.title = `${y.role ? `${y.role_name || roleName(y.role)} · ` : ""}${CODE} · ${gettext("Negotiation game")}`;
  tick();
}

function fmtClock(seconds) {
  const sgn = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(sgn / 3600);
  const mm = Math.floor((sgn % 3600) / 60);
  const ss = sgn % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hh ? `${hh}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`;
}

function tick() {
  const el = $("countdown");
  const ph = phase();
  let text = "";
  let label = "";
  let cls = "countdown num";
  if (!S.st || S.blocked) {
    text = "--:--";
  } else if (tableEnded()) {
    text = pgettext("clock", "Ended");
    cls += " is-idle";
    label = gettext("The negotiation has ended");
  } else if (!started() || !ph) {
    text = "--:--";
    cls += " is-idle";
    label = gettext("Not started");
  } else if (ph.paused) {
    const rem = typeof ph.remaining === "number" ? ph.remaining : 0;
    text = fmt(gettext("%(time)s paused"), { time: fmtClock(rem) });
    cls += " is-paused";
    label = fmt(gettext("Clock paused with %(time)s left"), { time: fmtClock(rem) });
  } else if (ph.ends_at) {
    const left = (parseTime(ph.ends_at) - (Date.now() + (S.offset || 0))) / 1000;
    text = left > 0 ? fmt(gettext("%(time)s left"), { time: fmtClock(left) }) : gettext("Time’s up");
    if (left <= 60) cls += " is-low";
    // Spoken once in the phase's last minute and once at its end, never every second.
    const when = `${ph.key}:${ph.ends_at}`;
    if (left > 0 && left <= 60 && left > 3) say("clock", fmt(gettext("One minute left in %(phase)s."), { phase: ph.name }), `last-minute:${when}`);
    else if (left <= 0) say("clock", fmt(gettext("Time is up for %(phase)s."), { phase: ph.name }), `time-up:${when}`);
    label = left > 0 ? fmt(gettext("%(time)s left in %(phase)s"), { time: fmtClock(left), phase: ph.name }) : fmt(gettext("Time is up for %(phase)s"), { phase: ph.name });
  } else {
    text = gettext("No time limit");
    cls += " is-idle";
  }
  el.hidden = text === "--:--";
  if (el.textContent !== text) el.textContent = text;
  if (el.className !== cls) el.className = cls;
  if (label && el.getAttribute("aria-label") !== label) el.setAttribute("aria-label", label);
}
setInterval(tick, 1000);

// --- news -------------------------------------------------------------------------------------

function renderNews() {
  const banner = $("news-banner");
  // While the news is a notice, the bar would say it twice: it comes back when the notice goes.
  if (!S.st || S.blocked || !S.news.length) {
    banner.hidden = true;
    return;
  }
  banner.hidden = Boolean($("notices").querySelector(".notice-news"));
  const latest = S.news[S.news.length - 1];
  $("news-headline").textContent = latest.headline || "";
  $("news-count").textContent = S.news.length > 1 ? fmt(ngettext("(%(n)s item)", "(%(n)s items)", S.news.length), { n: S.news.length }) : "";
  const list = $("news-list");
  list.replaceChildren(
    ...S.news
      .slice()
      .reverse()
      .map((n) => h("li", {}, h("strong", { text: n.headline || "" }), h("p", { text: n.body || "" }), h("p", { class: "news-effect", text: effectText(n.key) || "" }))),
  );
}

function freshNews() {
  const banner = $("news-banner");
  banner.classList.add("is-fresh");
  setTimeout(() => banner.classList.remove("is-fresh"), 20000);
}

// --- lobby ------------------------------------------------------------------------------------

function renderLobby() {
  const y = you();
  const rc = $("lobby-role");
  if (y.role) {
    rc.className = `lobby-role badge role-${cssKey(y.role)}`;
    rc.textContent = y.role_name || roleName(y.role);
    setLobbyTitle(true);
    $("lobby-role-desc").textContent = (S.roles.get(y.role) || {}).description || "";
  } else {
    rc.className = "lobby-role";
    rc.textContent = "";
    setLobbyTitle(false);
    $("lobby-role-desc").textContent = gettext("Your instructor will seat you at a table.");
  }
  $("lobby-session-desc").textContent = S.st.session.description || "";
  const phases = S.st.session.phases || [];
  const stageText = (p) => (p.duration_seconds ? fmt(gettext("%(phase)s (%(minutes)s min)"), { phase: p.name, minutes: Math.round(p.duration_seconds / 60) }) : p.name);
  const dealStages = phases.filter((p) => p.agreement).map((p) => p.name);
  $("lobby-phases").textContent = phases.length
    ? [
        fmt(ngettext("The talks run in %(n)s stage: %(stages)s.", "The talks run in %(n)s stages: %(stages)s.", phases.length), {
          n: phases.length,
          stages: phases.map(stageText).join(gettext(", then ")),
        }),
        dealStages.length ? fmt(gettext("Only in the %(phases)s can a deal be concluded."), { phases: listText(dealStages) }) : gettext("Only in the last stage can a deal be concluded."),
      ].join(" ")
    : "";
  $("lobby-nodeal").textContent =
    typeof y.no_deal_value === "number" ? fmt(gettext("With no deal at all, you score your no-deal value: %(value)s."), { value: num(y.no_deal_value) }) : "";
  $("lobby-table-title").textContent = S.st.table ? fmt(gettext("Table %(n)s"), { n: S.st.table.number }) : gettext("Your table");
  // Teammates: a second player in the same role plays it with you.
  const mySeat = ((S.st.table && S.st.table.seats) || []).find((x) => x.role === y.role);
  const mates = ((mySeat && mySeat.players) || []).filter((p) => p.id !== y.id).map((p) => p.name);
  $("lobby-team").hidden = !(y.role && mates.length);
  $("lobby-team").textContent = mates.length ? fmt(gettext("You play it as a team with %(names)s."), { names: listText(mates) }) : "";
  const late = currentView() === "intro";
  $("lobby-kicker").textContent = late ? gettext("You join a negotiation under way") : gettext("You are seated");
  $("lobby-wait").hidden = late || !y.role;
  $("lobby-started").hidden = !late;
  if (late) {
    const ph = phase();
    $("lobby-started-text").textContent = ph
      ? fmt(gettext("The negotiation has started: it is now the %(phase)s stage. %(allows)s Read your brief and your points first (below), then join your table."), { phase: ph.name, allows: phaseAllows(ph) })
      : gettext("The negotiation has started. Read your brief and your points first, then join your table.");
  } else if (y.role && S.st.table) {
    markIntroSeen(); // met the role in the lobby, before the start
  }
  renderSeats();
  setBrief($("lobby-brief"));
  $("lobby-points").replaceChildren(pointsTable());
}

/** The lobby's headline: "You play <role>" (the role's badge inside the sentence), or no seat yet. */
function setLobbyTitle(seated) {
  const role = $("lobby-role");
  $("lobby-title").replaceChildren(...(seated ? sentence(gettext("You play %(role)s"), { role }) : [gettext("Waiting for a seat"), role]));
}

/** What a phase allows, in a sentence. */
function phaseAllows(ph) {
  const phases = (S.st && S.st.session.phases) || [];
  const last = phases.length && phases[phases.length - 1].key === ph.key;
  if (ph.agreement) {
    const now = gettext("Deals can be concluded now: a proposal becomes your table's agreement the moment every party it needs has accepted it, and the negotiation ends.");
    return last ? `${now} ${gettext("When the clock runs out, a table without an agreement ends with no deal.")}` : now;
  }
  const later = phases.filter((p) => p.agreement).map((p) => p.name);
  return later.length
    ? fmt(gettext("Talk, propose and answer: nothing is binding yet. An agreement can be concluded only in the %(phases)s."), { phases: listText(later) })
    : gettext("Talk, propose and answer: nothing is binding yet. An agreement can be concluded only in the final stage.");
}

// --- notices that everyone sees -------------------------------------------------------------------
// A phase change or a piece of news is a moment for the whole table: a short notice, fixed in view
// wherever the page is scrolled, until the student dismisses it.

function notify({ kind, key, title, body = [] }) {
  const box = $("notices");
  for (const old of box.querySelectorAll(`.notice-${kind}[data-replace="${kind}"]`)) if (kind === "phase") old.remove();
  let n = key ? box.querySelector(`[data-key="${CSS.escape(key)}"]`) : null;
  if (n) n.remove();
  n = h(
    "section",
    // Not a live region: the announcer has already said it (say()).
    { class: `notice notice-${kind}`, dataset: { key: key || "", replace: kind } },
    h("div", { class: "notice-main" }, h("p", { class: "notice-title" }, title), ...body),
    h("button", { type: "button", class: "btn small notice-close" }, gettext("OK"), h("span", { class: "visually-hidden", text: kind === "news" ? gettext(": dismiss the news") : gettext(": dismiss this notice") })),
  );
  box.prepend(n);
  while (box.children.length > 2) box.lastElementChild.remove();
  // A phase notice goes by itself after a while (the top bar keeps the phase); news stays until
  // the student has seen it.
  if (kind === "phase") setTimeout(() => n.remove(), 45000);
  return n;
}
$("notices").addEventListener("click", (e) => {
  const btn = e.target.closest(".notice-close");
  if (btn) {
    btn.closest(".notice").remove();
    renderNews();
  }
});

function noticePhase(before, ph, { started = false } = {}) {
  if (!ph || !ph.name || currentView() !== "game") return;
  const clock = ph.paused ? "" : ph.ends_at ? ` ${fmt(gettext("%(time)s on the clock."), { time: fmtClock((parseTime(ph.ends_at) - (Date.now() + (S.offset || 0))) / 1000) })}` : "";
  notify({
    kind: "phase",
    key: `phase-${ph.key}`,
    title: before === null && !started ? fmt(gettext("The negotiation has started: %(phase)s"), { phase: ph.name }) : fmt(gettext("Now: %(phase)s"), { phase: ph.name }),
    body: [h("p", { class: "notice-text", text: `${phaseAllows(ph)}${clock}` })],
  });
}

function effectText(key) {
  const entry = (you().news_effects || []).find((e) => e.key === key);
  const fx = entry && entry.changes;
  if (!Array.isArray(fx)) return null;
  const others = entry.rescaled ? ` ${gettext("Your other options shift a little as your 0–100 scale adjusts.")}` : "";
  if (!fx.length) return `${gettext("This news does not change what the options are worth to you.")}${others}`;
  const sign = (x) => (x > 0 ? `+${fmt1(x)}` : `\u2212${fmt1(-x)}`);
  const changes = fx.map((c) => fmt(gettext("%(option)s %(change)s (now %(value)s)"), { option: c.label, change: sign(c.after - c.before), value: num(c.after) })).join("; ");
  return `${fmt(gettext("Your points: %(changes)s."), { changes })}${others}`;
}

function noticeNews(d) {
  const n = notify({
    kind: "news",
    key: `news-${d.key}`,
    title: h("span", {}, h("span", { class: "notice-tag", text: gettext("Breaking news") }), " ", d.headline || ""),
    body: [
      d.body ? h("p", { class: "notice-text", text: d.body }) : null,
      h("p", { class: "notice-effect", dataset: { news: d.key }, text: gettext("Your points: updating…") }),
    ],
  });
  fillNewsEffects(n);
  renderNews();
}

/** Once the snapshot with the news' effects on this student's points has arrived, say them. */
function fillNewsEffects(root = document) {
  for (const el of root.querySelectorAll("[data-news]")) {
    const text = effectText(el.dataset.news);
    if (text) el.textContent = text;
  }
}

function renderSeats() {
  const ul = $("lobby-seats");
  if (!S.st || !S.st.table) {
    ul.replaceChildren();
    return;
  }
  ul.replaceChildren(
    ...(S.st.table.seats || []).map((seat) => {
      const names = (seat.players || []).map((p) => p.name);
      const mine = seat.role === myRole();
      return h(
        "li",
        { class: `seat${mine ? " is-you" : ""}` },
        roleChip(seat.role, { cls: "seat-role" }),
        h("span", { class: "seat-names", text: names.length ? (mine ? fmt(gettext("%(names)s (you)"), { names: names.join(", ") }) : names.join(", ")) : gettext("Empty seat") }),
        h("span", { class: `seat-status ${seat.connected ? "is-on" : "is-off"}` }, seat.bot ? gettext("bot") : names.length ? (seat.connected ? gettext("online") : gettext("offline")) : gettext("waiting")),
      );
    }),
  );
}

// --- brief and points -------------------------------------------------------------------------

function setBrief(el) {
  const html = you().brief || "";
  if (el.dataset.src !== html) {
    el.dataset.src = html;
    if (html) el.innerHTML = html; // sanitised by the server (nh3)
    else el.replaceChildren(h("p", { text: gettext("No brief for this role.") }));
  }
}

function renderBrief() {
  setBrief($("brief-body"));
}

function pointsTable() {
  const table = h("table", { class: "points-table" });
  table.append(h("caption", { class: "visually-hidden", text: gettext("Your points for every option") }));
  const tbody = h("tbody");
  for (const i of S.issues) {
    const vals = Object.values((you().values || {})[i.key] || {});
    const best = vals.length ? Math.max(...vals) : null;
    tbody.append(h("tr", { class: "pt-issue" }, h("th", { colspan: 2, scope: "colgroup" }, h("span", { text: i.name }), i.description ? h("span", { class: "pt-desc", text: i.description }) : null)));
    for (const o of i.options) {
      const p = myPoints(i.key, o.key);
      tbody.append(
        h(
          "tr",
          { class: p !== null && p === best ? "is-best" : "" },
          h("th", { scope: "row", class: "pt-option" }, h("span", { text: o.label }), (o.commits || []).length ? h("span", { class: "commits" }, fmt(gettext("commits %(roles)s"), { roles: listText(o.commits.map(roleName)) })) : null),
          h("td", { class: "pt-points num" }, p === null ? "–" : num(p)),
        ),
      );
    }
  }
  table.append(h("thead", {}, h("tr", {}, h("th", { scope: "col", text: gettext("Option") }), h("th", { scope: "col", class: "pt-points", text: gettext("Points") }))), tbody);
  return table;
}

let pointsSig = "";
function renderPoints() {
  const sig = JSON.stringify([you().values, S.scenarioSig.length]);
  if (sig === pointsSig) return;
  pointsSig = sig;
  $("points-body").replaceChildren(pointsTable());
  const y = you();
  $("points-title").textContent =
    y.no_deal_value !== undefined ? fmt(gettext("Your points · no deal is worth %(value)s"), { value: num(y.no_deal_value) }) : gettext("Your points");
}

// --- the proposal builder ---------------------------------------------------------------------

function optionText(issueKey, o) {
  const p = myPoints(issueKey, o.key);
  return p === null ? o.label : fmt(gettext("%(option)s · %(points)s pts"), { option: o.label, points: num(p) });
}

function buildPickers() {
  const box = $("pickers");
  box.replaceChildren();
  for (const i of S.issues) {
    const id = `pick-${cssKey(i.key)}`;
    const select = h(
      "select",
      { id, name: `issue-${i.key}`, class: "pick-select", "aria-describedby": `${id}-sum ${id}-desc` },
      h("option", { value: "" }, gettext("Choose an option…")),
      i.options.map((o) => h("option", { value: o.key }, o.label)),
    );
    select.addEventListener("change", () => {
      const terms = { ...S.builder.terms };
      if (select.value) terms[i.key] = select.value;
      else delete terms[i.key];
      S.builder.terms = terms;
      saveBuilder();
      updatePickers();
      renderMeter();
      schedulePreview();
    });
    box.append(
      h(
        "div",
        { class: "pick", dataset: { issue: i.key } },
        h("div", { class: "pick-head" }, h("label", { for: id, class: "pick-name", text: i.name }), h("span", { class: "pick-pts num", id: `${id}-pts`, "aria-hidden": "true" })),
        i.description ? h("p", { class: "pick-desc visually-hidden", id: `${id}-desc`, text: i.description }) : h("span", { id: `${id}-desc`, hidden: true }),
        select,
        h("p", { class: "pick-summary", id: `${id}-sum` }),
      ),
    );
  }
}

function updatePickers() {
  for (const i of S.issues) {
    const id = `pick-${cssKey(i.key)}`;
    const select = document.getElementById(id);
    if (!select) continue;
    for (const opt of select.options) {
      if (!opt.value) continue;
      const o = optionOf(i.key, opt.value);
      const text = optionText(i.key, o);
      if (opt.textContent !== text) opt.textContent = text;
    }
    const chosen = S.builder.terms[i.key] || "";
    if (select.value !== chosen) select.value = chosen;
    const o = chosen ? optionOf(i.key, chosen) : null;
    const p = o ? myPoints(i.key, o.key) : null;
    const vals = Object.values((you().values || {})[i.key] || {});
    const best = vals.length ? Math.max(...vals) : null;
    $(`${id}-pts`).replaceChildren(
      ...(p === null ? [] : [h("strong", { text: num(p) }), h("small", { text: best !== null ? ` ${fmt(gettext("/ %(best)s pts"), { best: num(best) })}` : ` ${gettext("pts")}` })]),
    );
    const sum = $(`${id}-sum`);
    const parts = [];
    if (o) {
      parts.push(h("strong", { class: "pick-chosen", text: o.label }), " ", h("span", { text: o.summary || "" }));
      if ((o.commits || []).length) parts.push(h("span", { class: "pick-commits" }, ...sentence(gettext("Commits %(roles)s to sign."), { roles: listNodes(o.commits.map((r) => roleChip(r))) })));
    } else {
      parts.push(h("span", { class: "pick-none", text: gettext("Nothing chosen yet.") }));
    }
    sum.replaceChildren(...parts);
    select.closest(".pick").classList.toggle("is-chosen", Boolean(o));
  }
}

function saveBuilder() {
  store.set("builder", { terms: S.builder.terms, replaces: S.builder.replaces });
}

let previewTimer = null;
let previewN = 0;
function schedulePreview(delay = 150) {
  clearTimeout(previewTimer);
  const terms = { ...S.builder.terms };
  if (!complete(terms)) return;
  previewTimer = setTimeout(() => {
    const same = S.preview.terms && JSON.stringify(S.preview.terms) === JSON.stringify(terms) && S.preview.data;
    S.preview.terms = terms;
    if (same && delay !== 0) return;
    previewN += 1;
    S.preview.ref = `pv-${previewN}`;
    S.preview.error = "";
    if (!sendRaw({ type: "package.preview", ref: S.preview.ref, terms })) S.preview.data = null;
    $("meter").setAttribute("aria-busy", "true");
  }, delay);
}

const miniChart = survivalChart({ width: 320, height: 96, mini: true, title: gettext("Chance the peace holds over the years") });
$("m-curve").append(miniChart.el);

function renderMeter() {
  const terms = S.builder.terms;
  const full = complete(terms);
  const pts = full ? packagePoints(terms) : null;
  const max = maxPoints();
  let partial = 0;
  for (const i of S.issues) {
    const p = myPoints(i.key, terms[i.key]);
    if (p !== null) partial += p;
  }
  $("m-points").textContent = pts !== null ? num(pts) : Object.keys(terms).length ? num(partial) : "–";
  $("m-points-max").textContent = max ? fmt(gettext("(of %(max)s)"), { max: num(max) }) : "";
  const horizon = (S.st && S.st.horizon_years) || 10;
  $("m-hold-label").textContent = fmt(ngettext("Lasts all %(n)s year", "Lasts all %(n)s years", horizon), { n: horizon });
  const data = S.preview.data;
  const fresh = full && data && JSON.stringify(data.terms) === JSON.stringify(normaliseTerms(terms));
  const dur = data && data.durability;
  const meter = $("meter");
  meter.classList.toggle("is-stale", Boolean(full && data && !fresh));
  if (fresh || !full) meter.removeAttribute("aria-busy");
  if (!full) {
    $("m-hold").textContent = "–";
    $("m-peace").textContent = "–";
    $("m-total").textContent = "–";
    miniChart.update(null, { empty: gettext("Pick one option per issue") });
    $("m-for").replaceChildren();
    $("m-against").replaceChildren();
    $("m-score").textContent = gettext("Choose an option for every issue to see how long such a deal would hold.");
    $("m-sign").replaceChildren();
    return;
  }
  $("m-sign").replaceChildren(...needsLine(terms));
  if (!dur) {
    if (S.preview.error) $("m-score").textContent = S.preview.error;
    else if (!isOpen()) $("m-score").textContent = gettext("Offline: the numbers update when the connection is back.");
    return; // keep what is shown until the answer arrives: no flicker
  }
  $("m-hold").textContent = typeof dur.p_hold === "number" ? pct(dur.p_hold) : "–";
  $("m-peace").textContent = typeof dur.expected_peace === "number" ? pct(dur.expected_peace) : "–";
  miniChart.update(Array.isArray(dur.survival) ? dur.survival : null, { empty: gettext("No curve") });
  const factors = Array.isArray(dur.factors) ? dur.factors : [];
  const pick = (list) =>
    list.slice(0, 3).map((f) =>
      h("li", { class: "f-item" }, h("span", { class: "f-label", text: f.label || f.key }), h("span", { class: "f-expl", text: f.explanation || "" })),
    );
  const good = factors.filter((f) => f.effect < -0.01).sort((a, b) => a.effect - b.effect);
  const bad = factors.filter((f) => f.effect > 0.01).sort((a, b) => b.effect - a.effect);
  $("m-for").replaceChildren(...(good.length ? pick(good) : [h("li", { class: "f-none", text: gettext("Nothing in this package lowers the risk much.") })]));
  $("m-against").replaceChildren(...(bad.length ? pick(bad) : [h("li", { class: "f-none", text: gettext("Nothing in this package raises the risk much.") })]));
  const nd = you().no_deal_value;
  $("m-total").textContent = typeof data.total === "number" ? fmt1(data.total) : "–";
  if (typeof data.total === "number") {
    $("m-score").replaceChildren(
      `${fmt(ngettext("Durability is the expected share of the %(n)s year at peace (the D of your score).", "Durability is the expected share of the %(n)s years at peace (the D of your score).", horizon), { n: horizon })} `,
      typeof nd === "number" ? fmt(gettext("No deal would give you %(value)s."), { value: num(nd) }) : "",
      data.total < nd ? h("strong", { class: "worse", text: ` ${gettext("This deal is worth less to you than no deal.")}` }) : "",
    );
  } else {
    $("m-score").textContent = "";
  }
}

function normaliseTerms(terms) {
  const out = {};
  for (const i of S.issues) if (terms[i.key]) out[i.key] = terms[i.key];
  return out;
}

function renderBuilderMode() {
  const rep = S.builder.replaces;
  const p = rep !== null && rep !== undefined ? S.proposals.get(rep) : null;
  const banner = $("counter-banner");
  const btnPropose = $("btn-propose");
  if (p && p.status === "open") {
    // Countering: the one send button sends the counter. Cancelling returns to a plain proposal.
    banner.hidden = false;
    const own = p.author === myRole();
    $("counter-text").replaceChildren(
      ...sentence(
        own
          ? gettext("Countering #%(id)s by %(role)s. Sending it replaces your proposal #%(id)s.")
          : gettext("Countering #%(id)s by %(role)s. Sending it puts your package on the table and records your rejection of #%(id)s, in one step."),
        { id: String(p.id), role: roleChip(p.author) },
      ),
    );
    btnPropose.textContent = own ? fmt(gettext("Send, replacing #%(id)s"), { id: p.id }) : fmt(gettext("Send counter to #%(id)s"), { id: p.id });
    btnPropose.dataset.counter = String(p.id);
  } else {
    if (rep !== null && rep !== undefined) {
      S.builder.replaces = null;
      saveBuilder();
    }
    banner.hidden = true;
    btnPropose.textContent = gettext("Propose");
    delete btnPropose.dataset.counter;
  }
  renderActionsEnabled();
}

function cancelCounter() {
  S.builder.replaces = null;
  saveBuilder();
  renderBuilderMode();
}

function startCounter(p) {
  S.builder.terms = { ...p.terms };
  S.builder.replaces = p.id;
  saveBuilder();
  updatePickers();
  renderBuilderMode();
  renderMeter();
  schedulePreview(0);
  if (PHONE.matches) selectTab("builder");
  const first = document.querySelector("#pickers select");
  $("panel-builder").scrollIntoView({ block: "start", behavior: "auto" });
  if (first) first.focus({ preventScroll: true });
}

function submitProposal() {
  const status = $("builder-status");
  const terms = normaliseTerms(S.builder.terms);
  if (!complete(terms)) {
    flash(status, gettext("Choose one option for every issue first."), true);
    const missing = S.issues.find((i) => !terms[i.key]);
    if (missing) {
      const inp = document.getElementById(`pick-${cssKey(missing.key)}`);
      if (inp) inp.focus();
    }
    return;
  }
  const msg = { type: "proposal.make", terms };
  const note = $("note").value.trim();
  if (note) msg.note = note;
  const countering = S.builder.replaces !== null && S.builder.replaces !== undefined && (S.proposals.get(S.builder.replaces) || {}).status === "open";
  if (countering) msg.replaces = S.builder.replaces;
  const buttons = [$("btn-propose")];
  buttons.forEach((b) => (b.disabled = true));
  flash(status, isOpen() ? gettext("Sending…") : PENDING_TEXT);
  act(msg, {
    onAck: () => {
      $("note").value = "";
      store.set("note", "");
      S.builder.replaces = null;
      saveBuilder();
      renderBuilderMode();
      flash(status, countering ? fmt(gettext("Sent. Your counter is on the table, and #%(id)s shows your rejection."), { id: msg.replaces }) : gettext("Proposed. It is on the table now."));
    },
    onError: (m) => {
      renderActionsEnabled();
      flash(status, m.message || gettext("The proposal was not accepted by the server."), true);
    },
    onPending: () => flash(status, PENDING_TEXT),
  });
}

$("builder").addEventListener("submit", (e) => {
  e.preventDefault();
  submitProposal();
});
$("counter-cancel").addEventListener("click", cancelCounter);

function flash(el, text, isError = false) {
  el.textContent = text || "";
  el.classList.toggle("is-error", isError);
}

function renderActionsEnabled() {
  if (!S.st) return;
  const ok = canAct();
  const why = !started() ? gettext("The negotiation has not started yet.") : tableEnded() ? gettext("The negotiation has ended.") : "";
  for (const id of ["btn-propose"]) {
    const b = $(id);
    b.disabled = !ok || !isOpen();
    if (why) b.title = why;
    else b.removeAttribute("title");
  }
  const chatOk = ok && isOpen();
  $("chat-send").disabled = !chatOk;
  $("chat-input").disabled = !ok;
  const status = $("chat-status");
  if (!started()) flash(status, gettext("The chat opens when your instructor starts the negotiation."));
  else if (tableEnded()) flash(status, gettext("The negotiation at this table has ended; the chat is closed."));
  else if (status.dataset.sticky !== "1" && !status.classList.contains("is-error")) flash(status, "");
  for (const b of document.querySelectorAll(".proposal [data-action]")) b.disabled = !ok || !isOpen();
}

// --- proposals on the table -------------------------------------------------------------------

// What-if answers for the packages on the table, by their terms: asked once per package.
const cardPreviews = new Map(); // terms key -> preview message, "pending" or "error"
const cardPreviewRefs = new Map(); // ref -> terms key

function cardPreview(p) {
  const terms = normaliseTerms(p.terms || {});
  if (!complete(terms)) return null;
  const key = JSON.stringify(terms);
  if (!cardPreviews.has(key) && isOpen()) {
    previewN += 1;
    const ref = `pc-${previewN}`;
    cardPreviewRefs.set(ref, key);
    cardPreviews.set(key, "pending");
    sendRaw({ type: "package.preview", ref, terms });
  }
  const v = cardPreviews.get(key);
  return v && typeof v === "object" ? v : null;
}

const STATUS_TEXT = {
  open: pgettext("proposal status", "Open"),
  agreed: pgettext("proposal status", "Agreed"),
  withdrawn: pgettext("proposal status", "Withdrawn"),
  replaced: pgettext("proposal status", "Replaced"),
  closed: pgettext("proposal status", "Closed"),
};

function proposalCard(p) {
  const me = myRole();
  const ph = phase();
  const agreementNow = Boolean(ph && ph.agreement) && !tableEnded();
  const open = p.status === "open";
  const mine = p.author === me;
  const myAnswer = p.answers[me];
  const pts = packagePoints(p.terms);
  const concludesWithMe = open && agreementNow && p.pending.length === 1 && p.pending[0] === me;
  const cls = ["proposal", "card", `status-${p.status}`];
  if (concludesWithMe) cls.push("concludes");
  if (open && p.pending.length === 0) cls.push("ready");

  const title = h("h3", { class: "p-title", id: `p-${p.id}-title` }, ...sentence(gettext("%(id)s by %(role)s"), { id: h("span", { class: "p-num num", text: `#${p.id}` }), role: roleChip(p.author) }));
  const head = h(
    "header",
    { class: "p-head" },
    title,
    h("span", { class: `p-status status-pill-${p.status}` }, STATUS_TEXT[p.status] || p.status),
  );
  const body = [head];
  const original = p.replaces ? S.proposals.get(p.replaces) : null;
  if (p.replaces) {
    const other = original && original.author !== p.author;
    const link = h("a", { href: `#proposal-${p.replaces}`, class: "p-link", dataset: { goto: String(p.replaces) } }, `#${p.replaces}`);
    body.push(
      h(
        "p",
        { class: "p-counters" },
        ...(other
          ? sentence(gettext("Counters %(link)s by %(role)s (and rejects it)"), { link, role: roleChip(original.author) })
          : sentence(gettext("Replaces %(link)s"), { link })),
      ),
    );
  }
  const counters = [...S.proposals.values()].filter((q) => q.replaces === p.id && q.author !== p.author);
  if (counters.length) {
    body.push(
      h(
        "p",
        { class: "p-countered" },
        ...sentence(gettext("Countered by %(proposals)s"), {
          proposals: listNodes(counters.map((q) => h("span", {}, h("a", { href: `#proposal-${q.id}`, class: "p-link", dataset: { goto: String(q.id) } }, `#${q.id}`), " (", roleChip(q.author), ")"))),
        }),
      ),
    );
  }

  const terms = h("ul", { class: "p-terms" });
  for (const i of S.issues) {
    const o = optionOf(i.key, p.terms[i.key]);
    const mp = myPoints(i.key, p.terms[i.key]);
    terms.append(
      h(
        "li",
        {},
        h("span", { class: "t-issue", text: i.name }),
        h("span", { class: "t-option", text: o ? o.label : p.terms[i.key] || "–" }),
        h("span", { class: "t-pts num", title: gettext("Your points"), "aria-label": mp === null ? "" : fmt(gettext("%(points)s of your points"), { points: num(mp) }) }, mp === null ? "" : num(mp)),
      ),
    );
  }
  body.push(terms);
  const pv = open || p.status === "agreed" ? cardPreview(p) : null;
  if (pts !== null) {
    const dur = pv && pv.durability;
    const horizon = (S.st && S.st.horizon_years) || 10;
    const nd = you().no_deal_value;
    body.push(
      h(
        "dl",
        { class: "p-figures" },
        h("div", {}, h("dt", { text: gettext("Your points") }), h("dd", { class: "num" }, h("strong", { text: num(pts) }), ` / ${num(maxPoints())}`)),
        dur && typeof dur.expected_peace === "number"
          ? h(
              "div",
              { class: "p-durability" },
              h("dt", { text: gettext("Durability") }),
              h(
                "dd",
                { class: "num" },
                h("strong", { text: pct(dur.expected_peace) }),
                typeof dur.p_hold === "number" ? h("small", { class: "p-hold", text: ` ${fmt(ngettext("lasts all %(n)s year: %(pct)s", "lasts all %(n)s years: %(pct)s", horizon), { n: horizon, pct: pct(dur.p_hold) })}` }) : null,
              ),
            )
          : null,
        pv && typeof pv.total === "number"
          ? h("div", {}, h("dt", { text: gettext("Your score if signed") }), h("dd", { class: "num" }, h("strong", { text: fmt1(pv.total) }), typeof nd === "number" ? ` ${fmt(gettext("(no deal %(value)s)"), { value: num(nd) })}` : ""))
          : null,
      ),
    );
  }
  if (p.note) body.push(h("blockquote", { class: "p-note" }, h("span", { class: "visually-hidden", text: `${gettext("Note:")} ` }), h("span", { text: p.note })));

  const answers = h("ul", { class: "p-answers", "aria-label": gettext("Answers") });
  for (const r of S.roleOrder) {
    const a = p.answers[r];
    const sym = a === "accept" ? "✓" : a === "reject" ? "✗" : "·";
    const word = a === "accept" ? gettext("accepts") : a === "reject" ? gettext("rejects") : gettext("no answer");
    const must = p.required.includes(r);
    answers.append(
      h(
        "li",
        { class: `ans ans-${a || "none"}${must ? " must" : ""}`, dataset: { role: r } },
        h("span", { class: "ans-sym", "aria-hidden": "true", text: sym }),
        roleChip(r),
        h("span", { class: "ans-word", text: word }),
        must ? h("span", { class: "ans-must", text: gettext("signs") }) : null,
      ),
    );
  }
  body.push(answers);
  body.push(h("p", { class: "p-needs" }, ...needsLine(p.terms)));

  let state = null;
  if (open) {
    const pendNames = p.pending.map(roleName);
    if (concludesWithMe) state = h("p", { class: "p-concl is-now" }, h("strong", { text: gettext("Your acceptance concludes the agreement now.") }), ` ${gettext("The negotiation then ends and the deal is scored.")}`);
    else if (p.pending.length === 0 && agreementNow) state = h("p", { class: "p-concl is-now", text: gettext("Every signatory has accepted.") });
    else if (p.pending.length === 0) state = h("p", { class: "p-concl is-ready", text: gettext("Every signatory has accepted: it becomes the agreement when the final stage opens, unless someone changes their answer.") });
    else if (agreementNow) state = h("p", { class: "p-concl" }, fmt(ngettext("Concludes the agreement when %(roles)s accepts.", "Concludes the agreement when %(roles)s accept.", p.pending.length), { roles: listText(pendNames) }));
    else {
      const names = ((S.st && S.st.session.phases) || []).filter((x) => x.agreement).map((x) => x.name);
      state = h(
        "p",
        { class: "p-concl" },
        names.length
          ? fmt(gettext("Still to sign: %(roles)s. An agreement can be concluded only in the %(phases)s."), { roles: listText(pendNames), phases: listText(names) })
          : fmt(gettext("Still to sign: %(roles)s. An agreement can be concluded only in the final stage."), { roles: listText(pendNames) }),
      );
    }
  } else if (p.status === "agreed") {
    state = h("p", { class: "p-concl is-agreed", text: gettext("This is the agreement of your table.") });
  }
  if (state) body.push(state);

  if (open && canAct()) {
    const actions = h("div", { class: "p-actions" });
    if (myAnswer !== "accept") {
      actions.append(h("button", { type: "button", class: "btn small", dataset: { action: "accept" } }, fmt(concludesWithMe ? gettext("Accept #%(id)s and conclude") : gettext("Accept #%(id)s"), { id: p.id })));
    }
    if (!mine && myAnswer !== "reject") {
      actions.append(h("button", { type: "button", class: "btn small secondary", dataset: { action: "reject" } }, fmt(gettext("Reject #%(id)s"), { id: p.id })));
    }
    actions.append(h("button", { type: "button", class: "btn small secondary", dataset: { action: "counter" }, "aria-label": fmt(gettext("Counter #%(id)s: edit its terms in the builder"), { id: p.id }) }, gettext("Counter…")));
    if (mine) actions.append(h("button", { type: "button", class: "btn small danger-outline", dataset: { action: "withdraw" } }, fmt(gettext("Withdraw #%(id)s"), { id: p.id })));
    body.push(actions);
  }
  const card = h("article", { class: cls.join(" "), id: `proposal-${p.id}`, dataset: { id: String(p.id) }, "aria-labelledby": `p-${p.id}-title` }, ...body);
  return card;
}

/** Bring a proposal's card into view (from a "Counters #1" link), even from the history. */
function gotoProposal(id) {
  const card = document.getElementById(`proposal-${id}`);
  if (!card) return;
  const hist = card.closest("details");
  if (hist) hist.open = true;
  if (PHONE.matches && S.activeTab !== "proposals") selectTab("proposals");
  card.scrollIntoView({ block: "center" });
  card.classList.add("is-target");
  setTimeout(() => card.classList.remove("is-target"), 2500);
  const title = card.querySelector(".p-title");
  if (title) {
    title.setAttribute("tabindex", "-1");
    title.focus({ preventScroll: true });
  }
}

function onProposalAction(e) {
  const link = e.target.closest("[data-goto]");
  if (link) {
    e.preventDefault();
    gotoProposal(Number(link.dataset.goto));
    return;
  }
  const btn = e.target.closest("[data-action]");
  if (!btn) return;
  const card = btn.closest(".proposal");
  const p = S.proposals.get(Number(card.dataset.id));
  if (!p) return;
  const status = $("proposals-hint");
  const action = btn.dataset.action;
  if (action === "counter") {
    startCounter(p);
    return;
  }
  btn.disabled = true;
  const onError = (m) => {
    btn.disabled = false;
    flash(status, m.message || gettext("That did not work."), true);
  };
  const onAck = () => flash(status, "");
  const onPending = () => flash(status, PENDING_TEXT);
  if (action === "accept" || action === "reject") act({ type: "proposal.answer", proposal: p.id, answer: action }, { onAck, onError, onPending });
  else if (action === "withdraw") act({ type: "proposal.withdraw", proposal: p.id }, { onAck, onError, onPending });
}
$("proposal-list").addEventListener("click", onProposalAction);
$("proposal-history-list").addEventListener("click", onProposalAction);

const cardSigs = new Map();
function renderProposals() {
  if (!S.st) return;
  const all = [...S.proposals.values()].sort((a, b) => b.id - a.id);
  const open = all.filter((p) => p.status === "open" || p.status === "agreed");
  const past = all.filter((p) => !(p.status === "open" || p.status === "agreed"));
  const ph = phase();
  const ctx = JSON.stringify([myRole(), ph && ph.agreement, tableEnded(), canAct(), you().values, (S.st.session.phases || []).length]);
  const place = (list, container) => {
    const keep = new Set(list.map((p) => p.id));
    for (const el of [...container.children]) if (!keep.has(Number(el.dataset.id))) el.remove();
    let prev = null;
    for (const p of list) {
      const links = [(S.proposals.get(p.replaces) || {}).author, [...S.proposals.values()].filter((q) => q.replaces === p.id).map((q) => [q.id, q.author])];
      const sig = JSON.stringify([p, ctx, links, cardPreviews.get(JSON.stringify(normaliseTerms(p.terms || {})))]);
      let el = document.getElementById(`proposal-${p.id}`);
      if (!el || cardSigs.get(p.id) !== sig || el.parentElement !== container) {
        const fresh = proposalCard(p);
        const focused = el && el.contains(document.activeElement) ? document.activeElement.dataset.action : null;
        if (el) el.remove();
        el = fresh;
        cardSigs.set(p.id, sig);
        if (focused) {
          queueMicrotask(() => {
            const again = el.querySelector(`[data-action="${focused}"]`) || el.querySelector("[data-action]") || null;
            if (again) again.focus({ preventScroll: true });
          });
        }
      }
      const want = prev ? prev.nextSibling : container.firstChild;
      if (want !== el) container.insertBefore(el, want);
      prev = el;
    }
  };
  place(open, $("proposal-list"));
  place(past, $("proposal-history-list"));
  $("proposal-history").hidden = past.length === 0;
  $("history-count").textContent = `(${past.length})`;
  $("proposals-empty").hidden = all.length > 0;
  const waiting = open.filter((p) => p.status === "open" && p.answers[myRole()] === undefined).length;
  const badge = $("tab-proposals-badge");
  badge.hidden = waiting === 0;
  badge.querySelector(".num").textContent = String(waiting);
  renderActionsEnabled();
  renderJump();
}

/** A link from the builder to the proposals below it, saying how many wait for an answer. */
function renderJump() {
  const el = $("table-jump");
  const open = [...S.proposals.values()].filter((p) => p.status === "open");
  const waiting = open.filter((p) => p.answers[myRole()] === undefined).length;
  const show = open.length > 0 && !PHONE.matches && currentView() === "game";
  el.hidden = !show;
  if (show) {
    const onTable = fmt(ngettext("%(n)s open on the table", "%(n)s open on the table", open.length), { n: open.length });
    el.textContent = waiting ? `${fmt(ngettext("%(open)s, %(n)s awaits your answer", "%(open)s, %(n)s await your answer", waiting), { open: onTable, n: waiting })} ↓` : `${onTable} ↓`;
  }
}
$("table-jump").addEventListener("click", (e) => {
  e.preventDefault();
  const head = $("proposals-title");
  head.setAttribute("tabindex", "-1");
  $("panel-proposals").scrollIntoView({ block: "start" });
  head.focus({ preventScroll: true });
});

// --- chat -------------------------------------------------------------------------------------

function chatChannels() {
  const me = myRole();
  let mine = you().channels;
  if (!Array.isArray(mine)) mine = me ? S.roleOrder.filter((r) => r !== me).map((r) => [me, r].sort().join("+")) : [];
  return ["table", ...mine.filter((c) => typeof c === "string")];
}

function channelOther(ch) {
  if (ch === "table") return null;
  return ch.split("+").find((r) => r !== myRole()) || ch;
}

/** Does anyone sit in this role at my table? (A private channel to an empty seat reaches nobody yet.) */
function seatTaken(role) {
  const seat = ((S.st && S.st.table && S.st.table.seats) || []).find((x) => x.role === role);
  return Boolean(seat && (seat.players || []).length);
}

function channelLabel(ch) {
  return ch === "table" ? pgettext("chat channel", "Table") : roleName(channelOther(ch));
}

function unread(ch) {
  const mark = (S.readMarks || {})[ch] || 0;
  return (S.chat.get(ch) || []).filter((m) => m.seq > mark && m.role !== myRole()).length;
}

function chatVisible() {
  if (document.visibilityState !== "visible") return false;
  if (currentView() !== "game" && currentView() !== "ended") return false;
  return !PHONE.matches || S.activeTab === "chat";
}

function markRead() {
  if (!S.st || !chatVisible()) return;
  const list = S.chat.get(S.activeChannel) || [];
  const last = list.length ? list[list.length - 1].seq : 0;
  if ((S.readMarks[S.activeChannel] || 0) < last) {
    S.readMarks[S.activeChannel] = last;
    store.set("read", S.readMarks);
  }
}

function chatMessage(m) {
  const mine = m.role === myRole();
  const time = m.at ? new Date(parseTime(m.at)) : null;
  return h(
    "li",
    { class: `msg role-${cssKey(m.role)}${mine ? " is-mine" : ""}`, dataset: { seq: String(m.seq) } },
    h(
      "div",
      { class: "msg-head" },
      roleChip(m.role, { cls: "msg-role" }),
      m.name ? h("span", { class: "msg-name", text: m.name }) : null,
      time && !Number.isNaN(time.getTime())
        ? h("time", { class: "msg-time num", datetime: m.at, text: timeText(time) })
        : null,
    ),
    h("p", { class: "msg-text", text: m.text || "" }),
  );
}

function renderChat() {
  if (!S.st) return;
  const channels = chatChannels();
  const tabs = $("chat-tabs");
  const logs = $("chat-logs");
  if (tabs.dataset.sig !== channels.join(",") + myRole()) {
    tabs.dataset.sig = channels.join(",") + myRole();
    tabs.replaceChildren(
      ...channels.map((ch) => {
        const other = channelOther(ch);
        return h(
          "button",
          { type: "button", role: "tab", class: "chat-tab", id: `chat-tab-${cssKey(ch)}`, "aria-controls": `chat-log-${cssKey(ch)}`, dataset: { channel: ch } },
          other ? roleChip(other, { cls: "chat-tab-role" }) : h("span", { class: "chat-tab-table", text: pgettext("chat channel", "Table") }),
          // The name is the tab's own text (no aria-label that would differ from what is seen).
          h("span", { class: "chat-unread-box", hidden: true }, h("span", { class: "visually-hidden", text: ", " }), h("span", { class: "chat-unread num" }), h("span", { class: "visually-hidden", text: ` ${pgettext("tab badge", "unread")}` })),
          other ? h("span", { class: "chat-tab-empty", hidden: true }, h("span", { class: "visually-hidden", text: ", " }), pgettext("a private chat's tab", "empty"), h("span", { class: "visually-hidden", text: gettext(": nobody seated yet") })) : null,
        );
      }),
    );
    logs.replaceChildren(
      ...channels.map((ch) =>
        h(
          "div",
          { class: "chat-log-wrap", id: `chat-wrap-${cssKey(ch)}`, role: "tabpanel", "aria-labelledby": `chat-tab-${cssKey(ch)}` },
          h("p", {
            class: "chat-empty",
            text: ch === "table" ? gettext("No messages yet. Everything here is read by the whole table.") : fmt(gettext("No messages yet. Only you, %(role)s and your instructor read this channel."), { role: channelLabel(ch) }),
          }),
          // Not a live region: new lines are spoken by the announcer, once, and never one's own.
          h("ol", { class: "chat-log", id: `chat-log-${cssKey(ch)}`, "aria-label": fmt(gettext("Messages: %(channel)s"), { channel: channelLabel(ch) }) }),
        ),
      ),
    );
  }
  for (const ch of channels) {
    const log = document.getElementById(`chat-log-${cssKey(ch)}`);
    const wrap = document.getElementById(`chat-wrap-${cssKey(ch)}`);
    const list = S.chat.get(ch) || [];
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const have = new Set([...log.children].map((li) => Number(li.dataset.seq)));
    let added = false;
    for (const m of list) {
      if (have.has(m.seq)) continue;
      const li = chatMessage(m);
      const after = [...log.children].find((x) => Number(x.dataset.seq) > m.seq);
      log.insertBefore(li, after || null);
      added = true;
    }
    wrap.querySelector(".chat-empty").hidden = list.length > 0;
    const active = ch === S.activeChannel;
    wrap.hidden = !active;
    if (added && (atBottom || active)) log.scrollTop = log.scrollHeight;
  }
  markRead();
  let total = 0;
  for (const btn of tabs.children) {
    const ch = btn.dataset.channel;
    const active = ch === S.activeChannel;
    btn.setAttribute("aria-selected", active ? "true" : "false");
    btn.tabIndex = active ? 0 : -1;
    const n = active && chatVisible() ? 0 : unread(ch);
    total += unread(ch);
    btn.querySelector(".chat-unread-box").hidden = n === 0;
    btn.querySelector(".chat-unread").textContent = String(n);
    const nobody = ch !== "table" && !seatTaken(channelOther(ch));
    const empty = btn.querySelector(".chat-tab-empty");
    if (empty) empty.hidden = !nobody;
  }
  const ch = S.activeChannel;
  const scope = $("chat-scope");
  // Honest about who reads what, before anything is written: the instructor reads every channel.
  if (ch === "table") scope.replaceChildren(gettext("Everyone at the table reads this, and your instructor."));
  else {
    const other = channelOther(ch);
    scope.replaceChildren(
      ...sentence(gettext("Private: only you and %(role)s read this, %(instructor)s, who can read every channel."), {
        role: roleChip(other),
        instructor: h("strong", { text: gettext("and your instructor") }),
      }),
    );
    if (!seatTaken(other)) {
      scope.append(h("span", { class: "chat-nobody" }, ` ${fmt(gettext("Nobody plays %(role)s at your table yet: your messages wait here for whoever takes the seat."), { role: roleName(other) })}`));
    }
  }
  for (const btn of tabs.children) {
    const other = channelOther(btn.dataset.channel);
    btn.classList.toggle("is-empty-seat", Boolean(other) && !seatTaken(other));
  }
  $("chat-input").placeholder = ch === "table" ? gettext("Write to the whole table") : fmt(gettext("Write privately to %(role)s"), { role: channelLabel(ch) });
  $("chat-input-label").textContent = ch === "table" ? gettext("Message to the whole table") : fmt(gettext("Private message to %(role)s"), { role: channelLabel(ch) });
  const tabBadge = $("tab-chat-badge");
  const phoneUnread = S.activeTab === "chat" ? total - unread(ch) : total;
  tabBadge.hidden = !(PHONE.matches && phoneUnread > 0);
  tabBadge.querySelector(".num").textContent = String(phoneUnread);
}

function selectChannel(ch, focus = false) {
  S.activeChannel = ch;
  store.set("channel", ch);
  renderChat();
  const log = document.getElementById(`chat-log-${cssKey(ch)}`);
  if (log) log.scrollTop = log.scrollHeight;
  if (focus) document.getElementById(`chat-tab-${cssKey(ch)}`).focus();
}

$("chat-tabs").addEventListener("click", (e) => {
  const btn = e.target.closest("[data-channel]");
  if (btn) selectChannel(btn.dataset.channel);
});
$("chat-tabs").addEventListener("keydown", (e) => arrowTabs(e, $("chat-tabs"), (btn) => selectChannel(btn.dataset.channel, true)));

function arrowTabs(e, list, choose) {
  const tabs = [...list.querySelectorAll('[role="tab"]')].filter((t) => !t.hidden);
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  let j = null;
  if (e.key === "ArrowRight" || e.key === "ArrowDown") j = (i + 1) % tabs.length;
  else if (e.key === "ArrowLeft" || e.key === "ArrowUp") j = (i - 1 + tabs.length) % tabs.length;
  else if (e.key === "Home") j = 0;
  else if (e.key === "End") j = tabs.length - 1;
  if (j === null) return;
  e.preventDefault();
  choose(tabs[j]);
}

function sendChat() {
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text) return;
  const channel = S.activeChannel;
  input.value = "";
  store.set("draft", "");
  flash($("chat-status"), isOpen() ? "" : PENDING_TEXT);
  act(
    { type: "chat.send", channel, text },
    {
      onAck: () => {
        // The sender hears this once; their own line is never read out again.
        if (!outbox.size) flash($("chat-status"), channel === "table" ? gettext("Sent to the table.") : fmt(gettext("Sent privately to %(role)s."), { role: channelLabel(channel) }));
      },
      onError: (m) => {
        if (!input.value) input.value = text;
        flash($("chat-status"), m.message || gettext("The message was not sent."), true);
      },
      onPending: () => flash($("chat-status"), PENDING_TEXT),
    },
  );
}
$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sendChat();
});
$("chat-input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    sendChat();
  }
});

// --- the outcome ------------------------------------------------------------------------------

const outcomeChart = survivalChart({ width: 640, height: 300, title: gettext("How long the peace holds: the chance it still holds at the end of each year") });
$("outcome-chart").append(outcomeChart.el);
let outcomeSig = "";

function renderOutcome() {
  const panel = $("panel-outcome");
  const o = S.outcome;
  const builder = $("panel-builder");
  if (!o) {
    panel.hidden = true;
    builder.hidden = false;
    $("tab-outcome").hidden = true;
    $("tab-builder").hidden = false;
    return;
  }
  panel.hidden = false;
  builder.hidden = true;
  $("tab-outcome").hidden = false;
  $("tab-builder").hidden = true;
  const sig = JSON.stringify([o, you().role, you().values]);
  if (sig === outcomeSig) return;
  outcomeSig = sig;
  const dur = o.durability || {};
  const survival = Array.isArray(dur.survival) ? dur.survival : [];
  const T = survival.length || (S.st && S.st.horizon_years) || 10;
  const real = dur.realized || null;
  const agreed = o.agreement && typeof o.agreement === "object";

  let title;
  if (!agreed) title = `${noDealText()}.`;
  else if (real && real.held === false && real.collapse_year) title = fmt(gettext("Agreement signed, but the peace collapsed in year %(year)s."), { year: real.collapse_year });
  else if (real && real.held) title = fmt(ngettext("Agreement signed. The peace held all %(n)s year.", "Agreement signed. The peace held all %(n)s years.", T), { n: T });
  else title = gettext("Agreement signed.");
  $("outcome-title").textContent = title;
  const story = [];
  if (!agreed) story.push(gettext("Your table concluded no agreement before the end. With no peace to hold, durability is 0 and every party scores its no-deal value."));
  else if (real && real.cause) story.push(real.cause);
  if (agreed && typeof dur.expected_peace === "number") {
    story.push(
      typeof dur.p_hold === "number"
        ? fmt(
            ngettext(
              "Its durability is %(durability)s: a deal like this keeps the peace, on average, that share of the %(n)s year (it lasts all %(n)s year in %(hold)s of histories). Your table's story is one draw of that chance.",
              "Its durability is %(durability)s: a deal like this keeps the peace, on average, that share of the %(n)s years (it lasts all %(n)s years in %(hold)s of histories). Your table's story is one draw of that chance.",
              T,
            ),
            { durability: pct(dur.expected_peace), n: T, hold: pct(dur.p_hold) },
          )
        : fmt(
            ngettext(
              "Its durability is %(durability)s: a deal like this keeps the peace, on average, that share of the %(n)s year. Your table's story is one draw of that chance.",
              "Its durability is %(durability)s: a deal like this keeps the peace, on average, that share of the %(n)s years. Your table's story is one draw of that chance.",
              T,
            ),
            { durability: pct(dur.expected_peace), n: T },
          ),
    );
  }
  $("outcome-story").textContent = story.join(" ");

  // the terms
  const termsBox = $("outcome-terms");
  if (agreed) {
    const ul = h("ul", { class: "p-terms" });
    for (const i of S.issues) {
      const opt = optionOf(i.key, o.agreement[i.key]);
      const mp = myPoints(i.key, o.agreement[i.key]);
      ul.append(
        h(
          "li",
          {},
          h("span", { class: "t-issue", text: i.name }),
          h("span", { class: "t-option", text: opt ? opt.label : o.agreement[i.key] || "–" }),
          h("span", { class: "t-pts num", "aria-label": mp === null ? "" : fmt(gettext("%(points)s of your points"), { points: num(mp) }) }, mp === null ? "" : num(mp)),
        ),
      );
    }
    const signers = requiredFor(o.agreement);
    termsBox.replaceChildren(ul, h("p", { class: "p-needs" }, ...sentence(gettext("Signed by %(roles)s."), { roles: listNodes(signers.map((r) => roleChip(r))) })));
  } else {
    termsBox.replaceChildren(h("p", { class: "no-deal", text: gettext("No agreement. Every party is left with what it expects from continuing the war.") }));
  }

  // the chart
  const collapse = real && real.held === false && real.collapse_year ? real.collapse_year : null;
  if (agreed && survival.length) outcomeChart.update(survival, { collapseYear: collapse });
  else outcomeChart.update(null, { empty: agreed ? gettext("No survival curve was sent.") : gettext("No agreement: there was no peace to hold.") });
  const chartHint = fmt(
    ngettext(
      "The line is the chance that the peace still holds at the end of each year; the shaded area is the expected share of the %(n)s year at peace.",
      "The line is the chance that the peace still holds at the end of each year; the shaded area is the expected share of the %(n)s years at peace.",
      T,
    ),
    { n: T },
  );
  $("outcome-chart-hint").textContent = agreed ? (collapse ? `${chartHint} ${gettext("The dashed line marks the year it collapsed at your table.")}` : chartHint) : "";

  // the factors
  const factors = Array.isArray(dur.factors) ? dur.factors : [];
  const maxAbs = Math.max(0.05, ...factors.map((f) => Math.abs(f.effect || 0)));
  $("outcome-factors").replaceChildren(
    ...(factors.length
      ? factors.map((f) => {
          const e = f.effect || 0;
          const dir = e < -0.01 ? gettext("lowers the risk") : e > 0.01 ? gettext("raises the risk") : gettext("little effect");
          const hr = typeof f.hazard_ratio === "number" ? f.hazard_ratio : Math.exp(e);
          return h(
            "li",
            { class: `factor ${e < -0.01 ? "is-good" : e > 0.01 ? "is-bad" : "is-none"}` },
            h(
              "div",
              { class: "factor-head" },
              h("span", { class: "factor-label", text: f.label || f.key }),
              h("span", { class: "factor-effect num", text: Math.abs(e) > 0.01 ? fmt(gettext("%(direction)s · risk ×%(ratio)s"), { direction: dir, ratio: fixed(hr, 2) }) : dir }),
            ),
            effectBar(e, maxAbs),
            h("p", { class: "factor-expl", text: f.explanation || "" }),
          );
        })
      : [h("li", { class: "f-none", text: agreed ? gettext("No factor details were sent.") : gettext("Without an agreement there is nothing to weigh: the war simply goes on.") })]),
  );

  // the scores
  const scores = o.scores || {};
  const me = myRole();
  const mine = scores[me];
  const nd = you().no_deal_value;
  // The student's own result first, in the headline card: on a phone the details follow below.
  $("outcome-score-line").replaceChildren(
    ...(mine
      ? sentence(
          typeof nd === "number"
            ? gettext("Your score: %(total)s (tactical %(tactical)s · durability %(durability)s · no deal %(no_deal)s)")
            : gettext("Your score: %(total)s (tactical %(tactical)s · durability %(durability)s)"),
          { total: h("strong", { text: fmt1(mine.total) }), tactical: fmt1(mine.tactical), durability: pct(mine.durability / 100), no_deal: typeof nd === "number" ? num(nd) : "" },
        )
      : []),
  );
  const youBox = $("outcome-you");
  if (mine) {
    const D = typeof dur.expected_peace === "number" ? dur.expected_peace : (mine.durability || 0) / 100;
    youBox.replaceChildren(
      h(
        "div",
        { class: "score-row" },
        h("div", { class: "score big-num is-total" }, h("span", { class: "big-label", text: gettext("Total") }), h("span", { class: "big-value num", text: fmt1(mine.total) })),
        h("div", { class: "score big-num" }, h("span", { class: "big-label", text: gettext("Tactical") }), h("span", { class: "big-value num", text: fmt1(mine.tactical) })),
        h("div", { class: "score big-num" }, h("span", { class: "big-label", text: gettext("Durability") }), h("span", { class: "big-value num", text: pct(mine.durability / 100) })),
      ),
      h("p", { class: "formula num", text: scoreFormula(o.scoring, mine, D, agreed, nd) }),
      h(
        "p",
        { class: "hint" },
        fmt(
          ngettext(
            "Tactical: your points for the package, the sum of its options' points in the agreement (0 is the worst for you, 100 the best that can be agreed). Durability: D, the expected share of the %(n)s year at peace. Each year at peace pays your tactical points plus %(peace)s for the peace itself; each year after a collapse pays only %(share)s of your points, because the war resumes from where the deal left you.",
            "Tactical: your points for the package, the sum of its options' points in the agreement (0 is the worst for you, 100 the best that can be agreed). Durability: D, the expected share of the %(n)s years at peace. Each year at peace pays your tactical points plus %(peace)s for the peace itself; each year after a collapse pays only %(share)s of your points, because the war resumes from where the deal left you.",
            T,
          ),
          { n: T, peace: num(peaceValue(o.scoring)), share: pct(relapseShare(o.scoring)) },
        ),
      ),
      lessonBox(o, me, mine),
    );
  } else {
    youBox.replaceChildren(h("p", { text: gettext("Your score was not sent.") }));
  }
  renderReplays(agreed ? dur.replays : null, T);
  const rows = S.roleOrder
    .filter((r) => scores[r])
    .map((r) =>
      h(
        "tr",
        { class: r === me ? "is-you" : "" },
        h("th", { scope: "row" }, roleChip(r), r === me ? h("span", { class: "you-tag", text: ` ${gettext("(you)")}` }) : null),
        h("td", { class: "num", text: fmt1(scores[r].tactical) }),
        h("td", { class: "num", text: pct(scores[r].durability / 100) }),
        h("td", { class: "num total", text: fmt1(scores[r].total) }),
      ),
    );
  $("outcome-others").replaceChildren(
    h(
      "table",
      { class: "score-table" },
      h("caption", { class: "visually-hidden", text: gettext("Scores of every party") }),
      h(
        "thead",
        {},
        h("tr", {}, h("th", { scope: "col", text: gettext("Party") }), h("th", { scope: "col", text: gettext("Tactical") }), h("th", { scope: "col", text: gettext("Durability") }), h("th", { scope: "col", text: gettext("Total") })),
      ),
      h("tbody", {}, rows),
    ),
    h("p", { class: "hint", text: [S.st && S.st.moral, gettext("Every party shares the same durability.")].filter(Boolean).join(" ") }),
  );
}

/** What no agreement means in this scenario ("No agreement: the war goes on"), without a full stop. */
const noDealText = () => (S.st && S.st.no_deal_text) || gettext("No agreement");

const peaceValue = (sc) => (sc && typeof sc.peace_value === "number" ? sc.peace_value : 50);
const relapseShare = (sc) => (sc && typeof sc.relapse_share === "number" ? sc.relapse_share : 0.1);

/** The one-line rule with this table's numbers in it. */
function scoreFormula(scoring, mine, D, agreed, nd) {
  if (!agreed) return typeof nd === "number" ? fmt(gettext("No agreement, so your total is your no-deal value: %(value)s."), { value: num(nd) }) : gettext("No agreement, so your total is your no-deal value.");
  const P = peaceValue(scoring);
  const r = relapseShare(scoring);
  const scale = 100 / (100 + P);
  const tac = mine.tactical;
  return fmt(gettext("Total = %(scale)s × [D × (tactical + %(peace)s) + (1 − D) × %(share)s × tactical] = %(scale)s × [%(d)s × %(a)s + %(rest)s × %(b)s] = %(total)s"), {
    scale: pct1(scale),
    peace: num(P),
    share: num(r),
    d: fixed(D, 2),
    a: fmt1(tac + P),
    rest: fixed(1 - D, 2),
    b: fmt1(r * tac),
    total: fmt1(mine.total),
  });
}

/** Beside the student's own result: what their greediest package and the compromise would have scored them. */
function lessonBox(o, me, mine) {
  const les = o.lesson && o.lesson.roles && o.lesson.roles[me];
  if (!les) return null;
  const nd = you().no_deal_value;
  const comp = o.lesson.compromise || {};
  const items = [
    { key: "yours", label: o.agreement ? gettext("Your table's deal") : gettext("No deal (your table)"), value: mine.total, note: "" },
    { key: "greedy", label: gettext("Your own maximum"), value: les.greedy.total, note: fmt(gettext("durability %(pct)s · %(package)s"), { pct: pct(les.greedy.expected_peace || 0), package: packageText(les.greedy.terms) }) },
    { key: "compromise", label: gettext("The compromise"), value: les.compromise.total, note: fmt(gettext("durability %(pct)s · %(package)s"), { pct: pct(comp.expected_peace || 0), package: packageText(comp.terms) }) },
  ];
  if (typeof nd === "number" && o.agreement) items.push({ key: "nodeal", label: gettext("No deal"), value: nd, note: noDealText() });
  const max = Math.max(1, ...items.map((i) => i.value));
  return h(
    "div",
    { class: "lesson-box" },
    h("h4", { text: gettext("Beside your result") }),
    h(
      "ul",
      { class: "lesson-bars" },
      ...items.map((i) =>
        h(
          "li",
          { class: `lb-${i.key}` },
          h("span", { class: "lb-label", text: i.label }),
          h("span", { class: "lb-bar", "aria-hidden": "true" }, h("span", { class: "lb-fill", style: `width:${Math.max(2, (100 * i.value) / max)}%` })),
          h("span", { class: "lb-value num", text: fmt1(i.value) }),
          i.note ? h("span", { class: "lb-note", text: i.note }) : null,
        ),
      ),
    ),
    h("p", {
      class: "hint",
      text: les.greedy.total < les.compromise.total ? [gettext("Your maximum wins every point at the table and then collapses early: it scores less than the compromise."), S.st && S.st.moral].filter(Boolean).join(" ") : "",
    }),
  );
}

function packageText(terms) {
  if (!terms) return "";
  return S.issues.map((i) => {
    const opt = optionOf(i.key, terms[i.key]);
    return opt ? opt.label : terms[i.key];
  }).join("; ");
}

/** The same deal under a hundred other histories, so one draw is not taken for the rule. */
function renderReplays(rep, T) {
  const box = $("outcome-replays");
  if (!rep || !Array.isArray(rep.collapse_years)) {
    box.replaceChildren();
    return;
  }
  const n = rep.n || 100;
  const years = rep.collapse_years;
  const max = Math.max(1, ...years, rep.held);
  const spread = rep.earliest_collapse_year
    ? ` ${fmt(gettext("The others collapsed between year %(earliest)s and year %(latest)s, half of them by year %(median)s."), {
        earliest: rep.earliest_collapse_year,
        latest: rep.latest_collapse_year,
        median: rep.median_collapse_year,
      })}`
    : "";
  box.replaceChildren(
    h("h4", { text: fmt(ngettext("The same deal under %(n)s other history", "The same deal under %(n)s other histories", n), { n }) }),
    h("p", { class: "replays-summary", text: `${fmt(ngettext("It held all %(years)s year in %(held)s of %(n)s.", "It held all %(years)s years in %(held)s of %(n)s.", T), { years: T, held: rep.held, n })}${spread}` }),
    h(
      "ol",
      { class: "replay-bars", "aria-label": fmt(gettext("How many of %(n)s histories collapsed in each year, and how many held"), { n }) },
      // Each bar says its data in words to a screen reader ("Year 3: 12 collapsed"); the short
      // labels under the bars are for the eye.
      ...years.map((c, i) =>
        h(
          "li",
          { class: "rb" },
          h("span", { class: "rb-bar", "aria-hidden": "true", style: `height:${(100 * c) / max}%` }),
          h("span", { class: "rb-count num", "aria-hidden": "true", text: String(c) }),
          h("span", { class: "rb-year", "aria-hidden": "true", text: fmt(pgettext("short for year N", "Y%(n)s"), { n: i + 1 }) }),
          h("span", { class: "visually-hidden", text: fmt(ngettext("Year %(year)s: %(n)s collapsed", "Year %(year)s: %(n)s collapsed", c), { year: i + 1, n: c }) }),
        ),
      ),
      h(
        "li",
        { class: "rb rb-held" },
        h("span", { class: "rb-bar", "aria-hidden": "true", style: `height:${(100 * rep.held) / max}%` }),
        h("span", { class: "rb-count num", "aria-hidden": "true", text: String(rep.held) }),
        h("span", { class: "rb-year", "aria-hidden": "true", text: pgettext("replays: the deal held", "held") }),
        h("span", { class: "visually-hidden", text: fmt(ngettext("Held all %(years)s year: %(n)s", "Held all %(years)s years: %(n)s", T), { years: T, n: rep.held }) }),
      ),
    ),
  );
}

/** The outcome has just arrived: bring it into view and move the focus to its headline. */
function showOutcome() {
  document.querySelector(".col-mid").scrollTop = 0;
  window.scrollTo({ top: 0 });
  const title = $("outcome-title");
  title.setAttribute("tabindex", "-1");
  title.focus({ preventScroll: true });
}

// --- tabs on a phone --------------------------------------------------------------------------

function renderTabs() {
  const ended = Boolean(S.outcome);
  if (ended && S.activeTab === "builder") S.activeTab = "outcome";
  if (!ended && S.activeTab === "outcome") S.activeTab = "builder";
  for (const btn of document.querySelectorAll("#tabbar [role=tab]")) {
    const on = btn.dataset.tab === S.activeTab;
    btn.setAttribute("aria-selected", on ? "true" : "false");
    btn.tabIndex = on ? 0 : -1;
  }
  for (const panel of document.querySelectorAll("#game .panel")) panel.classList.toggle("is-active", panel.dataset.tab === S.activeTab);
}

function selectTab(tab, focus = false) {
  if (S.activeTab === "brief" && tab !== "brief") markBriefRead();
  S.activeTab = tab;
  store.set("tab", tab);
  renderTabs();
  renderChat();
  window.scrollTo({ top: 0 });
  if (tab === "chat") {
    const log = document.getElementById(`chat-log-${cssKey(S.activeChannel)}`);
    if (log) log.scrollTop = log.scrollHeight; // it could not scroll while hidden
  }
  if (focus) document.getElementById(`tab-${tab}`).focus();
}

$("tabbar").addEventListener("click", (e) => {
  const btn = e.target.closest("[data-tab]");
  if (btn) selectTab(btn.dataset.tab);
});
$("tabbar").addEventListener("keydown", (e) => arrowTabs(e, $("tabbar"), (btn) => selectTab(btn.dataset.tab, true)));
PHONE.addEventListener("change", () => {
  renderTabs();
  renderChat();
});

// --- the brief first --------------------------------------------------------------------------
// Until a student has read their brief once, they land on it: on a phone the Brief tab is
// selected (the top bar keeps the role, the phase and the clock in view), and where the brief is
// a folding card it starts open. Read once: they left the Brief tab for another, or scrolled on to
// their points, which follow the brief. Remembered by this browser for this session.
const BRIEF_READ_KEY = `ng:${CODE}:brief-read`;
function briefRead() {
  try {
    return localStorage.getItem(BRIEF_READ_KEY) === "1";
  } catch {
    return false;
  }
}
function markBriefRead() {
  try {
    localStorage.setItem(BRIEF_READ_KEY, "1");
  } catch {
    /* private mode: the brief comes first again next time */
  }
}
if (!briefRead()) {
  S.activeTab = "brief";
  if ("IntersectionObserver" in window) {
    const seen = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      markBriefRead();
      seen.disconnect();
    });
    for (const id of ["points-details", "lobby-points"]) seen.observe($(id));
  }
}

// --- go ---------------------------------------------------------------------------------------

// Drafts survive a reload: the note of a proposal and the message being written.
$("note").value = store.get("note", "");
$("chat-input").value = store.get("draft", "");
$("note").addEventListener("input", () => store.set("note", $("note").value));
$("chat-input").addEventListener("input", () => store.set("draft", $("chat-input").value));

// The height of what sits above the panels (the top bar, and the banners and notices under it),
// so a phone's chat fits between it and the tabs: nothing pushes the chat box under the tab bar.
const chrome = ["topbar", "offline-banner", "notices", "news-banner"].map($);
const setChrome = () => {
  const root = document.documentElement.style;
  root.setProperty("--topbar-h", `${$("topbar").offsetHeight}px`);
  root.setProperty("--chrome-h", `${chrome.reduce((sum, el) => sum + (el.hidden ? 0 : el.offsetHeight), 0)}px`);
};
if ("ResizeObserver" in window) {
  const watch = new ResizeObserver(setChrome);
  for (const el of chrome) watch.observe(el);
}
new MutationObserver(setChrome).observe($("notices"), { childList: true });
setChrome();
// The brief starts open where there is room for it beside the builder.
const medium = window.matchMedia("(min-width: 760px) and (max-width: 1199px)").matches;
$("brief-details").open = !medium || !briefRead();
$("points-details").open = !medium;

setConn("connecting");
connect();
