// The proposal builder: one option per issue, the live meter (my points, the durability and
// the mini survival curve, from the server's preview), countering a proposal, and sending it.

import { fmt, fmt1, gettext, listNodes, ngettext, num, pct } from "../i18n.js";
import { h, sentence } from "../lib/dom.js";
import { cssKey } from "../lib/roles.js";
import { survivalChart } from "../lib/survival.js";
import { selectTab } from "./frame.js";
import { $, PENDING_TEXT, PHONE, S, act, canAct, complete, flash, isOpen, maxPoints, myPoints, myRole, needsLine, optionOf, packagePoints, previewRef, roleChip, sendRaw, started, store, tableEnded, you } from "./state.js";

// --- the proposal builder ---------------------------------------------------------------------

export function optionText(issueKey, o) {
  const p = myPoints(issueKey, o.key);
  return p === null ? o.label : fmt(gettext("%(option)s · %(points)s pts"), { option: o.label, points: num(p) });
}

export function buildPickers() {
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

export function updatePickers() {
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

export function saveBuilder() {
  store.set("builder", { terms: S.builder.terms, replaces: S.builder.replaces });
}

export let previewTimer = null;
export function schedulePreview(delay = 150) {
  clearTimeout(previewTimer);
  const terms = { ...S.builder.terms };
  if (!complete(terms)) return;
  previewTimer = setTimeout(() => {
    const same = S.preview.terms && JSON.stringify(S.preview.terms) === JSON.stringify(terms) && S.preview.data;
    S.preview.terms = terms;
    if (same && delay !== 0) return;
    S.preview.ref = previewRef("pv");
    S.preview.error = "";
    if (!sendRaw({ type: "package.preview", ref: S.preview.ref, terms })) S.preview.data = null;
    $("meter").setAttribute("aria-busy", "true");
  }, delay);
}

export const miniChart = survivalChart({ width: 320, height: 96, mini: true, title: gettext("Chance the peace holds over the years") });
$("m-curve").append(miniChart.el);

export function renderMeter() {
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

export function normaliseTerms(terms) {
  const out = {};
  for (const i of S.issues) if (terms[i.key]) out[i.key] = terms[i.key];
  return out;
}

export function renderBuilderMode() {
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

export function cancelCounter() {
  S.builder.replaces = null;
  saveBuilder();
  renderBuilderMode();
}

export function startCounter(p) {
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

export function submitProposal() {
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

export function renderActionsEnabled() {
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
