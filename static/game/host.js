// The instructor's live dashboard: one WebSocket to /ws/host/<code>/, a snapshot (host.state)
// on connect and whenever the session changes, and every table event in between.
// Plain ES module, no build step. Controls are ordinary forms that POST to the fallback view;
// while the socket is open they are sent over it instead.

const root = document.querySelector("[data-host]");
document.documentElement.classList.add("js");

const $ = (sel, el = document) => el.querySelector(sel);
const $$ = (sel, el = document) => Array.from(el.querySelectorAll(sel));

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ESC[c]);
const COLOUR = /^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/;

const code = root?.dataset.code;
const transcriptBase = root?.dataset.transcriptBase || "";

let S = null; // the latest host.state
const seen = new Map(); // table id -> highest seq applied
let ws = null;
let retry = 0;
let retryTimer = null;
let retryAt = 0;
let helloTimer = null;
let refSeq = 0;
let clockOffset = 0; // server time minus local time, ms
let lastPhaseKey = null;
// Actions waiting for the server's answer, under their ref: kept across `unavailable` answers and
// reconnects and sent again with the same ref (applied once), until acknowledged or refused.
const pending = new Map(); // ref -> { msg, label, buttons, sentAt, waiting }
const RETRYABLE = new Set(["unavailable", "rate_limited"]);
let everOnline = false;
let resendTimer = null;
let resendRound = 0;

// --- small helpers -------------------------------------------------------------------------

const roleOf = (key) => S?.roles.find((r) => r.key === key) || { key, name: key, colour: "#6b7480" };
const safeColour = (c) => (COLOUR.test(c || "") ? c : "#6b7480");

function roleChip(key, { short = false, extra = "" } = {}) {
  const r = roleOf(key);
  const name = short ? initials(r) : r.name;
  return `<span class="role-chip role-${esc(r.key)}${extra ? " " + extra : ""}" style="--c:${safeColour(r.colour)}" title="${esc(r.name)}">${esc(name)}</span>`;
}

function initials(r) {
  const words = String(r.name || r.key).split(/[\s-]+/).filter(Boolean);
  if (words.length > 1) return words.slice(0, 2).map((w) => w[0]).join("").toUpperCase();
  const clash = (S?.roles || []).some((o) => o.key !== r.key && String(o.name)[0]?.toUpperCase() === String(r.name)[0]?.toUpperCase());
  return clash ? r.name.slice(0, 2) : r.name.slice(0, 1).toUpperCase();
}

function optionLabel(issueKey, optionKey) {
  const issue = S?.issues.find((i) => i.key === issueKey);
  const opt = issue?.options.find((o) => o.key === optionKey);
  return { issue: issue?.name || issueKey, option: opt?.label || optionKey };
}

function ago(iso) {
  if (!iso) return "no activity yet";
  const s = Math.max(0, Math.round((Date.now() + clockOffset - Date.parse(iso)) / 1000));
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  return `${Math.floor(m / 60)} h ${m % 60} min ago`;
}

function mmss(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

const pct = (x) => `${Math.round(100 * (Number(x) || 0))}%`;

// --- rendering -----------------------------------------------------------------------------

function render() {
  if (!S) return;
  root.dataset.status = S.session.status;
  renderHeader();
  renderCounts();
  renderPhases();
  renderClock();
  renderLobby();
  renderTables();
  renderControls();
}

function renderHeader() {
  const st = S.session.status;
  const pill = $("#status-pill");
  pill.className = `pill pill-${st}`;
  pill.textContent = { lobby: "Lobby", running: "Running", ended: "Ended" }[st] || st;
  $("#session-title").textContent = S.session.title || "";
}

const humans = () => S.players.filter((p) => !p.removed && !p.bot);

function renderCounts() {
  const people = humans();
  const online = people.filter((p) => p.connected).length;
  const away = people.filter((p) => p.stand_in).length;
  const bots = S.players.filter((p) => !p.removed && p.bot).length;
  $("#player-count").textContent = String(people.length);
  $("#player-count-label").textContent = people.length === 1 ? "student joined" : "students joined";
  const bits = [`${online} online`];
  if (away) bits.push(`${away} away`);
  if (bots) bits.push(`${bots} bot${bots === 1 ? "" : "s"}`);
  $("#online-count").textContent = bits.join(" · ");
}

function renderPhases() {
  const { status, phase, phases } = S.session;
  const idx = phase ? phase.index : -1;
  $("#phase-steps").innerHTML = phases
    .map((p, i) => {
      const cls = status === "ended" || i < idx ? "done" : status === "running" && i === idx ? "current" : "";
      return `<li class="${cls}"${cls === "current" ? ' aria-current="step"' : ""}><span class="step-n" aria-hidden="true">${cls === "done" ? "✓" : i + 1}</span> ${esc(p.name)}${p.agreement ? ' <span class="step-tag">deals possible</span>' : ""}</li>`;
    })
    .join("");
  const key = status === "running" && phase ? phase.key : status;
  if (lastPhaseKey !== null && key !== lastPhaseKey) {
    $("#phase-announce").textContent = status === "running" && phase ? `Phase: ${phase.name}` : status === "ended" ? "The session has ended." : "";
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
    name.textContent = "Lobby: waiting to start";
    const first = S.session.phases[0];
    clock.textContent = first ? mmss(first.duration_seconds) : "--:--";
    return;
  }
  if (status === "ended" || !phase) {
    name.textContent = "Session ended";
    clock.textContent = "Ended";
    block.classList.add("is-over");
    return;
  }
  let left;
  if (phase.paused) {
    left = phase.remaining ?? 0;
    block.classList.add("is-paused");
    name.textContent = `${phase.name} · paused`;
  } else {
    left = phase.ends_at ? (Date.parse(phase.ends_at) - (Date.now() + clockOffset)) / 1000 : 0;
    name.textContent = phase.name;
  }
  if (left <= 60 && !phase.paused) block.classList.add("is-low");
  clock.textContent = left <= 0 && !phase.paused ? "00:00" : mmss(left);
  if (left <= 0 && !phase.paused) name.textContent = `${phase.name} · time is up, moving on…`;
}

function renderLobby() {
  const list = $("#lobby-list");
  const people = humans();
  const bots = S.players.filter((p) => !p.removed && p.bot);
  const tables = new Map(S.tables.map((t) => [t.id, t]));
  if (!people.length && !bots.length) {
    setHTML(list, '<li class="lobby-empty">Nobody has joined yet. Show the code.</li>');
    return;
  }
  const items = people.map((p) => {
    const t = tables.get(p.table);
    const where = t && p.role ? `<span class="where">T${t.number} ${roleChip(p.role)}</span>` : '<span class="where waiting">waiting for a seat</span>';
    return `<li class="lobby-item${p.connected ? " on" : " off"}">
      <span class="conn-dot" aria-hidden="true"></span><span class="name">${esc(p.name)}</span>
      <span class="visually-hidden">${p.connected ? "online" : "offline"}</span>
      ${p.stand_in ? '<span class="mark-away">away · bot plays</span>' : ""}${where}</li>`;
  });
  if (bots.length) items.push(`<li class="lobby-item bots"><span class="mark-bot">bot</span> <span class="name">${bots.length} bot${bots.length === 1 ? "" : "s"}</span></li>`);
  setHTML(list, items.join(""));
}

function setHTML(el, html) {
  if (el._html !== html) {
    el.innerHTML = html;
    el._html = html;
  }
}

function tableStatus(t) {
  if (t.outcome || t.ended) {
    if (t.agreement != null || t.outcome?.agreement) return { label: "Agreement reached", tone: "good" };
    return { label: "Ended: no deal", tone: "bad" };
  }
  if (!t.started) return { label: "Waiting to start", tone: "idle" };
  const ph = S.session.phase;
  return { label: ph ? `Negotiating · ${ph.name}` : "Negotiating", tone: "live" };
}

function transcriptUrl(n) {
  return transcriptBase.replace(/\/0\/$/, `/${n}/`);
}

function proposalHTML(p, t) {
  const terms = Object.entries(p.terms || {})
    .map(([ik, ok]) => {
      const l = optionLabel(ik, ok);
      return `<li><span class="term-issue">${esc(l.issue)}</span> ${esc(l.option)}</li>`;
    })
    .join("");
  const required = new Set(p.required || []);
  const answers = S.roles
    .map((r) => {
      const a = (p.answers || {})[r.key];
      const mark = a === "accept" ? "✓" : a === "reject" ? "✗" : "·";
      const word = a === "accept" ? "accepted" : a === "reject" ? "rejected" : "no answer yet";
      return `<li class="ans ans-${a || "none"}${required.has(r.key) ? " must" : ""}" title="${esc(r.name)}: ${word}${required.has(r.key) ? " (must sign)" : ""}">${roleChip(r.key, { short: true })}<span class="ans-mark" aria-hidden="true">${mark}</span><span class="visually-hidden">${esc(r.name)} ${word}${required.has(r.key) ? ", must sign" : ""}</span></li>`;
    })
    .join("");
  const pendingRoles = (p.pending || []).map((k) => roleOf(k).name);
  const agreed = p.status === "agreed";
  return `<li class="prop${agreed ? " agreed" : ""}">
    <p class="prop-head"><span class="prop-id">#${esc(p.id)}</span> by ${roleChip(p.author)}${p.replaces ? ` <span class="prop-meta">counter to #${esc(p.replaces)}</span>` : ""}</p>
    <ul class="terms">${terms}</ul>
    <ul class="answers" aria-label="Answers">${answers}</ul>
    ${!agreed && pendingRoles.length ? `<p class="needs">Waiting for ${esc(pendingRoles.join(", "))}</p>` : ""}
  </li>`;
}

function outcomeHTML(t) {
  const o = t.outcome;
  if (!o) return "";
  const d = o.durability || {};
  const r = d.realized || {};
  const story = !o.agreement
    ? "No agreement: the war goes on."
    : r.held
      ? `Peace expected ${pct(d.expected_peace)} of the time · held in the simulation`
      : r.collapse_year
        ? `Peace expected ${pct(d.expected_peace)} of the time · broke in year ${esc(r.collapse_year)} (simulated)`
        : `Peace expected ${pct(d.expected_peace)} of the time`;
  const scores = S.roles
    .filter((role) => o.scores?.[role.key])
    .map((role) => {
      const s = o.scores[role.key];
      return `<li>${roleChip(role.key, { short: true })} <span class="num" title="tactical score, then total">${Math.round(s.tactical)} → <strong>${Math.round(s.total)}</strong></span></li>`;
    })
    .join("");
  return `<div class="tc-outcome ${o.agreement ? "deal" : "nodeal"}"><p>${story}</p><p class="mini-legend">Scores: won at the table → total</p><ul class="mini-scores" aria-label="Scores: won at the table, then total">${scores}</ul></div>`;
}

function tableCardHTML(t) {
  const st = tableStatus(t);
  const playersById = new Map(S.players.map((p) => [p.id, p]));
  const seats = (t.seats || [])
    .map((seat) => {
      const people = (seat.players || [])
        .map((p) => {
          const full = playersById.get(p.id);
          const standIn = full?.stand_in;
          const isBot = full ? full.bot : p.bot;
          const on = p.connected || isBot || standIn;
          return `<span class="person ${on ? "on" : "off"}"><span class="conn-dot" aria-hidden="true"></span>${esc(p.name)}<span class="visually-hidden">, ${isBot ? "bot" : p.connected ? "online" : "offline"}</span>${isBot ? ' <span class="mark-bot">bot</span>' : ""}${standIn ? ' <span class="mark-away">away · bot plays</span>' : ""}</span>`;
        })
        .join("");
      return `<li class="seat">${roleChip(seat.role)}<span class="seat-people">${people || '<span class="seat-empty">empty seat</span>'}</span></li>`;
    })
    .join("");
  const open = (t.proposals || []).filter((p) => p.status === "open");
  const agreed = (t.proposals || []).find((p) => p.status === "agreed" || p.id === t.agreement);
  const shown = open.slice(-3).reverse();
  const props = agreed
    ? `<div class="tc-props"><h4>Agreement</h4><ul class="props">${proposalHTML(agreed, t)}</ul></div>`
    : open.length
      ? `<div class="tc-props"><h4>On the table <span class="count num">${open.length}</span></h4><ul class="props">${shown.map((p) => proposalHTML(p, t)).join("")}</ul>${open.length > 3 ? `<p class="more">+ ${open.length - 3} more in the transcript</p>` : ""}</div>`
      : t.started && !t.ended
        ? '<p class="tc-quiet">No proposal on the table yet.</p>'
        : "";
  const news = (t.news || []).length ? `<span class="tc-news" title="${esc(t.news.map((k) => S.news_items.find((n) => n.key === k)?.headline || k).join(" · "))}">News: ${t.news.length}</span>` : "";
  const badge =
    t.agreement != null || t.outcome?.agreement
      ? '<span class="agree-badge yes">✓ Agreement</span>'
      : t.ended
        ? '<span class="agree-badge no">No deal</span>'
        : t.started
          ? '<span class="agree-badge pending">No agreement yet</span>'
          : "";
  const url = transcriptUrl(t.number);
  return `<header class="tc-head">
      <h3><a href="${esc(url)}" target="_blank" rel="noopener">Table ${esc(t.number)}<span class="visually-hidden"> transcript (opens in a new tab)</span></a></h3>
      ${badge}
    </header>
    <p class="tc-status tone-${st.tone}">${esc(st.label)}</p>
    <ul class="seats">${seats}</ul>
    ${props}
    ${outcomeHTML(t)}
    <p class="tc-foot"><span class="tc-activity">Last activity <span data-ago="${esc(t.last_activity || "")}">${esc(ago(t.last_activity))}</span></span>${news}
      <a class="tc-link" href="${esc(url)}" target="_blank" rel="noopener">Transcript →<span class="visually-hidden"> of table ${esc(t.number)}, private channels included (opens in a new tab)</span></a></p>`;
}

function renderTables() {
  const grid = $("#table-grid");
  if (!S.tables.length) {
    setHTML(grid, '<p class="empty">No tables yet: they open as students join.</p>');
    return;
  }
  // keyed update: only the cards whose content changed are replaced (keeps focus elsewhere)
  const existing = new Map($$(".table-card", grid).map((el) => [el.dataset.table, el]));
  if (grid.querySelector(".empty")) grid.innerHTML = "";
  let prev = null;
  for (const t of S.tables) {
    const id = String(t.id);
    let el = existing.get(id);
    if (!el) {
      el = document.createElement("article");
      el.className = "table-card card";
      el.dataset.table = id;
    }
    existing.delete(id);
    const html = tableCardHTML(t);
    if (el._html !== html) {
      el.innerHTML = html;
      el._html = html;
    }
    const st = tableStatus(t);
    el.dataset.tone = st.tone;
    const want = prev ? prev.nextSibling : grid.firstChild;
    if (want !== el) grid.insertBefore(el, want);
    prev = el;
  }
  for (const el of existing.values()) el.remove();
}

function fillSelect(select, options) {
  const keep = select.value;
  const html = options.map((o) => `<option value="${esc(o.value)}">${esc(o.label)}</option>`).join("");
  if (select._html !== html) {
    select.innerHTML = html;
    select._html = html;
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
    adv.textContent = "End the last phase (ends the session)";
    adv.dataset.confirm = "This is the last phase: advancing ends the session for every table. Tables without an agreement end with no deal.";
    adv.classList.add("danger");
  } else {
    adv.textContent = next ? `Advance to: ${next.name}` : "Advance to the next phase";
    delete adv.dataset.confirm;
    adv.classList.remove("danger");
  }
  // player, table and news pickers follow the state
  const tablesById = new Map(S.tables.map((t) => [t.id, t]));
  const label = (p) => {
    const t = tablesById.get(p.table);
    return `${p.name}${p.bot ? " (bot)" : ""}${t && p.role ? ` · T${t.number} ${roleOf(p.role).name}` : " · no seat"}${p.stand_in ? " · away" : ""}`;
  };
  const live = S.players.filter((p) => !p.removed);
  for (const sel of $$('select[data-options="players"]')) fillSelect(sel, [{ value: "", label: "Choose…" }, ...live.map((p) => ({ value: p.id, label: label(p) }))]);
  for (const sel of $$('select[data-options="humans"]')) fillSelect(sel, [{ value: "", label: "Choose…" }, ...live.filter((p) => !p.bot).map((p) => ({ value: p.id, label: label(p) }))]);
  for (const sel of $$('select[data-options="tables"]')) fillSelect(sel, S.tables.map((t) => ({ value: t.id, label: `Table ${t.number}` })));
  const news = $("#news-select");
  fillSelect(
    news,
    S.news_items.map((n) => {
      const reached = S.tables.filter((t) => (t.news || []).includes(n.key)).length;
      const note = reached ? ` (already at ${reached === S.tables.length ? "every table" : `${reached} of ${S.tables.length} tables`})` : "";
      return { value: n.key, label: n.headline + note };
    }),
  );
  const targets = $("#target-tables");
  const chosen = new Set($$("input[name=tables]:checked", targets).map((i) => i.value));
  setHTML(
    targets,
    S.tables
      .map((t) => `<label class="${t.ended ? "ended" : ""}"><input type="checkbox" name="tables" value="${t.id}"${chosen.has(String(t.id)) ? " checked" : ""}${t.ended ? " disabled" : ""}> Table ${t.number}${t.ended ? " (ended)" : ""}</label>`)
      .join(""),
  );
  $("#debrief-link").classList.toggle("secondary", st !== "ended");
}

// --- applying events between snapshots -----------------------------------------------------

function applyEvent(msg) {
  if (!S) return;
  const t = S.tables.find((x) => x.id === msg.table);
  if (!t) {
    scheduleHello(300); // a table we do not know yet
    return;
  }
  const last = seen.get(t.id) ?? t.seq ?? 0;
  if (msg.seq <= last) return; // already in the snapshot
  if (msg.seq > last + 1) scheduleHello(300); // a gap: fetch a fresh snapshot
  seen.set(t.id, msg.seq);
  t.seq = msg.seq;
  t.last_activity = msg.at || t.last_activity;
  const d = msg.data || {};
  switch (msg.kind) {
    case "proposal.made": {
      const p = { ...d.proposal, required: d.proposal?.required || [], pending: [] };
      t.proposals = [...(t.proposals || []).filter((x) => x.id !== p.id), p];
      for (const id of d.closed || []) setStatus(t, id, "replaced");
      scheduleHello(600); // the snapshot knows who still has to sign
      break;
    }
    case "proposal.answered": {
      const p = (t.proposals || []).find((x) => x.id === d.proposal);
      if (p) p.answers = { ...(p.answers || {}), [d.role]: d.answer };
      scheduleHello(600);
      break;
    }
    case "proposal.withdrawn":
      setStatus(t, d.proposal, "withdrawn");
      break;
    case "agreement.reached":
      t.agreement = d.proposal;
      t.ended = true;
      setStatus(t, d.proposal, "agreed");
      for (const id of d.closed || []) setStatus(t, id, "closed");
      break;
    case "game.ended":
      t.ended = true;
      t.outcome = d;
      break;
    case "phase.changed":
      if (d.phase && S.session.status === "running") S.session.phase = { ...S.session.phase, ...d.phase };
      t.started = true;
      break;
    case "news":
      t.news = [...new Set([...(t.news || []), d.key])];
      break;
    case "seats":
      if (Array.isArray(d.seats)) t.seats = d.seats;
      break;
    case "presence":
      for (const seat of t.seats || []) {
        if (seat.role !== d.role) continue;
        for (const p of seat.players || []) if (p.name === d.name) p.connected = !!d.connected;
      }
      for (const p of S.players) if (p.name === d.name && p.table === t.id) p.connected = !!d.connected;
      break;
    default:
      break; // chat and anything new: only the activity time changes (never shown on the projector)
  }
  queueRender();
}

function setStatus(t, id, status) {
  const p = (t.proposals || []).find((x) => x.id === id);
  if (p) p.status = status;
}

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

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
  setConn("connecting", "Connecting…");
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const sock = new WebSocket(`${proto}://${location.host}/ws/host/${encodeURIComponent(code)}/`);
  ws = sock;
  let opened = false;
  sock.addEventListener("open", () => {
    opened = true;
    everOnline = true;
    setConn("online", "Live");
    flushPending();
  });
  sock.addEventListener("message", (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    onMessage(msg);
  });
  sock.addEventListener("close", (ev) => {
    if (ws !== sock) return;
    ws = null;
    renderPendingNote(); // the actions stay pending: they are sent again once reconnected
    if (ev.code === 4403) {
      setConn("denied", "Signed out");
      $("#conn-banner-title").textContent = "You are not signed in as an instructor.";
      $("#conn-banner-text").innerHTML = `<a href="/admin/login/?next=${encodeURIComponent(location.pathname)}">Sign in again</a> to get live updates.`;
      return;
    }
    if (ev.code === 4404) {
      setConn("missing", "No such session");
      $("#conn-banner-title").textContent = "This session no longer exists.";
      $("#conn-banner-text").innerHTML = '<a href="/host/">Back to your sessions</a>.';
      return;
    }
    if (opened) retry = 0;
    // 1012: the server is restarting and drained this socket; another worker takes it at once.
    const delay = ev.code === 1012 ? Math.random() * 800 : Math.min(15000, 700 * 2 ** retry) * (0.8 + Math.random() * 0.4);
    retry = Math.min(retry + 1, 6);
    retryAt = Date.now() + delay;
    setConn("offline", "Offline");
    $("#conn-banner-title").textContent = "Connection lost.";
    updateRetryText();
    retryTimer = setTimeout(connect, delay);
  });
}

function updateRetryText() {
  if (!retryTimer) return;
  const s = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  $("#conn-banner-text").textContent = `Reconnecting in ${s} s… The dashboard may be out of date; controls still work (the page reloads).`;
}

function send(msg) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(msg));
  return true;
}

function sendPending(p) {
  if (send(p.msg)) p.sentAt = Date.now();
}

function flushPending() {
  clearTimeout(resendTimer);
  resendTimer = null;
  for (const p of pending.values()) sendPending(p);
}

function scheduleResend(hintSeconds) {
  if (resendTimer) return;
  resendRound += 1;
  const backoff = Math.min(5000, 1000 * 2 ** (resendRound - 1));
  resendTimer = setTimeout(flushPending, Math.max(backoff, (Number(hintSeconds) || 0) * 1000) * (0.8 + Math.random() * 0.4));
}

function renderPendingNote() {
  const waiting = [...pending.values()].filter((p) => p.waiting || !(ws && ws.readyState === WebSocket.OPEN));
  const note = $("#pending-note");
  if (!note) return;
  note.hidden = !waiting.length;
  if (waiting.length) $("#pending-text").textContent = `your move will be sent: ${waiting.map((p) => `“${p.label}”`).join(", ")}.`;
}

// An action that got no answer on an open socket for a long while is sent again (same ref).
setInterval(() => {
  if (!ws || ws.readyState !== WebSocket.OPEN || resendTimer) return;
  for (const p of pending.values()) if (p.sentAt && Date.now() - p.sentAt > 20000) sendPending(p);
}, 5000);

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
      render();
      if (stale) scheduleHello(500);
      break;
    }
    case "event":
      applyEvent(msg);
      break;
    case "sync": {
      const behind = Object.entries(msg.seq || {}).some(([id, n]) => (seen.get(Number(id)) ?? 0) < n);
      if (behind) scheduleHello(0);
      break;
    }
    case "ack":
      if (msg.ref && pending.has(msg.ref)) {
        const p = pending.get(msg.ref);
        resendRound = 0;
        clearPending(msg.ref, p);
        toast(`✓ Done: ${p.label}`);
      }
      break;
    case "error":
      if (msg.ref && pending.has(msg.ref) && RETRYABLE.has(msg.code)) {
        // Not a refusal: the database is out or the server is restarting. Sent again.
        pending.get(msg.ref).waiting = true;
        scheduleResend(msg.retry_after);
        renderPendingNote();
        break;
      }
      if (msg.ref && pending.has(msg.ref)) clearPending(msg.ref, pending.get(msg.ref));
      showError(msg.message || "Something went wrong.", msg.code);
      break;
    default:
      break;
  }
}

// --- controls ------------------------------------------------------------------------------

function pendingHas(btn) {
  for (const p of pending.values()) if (p.buttons.includes(btn)) return true;
  return false;
}

function clearPending(ref, p) {
  pending.delete(ref);
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

function showError(text, codeName) {
  const box = $("#alert");
  $("#alert-text").textContent = text + (codeName && codeName !== "invalid" ? ` (${codeName})` : "");
  box.hidden = false;
  box.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function buildMessage(form, submitter) {
  const fd = new FormData(form, submitter);
  const msg = { type: fd.get("type") };
  for (const f of ["seconds", "player", "table"]) {
    const v = fd.get(f);
    if (v !== null && v !== "") msg[f] = Number.parseInt(v, 10);
  }
  for (const f of ["news", "role"]) if (fd.get(f)) msg[f] = fd.get(f);
  if (fd.get("on") !== null) msg.on = fd.get("on") === "1";
  if ((msg.type === "seat.move" || msg.type === "seat.remove" || msg.type === "seat.stand_in") && !Number.isInteger(msg.player)) {
    return { error: "Choose a student first." };
  }
  if (msg.type === "news.inject") {
    const key = msg.news;
    if (fd.get("target") === "chosen") {
      msg.tables = fd.getAll("tables").map((v) => Number.parseInt(v, 10));
      if (!msg.tables.length) return { error: "Tick at least one table, or send the news to every table." };
    } else {
      // Every table still negotiating that has not had this news yet. (Listing them avoids the
      // server refusing the whole injection because one table has ended or already has it.)
      msg.tables = (S?.tables || []).filter((t) => !t.ended && !(t.news || []).includes(key)).map((t) => t.id);
      if (!msg.tables.length) return { error: "Every table still negotiating has already had this news (or none is negotiating)." };
    }
  }
  return msg;
}

function confirmDialog(text, okLabel) {
  const dlg = $("#confirm-dialog");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel || "Yes, do it";
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true });
    dlg.returnValue = "";
    dlg.showModal();
  });
}

function confirmText(form, submitter) {
  const raw = submitter?.dataset.confirm || form.dataset.confirm;
  if (!raw) return null;
  const sel = form.querySelector("select[name=player]");
  const who = sel && sel.selectedIndex > 0 ? sel.options[sel.selectedIndex].text.split(" · ")[0] : "this student";
  return raw.replace("{player}", who);
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
  const question = confirmText(form, submitter);
  // Offline after having been live: the action waits and is sent once reconnected. Never live
  // (no WebSocket through this network): the ordinary form POST.
  const online = (ws && ws.readyState === WebSocket.OPEN) || everOnline;
  let msg = null;
  if (online) {
    msg = buildMessage(form, submitter);
    if (msg.error) {
      showError(msg.error);
      return;
    }
  }
  if (question && !(await confirmDialog(question, submitter?.dataset.label))) return;
  if (!online) {
    form.dataset.confirmed = "1"; // no live connection yet: the ordinary POST (the page reloads)
    form.requestSubmit(submitter);
    return;
  }
  const ref = `h${Date.now().toString(36)}${(refSeq++).toString(36)}${Math.random().toString(36).slice(2, 7)}`;
  const label = submitter?.dataset.label || "Done";
  const buttons = submitter ? [submitter] : [];
  for (const b of buttons) {
    b.disabled = true;
    b.setAttribute("aria-busy", "true");
  }
  const entry = { msg: { ...msg, ref }, label, buttons, sentAt: 0, waiting: false };
  pending.set(ref, entry);
  $("#alert").hidden = true;
  if (resendTimer) entry.waiting = true; // earlier actions wait for their resend: keep the order
  else sendPending(entry);
  renderPendingNote();
});

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
  $("#reconnect-now").addEventListener("click", () => {
    retry = 0;
    connect();
  });
  const proj = $("#projector-toggle");
  proj.hidden = false;
  const setProjector = (on) => {
    document.body.classList.toggle("projector", on);
    proj.setAttribute("aria-pressed", String(on));
    proj.textContent = on ? "Show controls" : "Projector view";
    try {
      localStorage.setItem("host.projector", on ? "1" : "0");
    } catch {
      /* private mode */
    }
  };
  proj.addEventListener("click", () => setProjector(!document.body.classList.contains("projector")));
  try {
    if (localStorage.getItem("host.projector") === "1") setProjector(true);
  } catch {
    /* private mode */
  }
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
  window.addEventListener("online", () => {
    retry = 0;
    connect();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !ws) {
      retry = 0;
      connect();
    }
  });
  connect();
}

init();
