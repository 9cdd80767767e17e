// The projector page: what the class sees. It listens on the instructor's socket and shows only
// what is meant for everyone: how to join, the clock, the phase and what it allows, the news
// headlines, how many tables have finished, and at the end the way on to the debrief. It never
// sends a control and never shows a table's proposals or chat. Text goes in as text (the shared
// element builder); the socket is the shared one (lib/socket.js: its reconnect policy and watchdog).

import { fmt, gettext, ngettext } from "./i18n.js";
import { clockText } from "./lib/clock.js";
import { h } from "./lib/dom.js";
import { phaseAllows as allows } from "./lib/phases.js";
import { gameSocket } from "./lib/socket.js";

const root = document.getElementById("pj");
const $ = (id) => document.getElementById(id);
const code = root.dataset.code;
// The socket speaks the page's language (the scenario's words).
const langQuery = root.dataset.lang ? `?lang=${encodeURIComponent(root.dataset.lang)}` : "";

let S = null; // the latest host.state
const seen = new Map(); // table id -> highest seq seen
let offset = 0; // server clock minus local clock, ms
let sock = null;
let helloTimer = null;

const el = (tag, text, cls) => h(tag, { class: cls || null, text });

/** What the current phase allows, in a sentence for the whole room. */
export function phaseAllows(phases, index) {
  return allows(phases, index, {
    now: gettext("Deals can be concluded now: a proposal becomes the agreement the moment every party it needs has accepted it."),
    noDeal: gettext("When the clock runs out, tables without an agreement end with no deal."),
    later: gettext("Talk, propose and answer: nothing is binding yet. Deals can be concluded only in the %(phases)s."),
    final: gettext("Talk, propose and answer: nothing is binding yet. Deals can be concluded only in the final stage."),
  });
}

const finished = (t) => Boolean(t.ended || t.outcome);
const allFinished = () => Boolean(S && S.tables.length && S.tables.every(finished));

function render() {
  if (!S) return;
  const st = S.session.status;
  root.dataset.status = st;
  const over = st === "ended" || (st === "running" && allFinished());
  $("pj-join").hidden = st !== "lobby";
  $("pj-live").hidden = st !== "running" || over;
  $("pj-end").hidden = !over;
  if (st === "lobby") renderJoin();
  else if (over) renderEnd();
  else renderLive();
  tick();
}

function renderJoin() {
  const people = S.players.filter((p) => !p.removed && !p.bot);
  $("pj-count").textContent = String(people.length);
  $("pj-count-label").textContent = ngettext("student joined", "students joined", people.length);
  $("pj-names").replaceChildren(...people.map((p) => el("li", p.name)));
}

function renderLive() {
  const { phase, phases } = S.session;
  if (!phase) return;
  $("pj-step").textContent = fmt(gettext("Phase %(n)s of %(total)s"), { n: phase.index + 1, total: phases.length });
  $("pj-phase").textContent = phase.name;
  const allows = phaseAllows(phases, phase.index);
  if ($("pj-allows").textContent !== allows) {
    $("pj-allows").textContent = allows;
    $("pj-announce").textContent = `${phase.name}. ${allows}`;
  }
  $("pj-steps").replaceChildren(
    ...phases.map((p, i) => el("li", p.name, i < phase.index ? "done" : i === phase.index ? "current" : "")),
  );
  // News headlines, newest first: every item that reached at least one table.
  const keys = [];
  for (const t of S.tables) for (const k of t.news || []) if (!keys.includes(k)) keys.push(k);
  const items = keys.map((k) => S.news_items.find((n) => n.key === k)).filter(Boolean);
  $("pj-news-box").hidden = items.length === 0;
  $("pj-news").replaceChildren(...items.reverse().map((n) => el("li", n.headline)));
  const done = S.tables.filter(finished).length;
  const deals = S.tables.filter((t) => t.agreement != null || t.outcome?.agreement).length;
  const tableBits = [
    fmt(ngettext("%(n)s table", "%(n)s tables", S.tables.length), { n: S.tables.length }),
    fmt(ngettext("%(n)s agreement so far", "%(n)s agreements so far", deals), { n: deals }),
  ];
  if (done > deals) tableBits.push(fmt(ngettext("%(n)s ended without a deal", "%(n)s ended without a deal", done - deals), { n: done - deals }));
  $("pj-tables").textContent = S.tables.length ? tableBits.join(" · ") : "";
}

function renderEnd() {
  const deals = S.tables.filter((t) => t.agreement != null || t.outcome?.agreement).length;
  const none = S.tables.filter(finished).length - deals;
  $("pj-end-title").textContent = S.session.status === "ended" ? gettext("The negotiation is over") : gettext("Every table has finished");
  const parts = [fmt(ngettext("%(n)s agreement", "%(n)s agreements", deals), { n: deals })];
  if (none) parts.push(fmt(ngettext("%(n)s table without a deal", "%(n)s tables without a deal", none), { n: none }));
  $("pj-end-text").textContent = fmt(gettext("%(summary)s. Who won, and did the peace last?"), { summary: parts.join(", ") });
}

let lastMinute = "";
function tick() {
  if (!S || S.session.status !== "running" || allFinished()) return;
  const phase = S.session.phase;
  const clock = $("pj-clock");
  if (!phase) return;
  let text;
  let cls = "pj-clock num";
  if (phase.paused) {
    text = fmt(gettext("%(time)s paused"), { time: clockText(phase.remaining ?? 0) });
    cls += " is-paused";
  } else if (phase.ends_at) {
    const left = (Date.parse(phase.ends_at) - (Date.now() + offset)) / 1000;
    text = clockText(left);
    if (left <= 60) cls += " is-low";
    // Spoken once as the phase's last minute starts, never every second.
    const when = `${phase.key}:${phase.ends_at}`;
    if (left > 3 && left <= 60 && lastMinute !== when) {
      lastMinute = when;
      $("pj-announce").textContent = fmt(gettext("One minute left in %(phase)s."), { phase: phase.name });
    }
  } else {
    text = "--:--";
  }
  if (clock.textContent !== text) clock.textContent = text;
  if (clock.className !== cls) clock.className = cls;
}

// --- the socket: read only ------------------------------------------------------------------

function hello(ms = 0) {
  if (helloTimer) return;
  helloTimer = setTimeout(() => {
    helloTimer = null;
    sock.send({ type: "hello" });
  }, ms);
}

function onEvent(m) {
  const t = S && S.tables.find((x) => x.id === m.table);
  if (!t) {
    hello(300);
    return;
  }
  const last = seen.get(t.id) ?? t.seq ?? 0;
  if (m.seq <= last) return;
  seen.set(t.id, m.seq);
  const d = m.data || {};
  if (m.kind === "news") t.news = [...new Set([...(t.news || []), d.key])];
  else if (m.kind === "agreement.reached") {
    t.agreement = d.proposal;
    t.ended = true;
  } else if (m.kind === "game.ended") {
    t.ended = true;
    t.outcome = d;
  } else if (m.kind === "phase.changed" && d.phase && S.session.status === "running") {
    S.session.phase = { ...S.session.phase, ...d.phase };
  } else if (m.kind === "seats" || m.kind === "presence") {
    hello(500); // who joined: the snapshot counts them
  }
  render();
}

function onMessage(m) {
  if (m.type === "host.state") {
    for (const t of m.tables) seen.set(t.id, Math.max(seen.get(t.id) ?? 0, t.seq));
    if (m.server_time) offset = Date.parse(m.server_time) - Date.now();
    S = m;
    render();
  } else if (m.type === "event") {
    onEvent(m);
  } else if (m.type === "sync") {
    if (Object.entries(m.seq || {}).some(([id, n]) => (seen.get(Number(id)) ?? 0) < n)) hello(0);
  }
}

function onStatus(status) {
  if (status === "open") $("pj-conn").hidden = true;
  else if (status === "offline" || status === "reconnecting") {
    $("pj-conn").hidden = false;
    $("pj-conn").textContent = gettext("Reconnecting…");
  }
}

function onClose(code) {
  if (code === 4403 || code === 4404) {
    $("pj-conn").hidden = false;
    $("pj-conn").textContent = code === 4403 ? gettext("Sign in as the instructor to show this page.") : gettext("This session no longer exists.");
    return false;
  }
  return true;
}

// The QR code comes with a fixed size and no viewBox: give it one so it scales.
const qr = document.querySelector(".pj-qr svg");
if (qr && !qr.getAttribute("viewBox") && qr.getAttribute("width")) {
  qr.setAttribute("viewBox", `0 0 ${Number.parseFloat(qr.getAttribute("width"))} ${Number.parseFloat(qr.getAttribute("height"))}`);
  qr.removeAttribute("width");
  qr.removeAttribute("height");
}
setInterval(tick, 250);
sock = gameSocket(`/ws/host/${encodeURIComponent(code)}/${langQuery}`, { onMessage, onStatus, onClose });
sock.connect();
