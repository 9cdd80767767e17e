// The player page: one socket, one state, views that update in place. Speaks the wire contract
// (docs/protocol.md). This module opens the socket and applies what arrives (the snapshot, the
// events, the answers) to the state; the views in play/ draw it: the frame (views, header,
// clock, tabs), the lobby and brief, the builder, the proposals, the chat and the outcome. The
// shared modules in lib/ do the socket, the DOM, the role colours and the survival curve. User
// text goes in as text; the brief is the one piece of HTML, sanitised by the server.

import { fmt, gettext, pgettext } from "./i18n.js";
import { installRoleColours } from "./lib/roles.js";
import { RETRYABLE, gameSocket } from "./lib/socket.js";
import { addChat, clockSentence, isMine, pausedSentence, said, say, secondsLeft, spokenClock } from "./play/announce.js";
import { buildPickers, cancelCounter, renderActionsEnabled, renderBuilderMode, renderMeter, saveBuilder, schedulePreview } from "./play/builder.js";
import { chatChannels, markRead, renderChat } from "./play/chat.js";
import { briefRead, currentView, renderAll, setView } from "./play/frame.js";
import { fillNewsEffects, freshNews, noticeNews, noticePhase, renderNews, renderSeats } from "./play/lobby.js";
import { packageText, showOutcome } from "./play/outcome.js";
import { cardPreviewRefs, cardPreviews, renderProposals } from "./play/proposals.js";
import { $, S, WS_PATH, complete, isOpen, myRole, net, normalise, parseTime, phase, roleName, sendRaw, store, you } from "./play/state.js";

// --- the socket -------------------------------------------------------------------------------
// The shared socket (lib/socket.js): its reconnect policy, its watchdog, the actions' outbox and
// the `since` resume. This page adds what its close codes mean and its banners.

/** The banner says "your move will be sent" while an action waits for the server. */
function renderPending() {
  const sock = net.sock;
  const waiting = Boolean(sock && sock.waiting());
  const banner = $("offline-banner");
  $("offline-text").textContent = waiting
    ? gettext("your move will be sent as soon as the server answers. Keep this page open.")
    : gettext("The connection dropped. Nothing is lost: the page catches up by itself when the server answers.");
  banner.classList.toggle("is-pending", waiting);
  banner.hidden = !(waiting || (!isOpen() && !S.blocked && !S.replaced && Boolean(sock && sock.everOpened)));
}

function onOpen() {
  for (const [k, v] of cardPreviews) if (v === "pending") cardPreviews.delete(k);
  cardPreviewRefs.clear();
  if (S.preview.terms && !S.preview.data) schedulePreview(0);
}

/** 4403: not (or no longer) seated; 4409: replaced by a newer socket of this seat (another
 * tab): wait until the student chooses this page again, or two tabs would keep closing each
 * other. Neither reconnects by itself. */
function onClose(code) {
  if (code === 4403) {
    block();
    return false;
  }
  if (code === 4409) {
    S.replaced = true;
    net.sock.stop(); // not even when the page is shown again: the student chooses
    setConn("replaced");
    return false;
  }
  return true;
}

$("replaced-reconnect").addEventListener("click", () => {
  S.replaced = false;
  if (!S.blocked) net.sock.start();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") markRead();
});

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
  if (net.sock) net.sock.stop();
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
      // The answers to this page's actions are the socket's (lib/socket.js); nothing else is due.
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
    S.scenarioVersion += 1; // what renders from the scenario compares this, not the long signature
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
net.sock = gameSocket(WS_PATH, { onMessage, onStatus: setConn, onClose, onOpen, onOutbox: renderPending, resume: () => S.lastSeq });
net.sock.connect();
