// The instructor's live dashboard: one WebSocket to /ws/host/<code>/, a snapshot (host.state)
// on connect and whenever the session changes, and every table event in between.
// Plain ES module, no build step. Controls are ordinary forms that POST to the fallback view;
// while the socket is open they are sent over it instead. Composed of the shared modules in
// lib/ (the socket with its reconnect policy and watchdog, the element builder, role chips),
// the table cards' view (host/tables.js) and the events' applier (host/events.js). Text goes
// in as text: no HTML strings.

import { fmt, gettext, ngettext, pct, pgettext } from "./i18n.js";
import { clockText } from "./lib/clock.js";
import { h, sentence, setChildren } from "./lib/dom.js";
import { roleBadge } from "./lib/roles.js";
import { gameSocket } from "./lib/socket.js";
import { applyEvent } from "./host/events.js";
import { tableView } from "./host/tables.js";

const root = document.querySelector("[data-host]");
document.documentElement.classList.add("js");

const $ = (sel, el = document) => el.querySelector(sel);
const $$ = (sel, el = document) => Array.from(el.querySelectorAll(sel));

const code = root?.dataset.code;
// The socket speaks the page's language (errors, the scenario's words).
const langQuery = root?.dataset.lang ? `?lang=${encodeURIComponent(root.dataset.lang)}` : "";
const transcriptBase = root?.dataset.transcriptBase || "";

let S = null; // the latest host.state
// The first host.state: "Live" shows when the socket opens, a moment before it; a start asked
// for in that moment waits for it, since the empty seats to ask about are in it.
let firstStateArrived = () => {};
const firstState = new Promise((resolve) => {
  firstStateArrived = resolve;
});
const seen = new Map(); // table id -> highest seq applied
let sock = null; // the shared game socket (lib/socket.js)
let retryAt = 0; // when the socket tries again, while offline
let helloTimer = null;
let clockOffset = 0; // server time minus local time, ms
let lastPhaseKey = null;

// --- small helpers -------------------------------------------------------------------------

const roleOf = (key) => S?.roles.find((r) => r.key === key) || { key, name: key, colour: "#6b7480" };

/** A role's chip (its colour from the page's .role-<key> rules), by name or by initials. */
const roleChip = (key, { short = false } = {}) => roleBadge(roleOf(key), { short, roles: S?.roles || [] });

function ago(iso) {
  if (!iso) return gettext("no activity yet");
  const s = Math.max(0, Math.round((Date.now() + clockOffset - Date.parse(iso)) / 1000));
  if (s < 10) return gettext("just now");
  if (s < 60) return fmt(gettext("%(s)s s ago"), { s });
  const m = Math.floor(s / 60);
  if (m < 60) return fmt(gettext("%(m)s min ago"), { m });
  return fmt(gettext("%(h)s h %(m)s min ago"), { h: Math.floor(m / 60), m: m % 60 });
}

// --- rendering -----------------------------------------------------------------------------

function render() {
  if (!S) return;
  root.dataset.status = S.session.status;
  root.dataset.finished = allFinished() ? "1" : "0";
  renderHeader();
  renderCounts();
  renderPhases();
  renderClock();
  renderLobby();
  renderTables();
  renderControls();
  renderFinished();
  renderRejoin();
}

/** Every table has ended (an agreement, or no deal): nothing is left to run. */
function allFinished() {
  return Boolean(S && S.tables.length && S.tables.every((t) => t.ended || t.outcome));
}

function finishedSummary() {
  const deals = S.tables.filter((t) => t.agreement != null || t.outcome?.agreement).length;
  const none = S.tables.length - deals;
  const parts = [fmt(ngettext("%(n)s agreement", "%(n)s agreements", deals), { n: deals })];
  if (none) parts.push(fmt(ngettext("%(n)s table without a deal", "%(n)s tables without a deal", none), { n: none }));
  return parts.join(", ");
}

function renderFinished() {
  const box = $("#all-finished");
  const st = S.session.status;
  const done = allFinished();
  box.hidden = !(done || st === "ended") || st === "lobby";
  if (box.hidden) return;
  if (st === "ended") {
    $("#all-finished-title").textContent = gettext("The session has ended.");
    $("#all-finished-text").textContent = S.tables.length ? fmt(gettext("%(summary)s. The debrief is ready."), { summary: finishedSummary() }) : "";
  } else {
    $("#all-finished-title").textContent = S.tables.length === 1 ? gettext("The table has finished.") : fmt(gettext("Every table has finished (%(n)s of %(n)s)."), { n: S.tables.length });
    $("#all-finished-text").textContent = fmt(gettext("%(summary)s. The clock no longer matters: nobody is negotiating."), { summary: finishedSummary() });
  }
  $("#finish-form").hidden = st === "ended";
  $("#finished-debrief").hidden = st !== "ended";
}

function renderRejoin() {
  if (!S) return;
  const sel = $("#rejoin-player");
  const out = $("#rejoin-show");
  const p = S.players.find((x) => String(x.id) === sel.value);
  out.textContent = p ? `${fmt(gettext("%(name)s's rejoin code:"), { name: p.name })} ` : "";
  if (p) out.append(Object.assign(document.createElement("strong"), { className: "mono rejoin-code", textContent: p.rejoin_code || "?" }));
}

function renderHeader() {
  const st = S.session.status;
  const pill = $("#status-pill");
  const done = st === "running" && allFinished();
  pill.className = `pill pill-${done ? "finished" : st}`;
  pill.textContent = done
    ? gettext("All tables finished")
    : { lobby: pgettext("session status", "Lobby"), running: pgettext("session status", "Running"), ended: pgettext("session status", "Ended") }[st] || st;
  $("#session-title").textContent = S.session.title || "";
}

const humans = () => S.players.filter((p) => !p.removed && !p.bot);

function renderCounts() {
  const people = humans();
  const online = people.filter((p) => p.connected).length;
  const away = people.filter((p) => p.stand_in).length;
  const bots = S.players.filter((p) => !p.removed && p.bot).length;
  $("#player-count").textContent = String(people.length);
  $("#player-count-label").textContent = ngettext("student joined", "students joined", people.length);
  const bits = [fmt(ngettext("%(n)s online", "%(n)s online", online), { n: online })];
  if (away) bits.push(fmt(ngettext("%(n)s away", "%(n)s away", away), { n: away }));
  if (bots) bits.push(fmt(ngettext("%(n)s bot", "%(n)s bots", bots), { n: bots }));
  $("#online-count").textContent = bits.join(" · ");
}

function renderPhases() {
  const { status, phase, phases } = S.session;
  const idx = phase ? phase.index : -1;
  const steps = phases.map((p, i) => {
    const cls = status === "ended" || i < idx ? "done" : status === "running" && i === idx ? "current" : "";
    return { cls, name: p.name, n: i + 1, agreement: Boolean(p.agreement) };
  });
  setChildren($("#phase-steps"), [steps, gettext("deals possible")], () =>
    steps.map((st) =>
      h(
        "li",
        { class: st.cls || null, "aria-current": st.cls === "current" ? "step" : null },
        h("span", { class: "step-n", "aria-hidden": "true", text: st.cls === "done" ? "✓" : String(st.n) }),
        ` ${st.name}${st.agreement ? " " : ""}`,
        st.agreement ? h("span", { class: "step-tag", text: gettext("deals possible") }) : null,
      ),
    ),
  );
  const key = status === "running" && phase ? phase.key : status;
  if (lastPhaseKey !== null && key !== lastPhaseKey) {
    $("#phase-announce").textContent = status === "running" && phase ? fmt(gettext("Phase: %(phase)s"), { phase: phase.name }) : status === "ended" ? gettext("The session has ended.") : "";
  }
  lastPhaseKey = key;
}

function renderClock() {
  if (!S) return;
  const { status, phase } = S.session;
  const clock = $("#clock");
  const name = $("#phase-name");
  const block = $("#clock-block");
  block.classList.remove("is-paused", "is-low", "is-over");
  if (status === "lobby") {
    name.textContent = gettext("Lobby: waiting to start");
    const first = S.session.phases[0];
    clock.textContent = first ? clockText(first.duration_seconds) : "--:--";
    return;
  }
  if (status === "ended" || !phase) {
    name.textContent = gettext("Session ended");
    clock.textContent = pgettext("clock", "Ended");
    block.classList.add("is-over");
    renderWarning(null);
    return;
  }
  if (allFinished()) {
    name.textContent = gettext("Every table has finished");
    clock.textContent = pgettext("clock", "Done");
    block.classList.add("is-over");
    renderWarning(null);
    return;
  }
  let left;
  if (phase.paused) {
    left = phase.remaining ?? 0;
    block.classList.add("is-paused");
    name.textContent = fmt(gettext("%(phase)s · paused"), { phase: phase.name });
  } else {
    left = phase.ends_at ? (Date.parse(phase.ends_at) - (Date.now() + clockOffset)) / 1000 : 0;
    name.textContent = phase.name;
  }
  if (left <= 60 && !phase.paused) block.classList.add("is-low");
  clock.textContent = left <= 0 && !phase.paused ? "00:00" : clockText(left);
  if (left <= 0 && !phase.paused) name.textContent = fmt(gettext("%(phase)s · time is up, moving on…"), { phase: phase.name });
  renderWarning(phase.paused ? null : left);
}

/** A minute before the clock ends a phase (or, in the last one, the game): say what happens then. */
function renderWarning(left) {
  const box = $("#clock-warning");
  const phase = S?.session.phase;
  const show = phase && left !== null && left > 0 && left <= 60;
  if (!show) {
    box.hidden = true;
    box.dataset.phase = "";
    return;
  }
  const next = S.session.phases[phase.index + 1];
  $("#clock-warning-title").textContent = fmt(gettext("%(time)s left in %(phase)s."), { time: clockText(left), phase: phase.name });
  $("#clock-warning-text").textContent = next
    ? fmt(gettext("Then %(phase)s starts for every table still negotiating."), { phase: next.name })
    : gettext("Then the clock ends the game: tables without an agreement end with no deal.");
  box.classList.toggle("is-final", !next);
  if (box.hidden || box.dataset.phase !== phase.key) {
    box.hidden = false;
    box.dataset.phase = phase.key;
    // Spoken once as the last minute starts (the box itself is not a live region: its title
    // counts down every second).
    $("#phase-announce").textContent = `${fmt(gettext("One minute left in %(phase)s."), { phase: phase.name })} ${$("#clock-warning-text").textContent}`;
  }
}

/** Seconds left in the current phase (the clock may be paused), or null outside a phase. */
function secondsLeft() {
  const phase = S?.session.phase;
  if (!phase || S.session.status !== "running") return null;
  if (phase.paused) return phase.remaining ?? 0;
  return phase.ends_at ? (Date.parse(phase.ends_at) - (Date.now() + clockOffset)) / 1000 : null;
}

function renderLobby() {
  const list = $("#lobby-list");
  const people = humans();
  const bots = S.players.filter((p) => !p.removed && p.bot);
  const tables = new Map(S.tables.map((t) => [t.id, t]));
  if (!people.length && !bots.length) {
    setChildren(list, "empty", () => h("li", { class: "lobby-empty", text: gettext("Nobody has joined yet. Show the code.") }));
    return;
  }
  const rows = people.map((p) => {
    const t = tables.get(p.table);
    return { name: p.name, connected: Boolean(p.connected), stand_in: Boolean(p.stand_in), table: t && p.role ? t.number : null, role: p.role };
  });
  setChildren(list, [rows, bots.length, S.roles], () => {
    const items = rows.map((p) =>
      h(
        "li",
        { class: `lobby-item${p.connected ? " on" : " off"}` },
        h("span", { class: "conn-dot", "aria-hidden": "true" }),
        h("span", { class: "name", text: p.name }),
        " ",
        h("span", { class: "visually-hidden", text: p.connected ? gettext("online") : gettext("offline") }),
        " ",
        p.stand_in ? h("span", { class: "mark-away", text: gettext("away · bot plays") }) : null,
        p.table !== null
          ? h("span", { class: "where" }, `${fmt(gettext("T%(n)s"), { n: p.table })} `, roleChip(p.role))
          : h("span", { class: "where waiting", text: gettext("waiting for a seat") }),
      ),
    );
    if (bots.length) {
      items.push(
        h(
          "li",
          { class: "lobby-item bots" },
          h("span", { class: "mark-bot", text: gettext("bot") }),
          " ",
          h("span", { class: "name", text: fmt(ngettext("%(n)s bot", "%(n)s bots", bots.length), { n: bots.length }) }),
        ),
      );
    }
    return items;
  });
}

function transcriptUrl(n) {
  return transcriptBase.replace(/\/0\/$/, `/${n}/`);
}

function renderTables() {
  tableView({ S, ago, transcriptUrl }).render($("#table-grid"));
}

function fillSelect(select, options) {
  const keep = select.value;
  if (setChildren(select, options, () => options.map((o) => h("option", { value: String(o.value), text: o.label })))) {
    if (options.some((o) => String(o.value) === keep)) select.value = keep;
  }
}

function renderControls() {
  const st = S.session.status;
  const phase = S.session.phase;
  const paused = !!phase?.paused;
  for (const sec of $$(".moment")) sec.classList.toggle("is-now", sec.dataset.moment === st);
  for (const btn of $$("[data-when]")) {
    if (pendingHas(btn)) continue;
    btn.disabled = !btn.dataset.when.split(" ").includes(st);
  }
  $("#pause-btn").hidden = paused;
  $("#resume-btn").hidden = !paused;
  // advance: say where it goes; at the last phase it ends the session (confirm first)
  const adv = $("#advance-btn");
  const next = phase ? S.session.phases[phase.index + 1] : null;
  if (st === "running" && phase && !next) {
    adv.textContent = gettext("End the last phase (ends the session)");
    adv.dataset.confirm = gettext("This is the last phase: advancing ends the session for every table. Tables without an agreement end with no deal.");
    adv.dataset.label = gettext("End the session");
    adv.classList.add("danger");
  } else {
    adv.textContent = next ? fmt(gettext("Advance to: %(phase)s"), { phase: next.name }) : gettext("Advance to the next phase");
    adv.dataset.confirm = next && phase ? fmt(gettext("End %(phase)s now{left} and move every table on to %(next)s?"), { phase: phase.name, next: next.name }) : gettext("Advance every table to the next phase now?");
    adv.dataset.label = next ? fmt(gettext("Advance to %(phase)s"), { phase: next.name }) : gettext("Advance the phase");
    adv.classList.remove("danger");
  }
  // player, table and news pickers follow the state
  const tablesById = new Map(S.tables.map((t) => [t.id, t]));
  const label = (p) => {
    const t = tablesById.get(p.table);
    const bits = [p.bot ? fmt(gettext("%(name)s (bot)"), { name: p.name }) : p.name];
    bits.push(t && p.role ? fmt(gettext("T%(n)s %(role)s"), { n: t.number, role: roleOf(p.role).name }) : gettext("no seat"));
    if (p.stand_in) bits.push(gettext("away"));
    return bits.join(" · ");
  };
  const live = S.players.filter((p) => !p.removed);
  const choose = gettext("Choose…");
  for (const sel of $$('select[data-options="players"]')) fillSelect(sel, [{ value: "", label: choose }, ...live.map((p) => ({ value: p.id, label: label(p) }))]);
  for (const sel of $$('select[data-options="humans"]')) fillSelect(sel, [{ value: "", label: choose }, ...live.filter((p) => !p.bot).map((p) => ({ value: p.id, label: label(p) }))]);
  const removed = S.players.filter((p) => p.removed && !p.bot);
  for (const sel of $$('select[data-options="removed"]')) fillSelect(sel, [{ value: "", label: removed.length ? choose : gettext("Nobody was removed") }, ...removed.map((p) => ({ value: p.id, label: p.name }))]);
  for (const sel of $$('select[data-options="tables"]')) fillSelect(sel, S.tables.map((t) => ({ value: t.id, label: fmt(gettext("Table %(n)s"), { n: t.number }) })));
  const news = $("#news-select");
  fillSelect(
    news,
    S.news_items.map((n) => {
      const reached = S.tables.filter((t) => (t.news || []).includes(n.key)).length;
      const note = reached
        ? ` ${reached === S.tables.length ? gettext("(already at every table)") : fmt(ngettext("(already at %(n)s of %(total)s table)", "(already at %(n)s of %(total)s tables)", S.tables.length), { n: reached, total: S.tables.length })}`
        : "";
      return { value: n.key, label: n.headline + note };
    }),
  );
  renderNewsPreview();
  const targets = $("#target-tables");
  const chosen = new Set($$("input[name=tables]:checked", targets).map((i) => i.value));
  const boxes = S.tables.map((t) => ({ id: String(t.id), n: t.number, ended: Boolean(t.ended), checked: chosen.has(String(t.id)) }));
  setChildren(targets, boxes, () =>
    boxes.map((b) =>
      h(
        "label",
        { class: b.ended ? "ended" : "" },
        h("input", { type: "checkbox", name: "tables", value: b.id, checked: b.checked, disabled: b.ended }),
        ` ${fmt(b.ended ? gettext("Table %(n)s (ended)") : gettext("Table %(n)s"), { n: b.n })}`,
      ),
    ),
  );
  $("#debrief-link").classList.toggle("secondary", st !== "ended");
}

/** Before sending a news item: its text, whose points it moves, and what it does to durability. */
function renderNewsPreview() {
  const item = S.news_items.find((n) => n.key === $("#news-select").value);
  const box = $("#news-preview");
  if (!item) {
    setChildren(box, null, () => []);
    return;
  }
  const fx = item.effects || {};
  const byRole = new Map();
  for (const p of fx.points || []) {
    if (!byRole.has(p.role)) byRole.set(p.role, []);
    byRole.get(p.role).push(p);
  }
  const d = fx.durability;
  const change = d ? Math.round(100 * d.after) - Math.round(100 * d.before) : 0;
  const size = Math.abs(change);
  const changeText = !change
    ? gettext("(no change)")
    : change > 0
      ? fmt(ngettext("(+%(n)s point: deals become more durable)", "(+%(n)s points: deals become more durable)", size), { n: size })
      : fmt(ngettext("(\u2212%(n)s point: deals become less durable)", "(\u2212%(n)s points: deals become less durable)", size), { n: size });
  setChildren(box, [item, S.roles], () => [
    h("p", { class: "np-body", text: item.body || "" }),
    byRole.size
      ? [
          h("p", { class: "np-head", text: gettext("Points it changes (each student sees only their own):") }),
          h(
            "ul",
            { class: "np-points" },
            [...byRole].map(([r, list]) =>
              h(
                "li",
                {},
                roleChip(r),
                ": ",
                list.map((p, i) => [i ? "; " : "", `${p.option} `, h("strong", { class: "num", text: `${p.change > 0 ? "+" : "\u2212"}${Math.abs(p.change)}` })]),
              ),
            ),
          ),
        ]
      : h("p", { class: "np-head", text: gettext("It changes nobody's points.") }),
    d
      ? h(
          "p",
          { class: "np-dur" },
          ...sentence(gettext("Durability of the compromise deal: %(change)s"), { change: h("strong", { class: "num", text: `${pct(d.before)} → ${pct(d.after)}` }) }),
          ` ${changeText}`,
        )
      : null,
  ]);
}

// --- applying events between snapshots (host/events.js) --------------------------------------

let renderQueued = false;
function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

// --- the socket ----------------------------------------------------------------------------

function setConn(state, text) {
  const el = $("#conn-state");
  el.dataset.state = state;
  $(".conn-text", el).textContent = text;
  const banner = $("#conn-banner");
  const bad = state === "offline" || state === "denied" || state === "missing";
  banner.hidden = !bad;
  banner.dataset.state = state;
  root.classList.toggle("is-offline", bad);
}

function onStatus(status, info) {
  retryAt = status === "offline" ? info.retryAt : 0;
  if (status === "open") setConn("online", gettext("Live"));
  else if (status === "offline") {
    setConn("offline", gettext("Offline"));
    $("#conn-banner-title").textContent = gettext("Connection lost.");
    updateRetryText();
  } else setConn("connecting", gettext("Connecting…"));
}

/** 4403: signed out or removed from the session; 4404: no such session. No retry by the
 * backoff; "Reconnect now", the network coming back or the page shown again still try (the
 * instructor may have signed in again in another tab). */
function onClose(closeCode) {
  renderPendingNote(); // the actions stay pending: they are sent again once reconnected
  if (closeCode === 4403) {
    setConn("denied", gettext("No access"));
    $("#conn-banner-title").textContent = gettext("This dashboard no longer has access: you signed out, or the session's owner removed you.");
    $("#conn-banner-text").replaceChildren(
      ...sentence(gettext("%(link)s to get live updates."), {
        link: h("a", { href: `/admin/login/?next=${encodeURIComponent(location.pathname)}`, text: gettext("Sign in again") }),
      }),
    );
    return false;
  }
  if (closeCode === 4404) {
    setConn("missing", gettext("No such session"));
    $("#conn-banner-title").textContent = gettext("This session no longer exists.");
    $("#conn-banner-text").replaceChildren(h("a", { href: "/host/", text: gettext("Back to your sessions") }), ".");
    return false;
  }
  return true;
}

function updateRetryText() {
  if (!retryAt) return;
  const s = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  $("#conn-banner-text").textContent = fmt(gettext("Reconnecting in %(s)s s… The dashboard may be out of date; controls still work (the page reloads)."), { s });
}

const send = (msg) => Boolean(sock && sock.send(msg));

function renderPendingNote() {
  const open = sock && sock.isOpen();
  const waiting = [...(sock ? sock.outbox.values() : [])].filter((p) => p.waiting || !open);
  const note = $("#pending-note");
  if (!note) return;
  note.hidden = !waiting.length;
  if (waiting.length) $("#pending-text").textContent = fmt(gettext("your move will be sent: %(moves)s."), { moves: waiting.map((p) => fmt(gettext("“%(label)s”"), { label: p.label })).join(", ") });
}

function scheduleHello(ms) {
  if (helloTimer) return;
  helloTimer = setTimeout(() => {
    helloTimer = null;
    send({ type: "hello" });
  }, ms);
}

function onMessage(msg) {
  switch (msg.type) {
    case "host.state": {
      let stale = false;
      for (const t of msg.tables) {
        const had = seen.get(t.id) ?? 0;
        if (t.seq < had) stale = true; // events overtook this snapshot: ask again
        seen.set(t.id, Math.max(had, t.seq));
      }
      if (msg.server_time) clockOffset = Date.parse(msg.server_time) - Date.now();
      S = msg;
      firstStateArrived();
      render();
      if (stale) scheduleHello(500);
      break;
    }
    case "event":
      if (applyEvent(S, seen, msg, scheduleHello)) queueRender();
      break;
    case "sync": {
      const behind = Object.entries(msg.seq || {}).some(([id, n]) => (seen.get(Number(id)) ?? 0) < n);
      if (behind) scheduleHello(0);
      break;
    }
    case "error":
      // An error that answers none of this page's actions (those are the socket's).
      showError(msg.message || gettext("Something went wrong."), msg.code);
      break;
    default:
      break;
  }
}

// --- controls ------------------------------------------------------------------------------

function pendingHas(btn) {
  for (const p of sock ? sock.outbox.values() : []) if (p.buttons.includes(btn)) return true;
  return false;
}

function clearPending(p) {
  renderPendingNote();
  for (const b of p.buttons) b.removeAttribute("aria-busy");
  if (S) renderControls();
  else for (const b of p.buttons) b.disabled = false;
}

function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.classList.add("show");
  clearTimeout(el._t);
  el._t = setTimeout(() => el.classList.remove("show"), 4000);
}

/** An error in the alert box; ``lead`` replaces its "The server refused that." when the page
 * itself declined (nothing was sent). */
function showError(text, codeName, lead) {
  const box = $("#alert");
  const head = $("#alert-lead");
  head.dataset.server ??= head.textContent; // the page's own words, in the page's language
  head.textContent = lead || head.dataset.server;
  $("#alert-text").textContent = text + (codeName && codeName !== "invalid" ? ` (${codeName})` : "");
  box.hidden = false;
  box.scrollIntoView({ block: "nearest", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
}

function buildMessage(form, submitter) {
  const fd = new FormData(form, submitter);
  const msg = { type: fd.get("type") };
  for (const f of ["seconds", "player", "table", "to"]) {
    const v = fd.get(f);
    if (v !== null && v !== "") msg[f] = Number.parseInt(v, 10);
  }
  for (const f of ["news", "role"]) if (fd.get(f)) msg[f] = fd.get(f);
  if (fd.get("on") !== null) msg.on = fd.get("on") === "1";
  if ((msg.type === "seat.move" || msg.type === "seat.remove" || msg.type === "seat.stand_in" || msg.type === "seat.hand_over" || msg.type === "seat.readmit") && !Number.isInteger(msg.player)) {
    return { error: gettext("Choose a student first.") };
  }
  if (msg.type === "seat.hand_over" && !Number.isInteger(msg.to)) return { error: gettext("Choose the name the new device joined as.") };
  if (msg.type === "news.inject") {
    const key = msg.news;
    if (fd.get("target") === "chosen") {
      msg.tables = fd.getAll("tables").map((v) => Number.parseInt(v, 10));
      if (!msg.tables.length) return { error: gettext("Tick at least one table, or send the news to every table.") };
    } else {
      // Every table still negotiating that has not had this news yet. (Listing them avoids the
      // server refusing the whole injection because one table has ended or already has it.)
      msg.tables = (S?.tables || []).filter((t) => !t.ended && !(t.news || []).includes(key)).map((t) => t.id);
      if (!msg.tables.length) return { error: gettext("Every table still negotiating has already had this news (or none is negotiating).") };
    }
  }
  return msg;
}

function confirmDialog(text, okLabel) {
  const dlg = $("#confirm-dialog");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel || gettext("Yes, do it");
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true });
    dlg.returnValue = "";
    dlg.showModal();
  });
}

function confirmText(form, submitter) {
  let raw = submitter?.dataset.confirm || form.dataset.confirm;
  // "−1 min" with less than a minute (and a few seconds) left ends the phase: ask first.
  if (!raw && submitter?.name === "seconds" && Number(submitter.value) < 0) {
    const left = secondsLeft();
    if (left !== null && left + Number(submitter.value) < 5) {
      const phase = S.session.phase;
      const next = S.session.phases[phase.index + 1];
      raw = next
        ? fmt(gettext("Only %(time)s is left: taking a minute off ends %(phase)s now and moves every table on to %(next)s."), { time: clockText(left), phase: phase.name, next: next.name })
        : fmt(gettext("Only %(time)s is left: taking a minute off ends %(phase)s now, and with it the session: tables without an agreement end with no deal."), { time: clockText(left), phase: phase.name });
      submitter.dataset.ends = "1";
    }
  }
  if (!raw) return null;
  const name = (sel) => (sel && sel.selectedIndex > 0 ? sel.options[sel.selectedIndex].text.split(" · ")[0] : gettext("this student"));
  const left = secondsLeft();
  return raw
    .replaceAll("{player}", name(form.querySelector("select[name=player]")))
    .replaceAll("{to}", name(form.querySelector("select[name=to]")))
    .replace("{left}", left !== null && left > 0 ? ` ${fmt(gettext("(%(time)s left)"), { time: clockText(left) })}` : "");
}

/** Seats with nobody in them, table by table: "Table 1: Europe". */
function emptySeats() {
  const out = [];
  for (const t of S?.tables || []) {
    const roles = (t.seats || []).filter((seat) => !(seat.players || []).length).map((seat) => roleOf(seat.role).name);
    if (roles.length) out.push({ table: t.number, roles });
  }
  return out;
}

/** Starting with empty seats: wait, start anyway, or fill them with bots and start. */
function askToStart(empty) {
  const dlg = $("#start-dialog");
  const n = empty.reduce((a, e) => a + e.roles.length, 0);
  $("#start-text").textContent = fmt(
    ngettext("%(n)s seat has no student yet. A role nobody plays cannot answer proposals or private messages.", "%(n)s seats have no student yet. A role nobody plays cannot answer proposals or private messages.", n),
    { n },
  );
  $("#start-empty").replaceChildren(...empty.map((e) => Object.assign(document.createElement("li"), { textContent: fmt(gettext("Table %(n)s: %(roles)s"), { n: e.table, roles: e.roles.join(", ") }) })));
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue || "wait"), { once: true });
    dlg.returnValue = "";
    dlg.showModal();
  });
}

document.addEventListener("submit", async (ev) => {
  const form = ev.target.closest("form[data-action]");
  if (!form) return;
  const submitter = ev.submitter;
  if (form.dataset.confirmed === "1") {
    delete form.dataset.confirmed; // a confirmed fallback POST: let it go
    return;
  }
  ev.preventDefault();
  // A second submit while the first waits (for the tables, a question, the send): one action.
  if (form.dataset.pending === "1") return;
  form.dataset.pending = "1";
  try {
    await submitAction(form, submitter);
  } finally {
    delete form.dataset.pending;
  }
});

function setBusy(button, busy) {
  if (!button) return;
  button.disabled = busy;
  if (busy) button.setAttribute("aria-busy", "true");
  else button.removeAttribute("aria-busy");
}

async function submitAction(form, submitter) {
  const conn = $("#conn-state").dataset.state;
  if (!S && sock && (conn === "online" || conn === "connecting")) {
    // "Live" shows, or the socket is still connecting, a moment before the first snapshot, and
    // what an action asks about or sends (the empty seats, the tables still negotiating) is in
    // it. (A socket that could not connect: the form's POST.)
    setBusy(submitter, true);
    await Promise.race([firstState, new Promise((resolve) => setTimeout(resolve, 10000))]);
    setBusy(submitter, false);
  }
  const question = confirmText(form, submitter);
  // Offline after having been live: the action waits and is sent once reconnected. Never live
  // (no WebSocket through this network): the ordinary form POST.
  const online = Boolean(sock && (sock.isOpen() || sock.everOpened));
  let msg = null;
  if (online) {
    if (!S) {
      // Without the tables, an action would be built from nothing (a start without its question).
      const starting = new FormData(form, submitter).get("type") === "session.start";
      showError(gettext("The tables are still loading. Try again in a moment."), null, starting ? gettext("The negotiation has not started yet.") : gettext("Not sent."));
      return;
    }
    msg = buildMessage(form, submitter);
    if (msg.error) {
      showError(msg.error, null, gettext("Not sent."));
      return;
    }
  }
  const ends = submitter?.dataset.ends === "1" && S?.session.phase ? fmt(gettext("End %(phase)s now"), { phase: S.session.phase.name }) : null;
  if (question && !(await confirmDialog(question, ends || submitter?.dataset.label))) {
    if (submitter) delete submitter.dataset.ends;
    return;
  }
  if (msg && msg.type === "phase.extend" && submitter?.dataset.ends === "1") {
    msg.confirm = true; // the instructor confirmed that this ends the phase
    delete submitter.dataset.ends;
  }
  let bots = false;
  if (msg && msg.type === "session.start") {
    const empty = emptySeats();
    if (empty.length) {
      const choice = await askToStart(empty);
      if (choice === "wait") return;
      bots = choice === "bots";
    }
  }
  if (!online) {
    form.dataset.confirmed = "1"; // no live connection yet: the ordinary POST (the page reloads)
    form.requestSubmit(submitter);
    return;
  }
  const label = submitter?.dataset.label || pgettext("an action", "Done");
  const buttons = submitter ? [submitter] : [];
  for (const b of buttons) setBusy(b, true);
  if (bots) queueAction({ type: "seats.fill_bots" }, gettext("Fill the empty seats with bots"), []);
  queueAction(msg, label, buttons, form.dataset.then || "");
}

/** Send a host action with a ref, kept until answered (and resent in order if need be). */
function queueAction(msg, label, buttons, then = "") {
  $("#alert").hidden = true;
  const entry = {
    label,
    buttons,
    onAck() {
      clearPending(entry);
      toast(`✓ ${fmt(gettext("Done: %(label)s"), { label })}`);
      if (then === "debrief") location.assign(root.dataset.debriefUrl);
    },
    onError(m) {
      clearPending(entry);
      showError(m.message || gettext("Something went wrong."), m.code);
    },
    onPending: () => renderPendingNote(),
  };
  sock.act(msg, entry, "h");
}

// --- wiring --------------------------------------------------------------------------------

function init() {
  if (!root) return;
  // The QR code comes with a fixed width and height but no viewBox: give it one so it scales.
  const qr = $(".hero-qr svg");
  if (qr && !qr.getAttribute("viewBox") && qr.getAttribute("width")) {
    qr.setAttribute("viewBox", `0 0 ${Number.parseFloat(qr.getAttribute("width"))} ${Number.parseFloat(qr.getAttribute("height"))}`);
    qr.removeAttribute("width");
    qr.removeAttribute("height");
  }
  for (const box of $$(".nojs-only input[required]")) box.required = false;
  $("#alert-close").addEventListener("click", () => {
    $("#alert").hidden = true;
  });
  $("#reconnect-now").addEventListener("click", () => sock.reconnectNow());
  // The rejoin code of the student chosen in the seat tools (never shown elsewhere: the
  // dashboard may be projected by mistake).
  $("#rejoin-player").addEventListener("change", renderRejoin);
  $("#news-select").addEventListener("change", () => S && renderNewsPreview());
  // news targets: ticking a table chooses "chosen tables"
  $("#news-form").addEventListener("change", (ev) => {
    if (ev.target.name === "tables" && ev.target.checked) $('#news-form input[name=target][value=chosen]').checked = true;
  });
  setInterval(() => {
    renderClock();
    updateRetryText();
  }, 250);
  setInterval(() => {
    for (const el of $$("[data-ago]")) el.textContent = ago(el.dataset.ago);
  }, 5000);
  sock = gameSocket(`/ws/host/${encodeURIComponent(code)}/${langQuery}`, { onMessage, onStatus, onClose, onOutbox: renderPendingNote });
  sock.connect();
}

init();
