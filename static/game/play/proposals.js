// The proposals on the table: one card each (terms, who must sign, every answer, what it
// counters), the history of closed ones, and the answer buttons. The cards are kept by the
// shared keyed list update (lib/dom.js): only a card whose content changed is rebuilt.

import { fmt, fmt1, gettext, listNodes, listText, ngettext, num, pct, pgettext } from "../i18n.js";
import { h, keyedList, sentence } from "../lib/dom.js";
import { dealPhaseNames } from "../lib/phases.js";
import { normaliseTerms, renderActionsEnabled, startCounter } from "./builder.js";
import { currentView, selectTab } from "./frame.js";
import { $, PENDING_TEXT, PHONE, S, act, canAct, complete, flash, isOpen, maxPoints, myRole, needsLine, packagePoints, phase, previewRef, roleChip, roleName, sendRaw, tableEnded, termsList, you } from "./state.js";

// --- proposals on the table -------------------------------------------------------------------

// What-if answers for the packages on the table, by their terms: asked once per package.
export const cardPreviews = new Map(); // terms key -> preview message, "pending" or "error"
export const cardPreviewRefs = new Map(); // ref -> terms key

export function cardPreview(p) {
  const terms = normaliseTerms(p.terms || {});
  if (!complete(terms)) return null;
  const key = JSON.stringify(terms);
  if (!cardPreviews.has(key) && isOpen()) {
    const ref = previewRef("pc");
    cardPreviewRefs.set(ref, key);
    cardPreviews.set(key, "pending");
    sendRaw({ type: "package.preview", ref, terms });
  }
  const v = cardPreviews.get(key);
  return v && typeof v === "object" ? v : null;
}

export const STATUS_TEXT = {
  open: pgettext("proposal status", "Open"),
  agreed: pgettext("proposal status", "Agreed"),
  withdrawn: pgettext("proposal status", "Withdrawn"),
  replaced: pgettext("proposal status", "Replaced"),
  closed: pgettext("proposal status", "Closed"),
};

export function proposalCard(p) {
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

  const terms = termsList(p.terms, { pointsTitle: gettext("Your points") });
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
      const names = dealPhaseNames(S.st && S.st.session.phases);
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
export function gotoProposal(id) {
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

export function onProposalAction(e) {
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

export function renderProposals() {
  if (!S.st) return;
  const all = [...S.proposals.values()].sort((a, b) => b.id - a.id);
  const open = all.filter((p) => p.status === "open" || p.status === "agreed");
  const past = all.filter((p) => !(p.status === "open" || p.status === "agreed"));
  const ph = phase();
  const ctx = JSON.stringify([myRole(), ph && ph.agreement, tableEnded(), canAct(), you().values, (S.st.session.phases || []).length]);
  const place = (list, container) =>
    keyedList(container, list, {
      key: (p) => p.id,
      sig: (p) => [p, ctx, [(S.proposals.get(p.replaces) || {}).author, [...S.proposals.values()].filter((q) => q.replaces === p.id).map((q) => [q.id, q.author])], cardPreviews.get(JSON.stringify(normaliseTerms(p.terms || {})))],
      build: proposalCard,
      // A card moves from the table to the history: it is found wherever it is.
      find: (id) => document.getElementById(`proposal-${id}`),
    });
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
export function renderJump() {
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
