// The page's frame: which view shows (loading, lobby, the introduction, the game, the end),
// renderAll, the header and its clock, the tabs on a phone, and the brief first.

import { fmt, gettext, listText, pgettext } from "../i18n.js";
import { clockText } from "../lib/clock.js";
import { dealPhaseNames } from "../lib/phases.js";
import { cssKey } from "../lib/roles.js";
import { say, secondsLeft } from "./announce.js";
import { renderActionsEnabled, renderBuilderMode, renderMeter, updatePickers } from "./builder.js";
import { arrowTabs, renderChat } from "./chat.js";
import { noticePhase, renderBrief, renderLobby, renderNews, renderPoints } from "./lobby.js";
import { renderOutcome } from "./outcome.js";
import { renderProposals } from "./proposals.js";
import { $, CODE, PHONE, S, myRole, phase, roleName, started, store, tableEnded, you } from "./state.js";

// --- views ------------------------------------------------------------------------------------

export function currentView() {
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
export const introKey = () => `ng:${CODE}:intro:${S.tableId}:${myRole()}`;
export function introSeen() {
  try {
    return localStorage.getItem(introKey()) === "1";
  } catch {
    return true;
  }
}
export function markIntroSeen() {
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

export function setView(view) {
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

export function renderAll() {
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

export function renderHeader() {
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
  const agreementPhases = dealPhaseNames(S.st.session.phases);
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

export function tick() {
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
    text = fmt(gettext("%(time)s paused"), { time: clockText(rem) });
    cls += " is-paused";
    label = fmt(gettext("Clock paused with %(time)s left"), { time: clockText(rem) });
  } else if (ph.ends_at) {
    const left = secondsLeft(ph);
    text = left > 0 ? fmt(gettext("%(time)s left"), { time: clockText(left) }) : gettext("Time’s up");
    if (left <= 60) cls += " is-low";
    // Spoken once in the phase's last minute and once at its end, never every second.
    const when = `${ph.key}:${ph.ends_at}`;
    if (left > 0 && left <= 60 && left > 3) say("clock", fmt(gettext("One minute left in %(phase)s."), { phase: ph.name }), `last-minute:${when}`);
    else if (left <= 0) say("clock", fmt(gettext("Time is up for %(phase)s."), { phase: ph.name }), `time-up:${when}`);
    label = left > 0 ? fmt(gettext("%(time)s left in %(phase)s"), { time: clockText(left), phase: ph.name }) : fmt(gettext("Time is up for %(phase)s"), { phase: ph.name });
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

// --- tabs on a phone --------------------------------------------------------------------------

export function renderTabs() {
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

export function selectTab(tab, focus = false) {
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
export const BRIEF_READ_KEY = `ng:${CODE}:brief-read`;
export function briefRead() {
  try {
    return localStorage.getItem(BRIEF_READ_KEY) === "1";
  } catch {
    return false;
  }
}
export function markBriefRead() {
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
