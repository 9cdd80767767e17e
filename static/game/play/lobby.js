// Before and around the table: the news bar, the lobby (who is seated, what the phases allow),
// the notices everyone sees (a phase starts, news arrives), the seats, the brief and the points.

import { fmt, fmt1, gettext, listText, ngettext, num } from "../i18n.js";
import { h, sentence, setChildren } from "../lib/dom.js";
import { clockText } from "../lib/clock.js";
import { phaseAllows as allows, dealPhaseNames } from "../lib/phases.js";
import { cssKey } from "../lib/roles.js";
import { secondsLeft } from "./announce.js";
import { currentView, markIntroSeen } from "./frame.js";
import { $, S, myPoints, myRole, phase, roleChip, roleName, started, you } from "./state.js";

// --- news -------------------------------------------------------------------------------------

export function renderNews() {
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
  // Rebuilt only when what it shows changed, not on every state frame.
  const items = S.news
    .slice()
    .reverse()
    .map((n) => [n.headline || "", n.body || "", effectText(n.key) || ""]);
  setChildren($("news-list"), items, () =>
    items.map(([headline, body, effect]) => h("li", {}, h("strong", { text: headline }), h("p", { text: body }), h("p", { class: "news-effect", text: effect }))),
  );
}

export function freshNews() {
  const banner = $("news-banner");
  banner.classList.add("is-fresh");
  setTimeout(() => banner.classList.remove("is-fresh"), 20000);
}

// --- lobby ------------------------------------------------------------------------------------

export function renderLobby() {
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
  const dealStages = dealPhaseNames(phases);
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
export function setLobbyTitle(seated) {
  const role = $("lobby-role");
  $("lobby-title").replaceChildren(...(seated ? sentence(gettext("You play %(role)s"), { role }) : [gettext("Waiting for a seat"), role]));
}

/** What a phase allows, in a sentence addressed to a student (lib/phases.js). */
export function phaseAllows(ph) {
  const phases = (S.st && S.st.session.phases) || [];
  return allows(phases, phases.findIndex((p) => p.key === ph.key), {
    now: gettext("Deals can be concluded now: a proposal becomes your table's agreement the moment every party it needs has accepted it, and the negotiation ends."),
    noDeal: gettext("When the clock runs out, a table without an agreement ends with no deal."),
    later: gettext("Talk, propose and answer: nothing is binding yet. An agreement can be concluded only in the %(phases)s."),
    final: gettext("Talk, propose and answer: nothing is binding yet. An agreement can be concluded only in the final stage."),
  });
}

// --- notices that everyone sees -------------------------------------------------------------------
// A phase change or a piece of news is a moment for the whole table: a short notice, fixed in view
// wherever the page is scrolled, until the student dismisses it.

export function notify({ kind, key, title, body = [] }) {
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

export function noticePhase(before, ph, { started = false } = {}) {
  if (!ph || !ph.name || currentView() !== "game") return;
  const clock = ph.paused ? "" : ph.ends_at ? ` ${fmt(gettext("%(time)s on the clock."), { time: clockText(secondsLeft(ph)) })}` : "";
  notify({
    kind: "phase",
    key: `phase-${ph.key}`,
    title: before === null && !started ? fmt(gettext("The negotiation has started: %(phase)s"), { phase: ph.name }) : fmt(gettext("Now: %(phase)s"), { phase: ph.name }),
    body: [h("p", { class: "notice-text", text: `${phaseAllows(ph)}${clock}` })],
  });
}

export function effectText(key) {
  const entry = (you().news_effects || []).find((e) => e.key === key);
  const fx = entry && entry.changes;
  if (!Array.isArray(fx)) return null;
  const others = entry.rescaled ? ` ${gettext("Your other options shift a little as your 0–100 scale adjusts.")}` : "";
  if (!fx.length) return `${gettext("This news does not change what the options are worth to you.")}${others}`;
  const sign = (x) => (x > 0 ? `+${fmt1(x)}` : `\u2212${fmt1(-x)}`);
  const changes = fx.map((c) => fmt(gettext("%(option)s %(change)s (now %(value)s)"), { option: c.label, change: sign(c.after - c.before), value: num(c.after) })).join("; ");
  return `${fmt(gettext("Your points: %(changes)s."), { changes })}${others}`;
}

export function noticeNews(d) {
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
export function fillNewsEffects(root = document) {
  for (const el of root.querySelectorAll("[data-news]")) {
    const text = effectText(el.dataset.news);
    if (text) el.textContent = text;
  }
}

export function renderSeats() {
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

export function setBrief(el) {
  const html = you().brief || "";
  if (el.dataset.src !== html) {
    el.dataset.src = html;
    if (html) el.innerHTML = html; // sanitised by the server (nh3)
    else el.replaceChildren(h("p", { text: gettext("No brief for this role.") }));
  }
}

export function renderBrief() {
  setBrief($("brief-body"));
}

export function pointsTable() {
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

export function renderPoints() {
  setChildren($("points-body"), [you().values, S.scenarioVersion], pointsTable);
  const y = you();
  $("points-title").textContent =
    y.no_deal_value !== undefined ? fmt(gettext("Your points · no deal is worth %(value)s"), { value: num(y.no_deal_value) }) : gettext("Your points");
}
