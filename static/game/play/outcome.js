// The outcome: the headline, the agreed terms, the survival curve (lib/survival.js), the
// factors, the student's score with its formula and lesson, every party's scores, and the same
// deal under a hundred other histories.

import { fixed, fmt, fmt1, gettext, listNodes, ngettext, num, pct, pct1, pgettext } from "../i18n.js";
import { h, sentence } from "../lib/dom.js";
import { survivalChart } from "../lib/survival.js";
import { effectBar } from "../lib/effect_bar.js";
import { $, S, myRole, optionOf, requiredFor, roleChip, termsList, you } from "./state.js";

// --- the outcome ------------------------------------------------------------------------------

export const outcomeChart = survivalChart({ width: 640, height: 300, title: gettext("How long the peace holds: the chance it still holds at the end of each year") });
$("outcome-chart").append(outcomeChart.el);
export let outcomeSig = "";

export function renderOutcome() {
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
    const ul = termsList(o.agreement);
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
export const noDealText = () => (S.st && S.st.no_deal_text) || gettext("No agreement");

export const peaceValue = (sc) => (sc && typeof sc.peace_value === "number" ? sc.peace_value : 50);
export const relapseShare = (sc) => (sc && typeof sc.relapse_share === "number" ? sc.relapse_share : 0.1);

/** The one-line rule with this table's numbers in it. */
export function scoreFormula(scoring, mine, D, agreed, nd) {
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
export function lessonBox(o, me, mine) {
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

export function packageText(terms) {
  if (!terms) return "";
  return S.issues.map((i) => {
    const opt = optionOf(i.key, terms[i.key]);
    return opt ? opt.label : terms[i.key];
  }).join("; ");
}

/** The same deal under a hundred other histories, so one draw is not taken for the rule. */
export function renderReplays(rep, T) {
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
export function showOutcome() {
  document.querySelector(".col-mid").scrollTop = 0;
  window.scrollTo({ top: 0 });
  const title = $("outcome-title");
  title.setAttribute("tabindex", "-1");
  title.focus({ preventScroll: true });
}
