// The player page's state: the last snapshot kept current by events, what the student is
// building, and the questions every view asks of it (my role, my points, who must sign). Also
// the page's small helpers (storage, times) and the socket's side the views send through.

import { fmt, gettext, listNodes, ngettext, num } from "../i18n.js";
import { h, sentence } from "../lib/dom.js";
import { roleChip as chip } from "../lib/roles.js";

export const app = document.getElementById("app");
export const CODE = app.dataset.code;
export const WS_PATH = app.dataset.wsPath;
export const $ = (id) => document.getElementById(id);
// Phones, in portrait and in landscape (short and not wide): one column, the parts as tabs.
export const PHONE = window.matchMedia("(max-width: 759px), (max-height: 500px) and (max-width: 1199px)");

export const store = {
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

/** ISO 8601 from the server (microseconds, +00:00) as ms; every browser reads 3 fraction digits. */
export function parseTime(iso) {
  if (typeof iso !== "string") return NaN;
  return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
}

// --- the state --------------------------------------------------------------------------------

export const S = {
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
  scenarioVersion: 0,
};

export const you = () => (S.st ? S.st.you : {});
export const myRole = () => you().role || null;
export const roleName = (key) => (S.roles.get(key) || {}).name || key;
export const phase = () => (S.st && S.st.session ? S.st.session.phase : null);
export const tableEnded = () => Boolean(S.outcome || (S.st && S.st.table && S.st.table.ended));
export const started = () => Boolean(S.st && ((S.st.table && S.st.table.started) || (S.st.session && S.st.session.status !== "lobby")));
export const canAct = () => started() && !tableEnded() && Boolean(myRole());

export function issueByKey(k) {
  return S.issues.find((i) => i.key === k);
}
export function optionOf(issueKey, optKey) {
  const i = issueByKey(issueKey);
  return i ? i.options.find((o) => o.key === optKey) : null;
}
export function myPoints(issueKey, optKey) {
  const v = (you().values || {})[issueKey];
  return v && typeof v[optKey] === "number" ? v[optKey] : null;
}
export function packagePoints(terms) {
  let total = 0;
  for (const i of S.issues) {
    const p = myPoints(i.key, terms[i.key]);
    if (p === null) return null;
    total += p;
  }
  return total;
}
/** Points are on the tactical scale: 100 is the best package for you that can be agreed. */
export function maxPoints() {
  return Object.keys(you().values || {}).length ? 100 : 0;
}
export function complete(terms) {
  return S.issues.length > 0 && S.issues.every((i) => terms && optionOf(i.key, terms[i.key]));
}

/** Who must sign: the necessary signatories and every role an option commits, in role order. */
export function requiredFor(terms) {
  const need = new Set((S.st && S.st.necessary_signatories) || []);
  for (const i of S.issues) {
    const o = optionOf(i.key, terms[i.key]);
    if (o) for (const r of o.commits || []) need.add(r);
  }
  return S.roleOrder.filter((r) => need.has(r));
}

export function normalise(p) {
  const q = { ...p, answers: { ...(p.answers || {}) } };
  if (!Array.isArray(q.required)) q.required = requiredFor(q.terms || {});
  q.pending = q.required.filter((r) => q.answers[r] !== "accept");
  return q;
}

// --- role chips and the "needs" sentence ---------------------------------------------------------

export function roleChip(key, { label = null, cls = "" } = {}) {
  return chip({ key, name: roleName(key) }, { label, cls });
}

/** "Needs Russia and Ukraine (and Europe: it commits it to “...”)". */
export function needsLine(terms) {
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

// --- the socket's side of the state ----------------------------------------------------------
// play.js opens the socket (lib/socket.js) and puts it here; the views send through these.

export const net = { sock: null };
export const PENDING_TEXT = gettext("Reconnecting… your move will be sent.");
let previewN = 0;

export function isOpen() {
  return Boolean(net.sock && net.sock.isOpen());
}

/** A message that changes nothing (a preview, a hello): sent if the socket is open. */
export function sendRaw(msg) {
  return Boolean(net.sock && net.sock.send(msg));
}

/** A message that changes something: kept until answered, sent again (same ref) after an
 * `unavailable` answer or a reconnect, until it is acknowledged or definitively refused. */
export function act(msg, { onAck, onError, onPending } = {}) {
  return net.sock.act(msg, { onAck, onError: onError || ((m) => flash($("builder-status"), m.message, true)), onPending }, msg.type.replace(/\W/g, ""));
}

/** A fresh ref for a preview (pv: the builder's, pc: a proposal card's). */
export function previewRef(kind) {
  previewN += 1;
  return `${kind}-${previewN}`;
}

export function flash(el, text, isError = false) {
  el.textContent = text || "";
  el.classList.toggle("is-error", isError);
}

// A package's terms as the cards and the outcome list them: each issue, the option chosen and
// what it is worth to this student (``pointsTitle``: a tooltip on the points, as on the cards).
export function termsList(terms, { pointsTitle = null } = {}) {
  const ul = h("ul", { class: "p-terms" });
  for (const i of S.issues) {
    const opt = optionOf(i.key, terms[i.key]);
    const mp = myPoints(i.key, terms[i.key]);
    const attrs = { class: "t-pts num", "aria-label": mp === null ? "" : fmt(gettext("%(points)s of your points"), { points: num(mp) }) };
    if (pointsTitle) attrs.title = pointsTitle;
    ul.append(
      h(
        "li",
        {},
        h("span", { class: "t-issue", text: i.name }),
        h("span", { class: "t-option", text: opt ? opt.label : terms[i.key] || "–" }),
        h("span", attrs, mp === null ? "" : num(mp)),
      ),
    );
  }
  return ul;
}
