// The dashboard's table cards: each table's seats (who is online, away or a bot), what is on
// the table (the last three open proposals with every role's answer, or the agreement), the
// outcome with each party's score, the news that reached it, and its last activity. Built with
// the shared element builder (text as text) and kept up to date by the keyed list update: only
// the cards whose content changed are rebuilt.

import { fmt, gettext, ngettext, pct } from "../i18n.js";
import { h, keyedList, sentence } from "../lib/dom.js";
import { roleBadge } from "../lib/roles.js";

/** The view's context: the latest host.state and the page's helpers. */
export function tableView({ S, ago, transcriptUrl }) {
  const roleOf = (key) => S.roles.find((r) => r.key === key) || { key, name: key, colour: "#6b7480" };
  const chip = (key, short = false) => roleBadge(roleOf(key), { short, roles: S.roles });

  function optionLabel(issueKey, optionKey) {
    const issue = S.issues.find((i) => i.key === issueKey);
    const opt = issue?.options.find((o) => o.key === optionKey);
    return { issue: issue?.name || issueKey, option: opt?.label || optionKey };
  }

  function status(t) {
    if (t.outcome || t.ended) {
      if (t.agreement != null || t.outcome?.agreement) return { label: gettext("Agreement reached"), tone: "good" };
      return { label: gettext("Ended: no deal"), tone: "bad" };
    }
    if (!t.started) return { label: gettext("Waiting to start"), tone: "idle" };
    const ph = S.session.phase;
    return { label: ph ? fmt(gettext("Negotiating · %(phase)s"), { phase: ph.name }) : gettext("Negotiating"), tone: "live" };
  }

  function proposal(p, t) {
    const required = new Set(p.required || []);
    const answers = S.roles.map((r) => {
      const a = (p.answers || {})[r.key];
      const mark = a === "accept" ? "✓" : a === "reject" ? "✗" : "·";
      const word = a === "accept" ? gettext("accepted") : a === "reject" ? gettext("rejected") : gettext("no answer yet");
      const must = required.has(r.key);
      const title = fmt(must ? gettext("%(role)s: %(answer)s (must sign)") : gettext("%(role)s: %(answer)s"), { role: r.name, answer: word });
      const said = fmt(must ? gettext("%(role)s %(answer)s, must sign") : gettext("%(role)s %(answer)s"), { role: r.name, answer: word });
      return h(
        "li",
        { class: `ans ans-${a || "none"}${must ? " must" : ""}`, title },
        chip(r.key, true),
        h("span", { class: "ans-mark", "aria-hidden": "true", text: mark }),
        h("span", { class: "visually-hidden", text: said }),
      );
    });
    const pendingRoles = (p.pending || []).map((k) => roleOf(k).name);
    const agreed = p.status === "agreed";
    // A counter to another role's proposal is also its author's rejection of that one.
    const countered = (t.proposals || []).find((q) => q.id === p.replaces);
    const counteredBy = (t.proposals || []).filter((q) => q.replaces === p.id && q.author !== p.author).map((q) => `#${q.id}`);
    return h(
      "li",
      { class: `prop${agreed ? " agreed" : ""}` },
      h(
        "p",
        { class: "prop-head" },
        ...sentence(gettext("%(id)s by %(role)s"), { id: h("span", { class: "prop-id", text: `#${p.id}` }), role: chip(p.author) }),
        p.replaces
          ? [" ", h("span", { class: "prop-meta", text: fmt(countered && countered.author !== p.author ? gettext("counters #%(id)s (and rejects it)") : gettext("replaces #%(id)s"), { id: p.replaces }) })]
          : null,
        counteredBy.length ? [" ", h("span", { class: "prop-meta", text: fmt(gettext("countered by %(ids)s"), { ids: counteredBy.join(", ") }) })] : null,
      ),
      h(
        "ul",
        { class: "terms" },
        Object.entries(p.terms || {}).map(([ik, ok]) => {
          const l = optionLabel(ik, ok);
          return h("li", {}, h("span", { class: "term-issue", text: l.issue }), ` ${l.option}`);
        }),
      ),
      h("ul", { class: "answers", "aria-label": gettext("Answers") }, answers),
      !agreed && pendingRoles.length ? h("p", { class: "needs", text: fmt(gettext("Waiting for %(roles)s"), { roles: pendingRoles.join(", ") }) }) : null,
    );
  }

  function outcome(t) {
    const o = t.outcome;
    if (!o) return null;
    const d = o.durability || {};
    const r = d.realized || {};
    const durability = pct(Number(d.expected_peace) || 0);
    const story = !o.agreement
      ? `${S.no_deal_text || gettext("No agreement")}.`
      : r.held
        ? fmt(gettext("Durability %(pct)s · held in the simulation"), { pct: durability })
        : r.collapse_year
          ? fmt(gettext("Durability %(pct)s · broke in year %(year)s (simulated)"), { pct: durability, year: r.collapse_year })
          : fmt(gettext("Durability %(pct)s"), { pct: durability });
    const scores = S.roles
      .filter((role) => o.scores?.[role.key])
      .map((role) => {
        const sc = o.scores[role.key];
        return h(
          "li",
          {},
          chip(role.key, true),
          " ",
          h("span", { class: "num", title: gettext("tactical score, then total") }, `${Math.round(sc.tactical)} → `, h("strong", { text: String(Math.round(sc.total)) })),
        );
      });
    return h(
      "div",
      { class: `tc-outcome ${o.agreement ? "deal" : "nodeal"}` },
      h("p", { text: story }),
      h("p", { class: "mini-legend", text: gettext("Scores: won at the table → total") }),
      h("ul", { class: "mini-scores", "aria-label": gettext("Scores: won at the table, then total") }, scores),
    );
  }

  function seats(t) {
    const playersById = new Map(S.players.map((p) => [p.id, p]));
    return (t.seats || []).map((seat) => {
      const people = (seat.players || []).map((p) => {
        const full = playersById.get(p.id);
        const standIn = full?.stand_in;
        const isBot = full ? full.bot : p.bot;
        const on = p.connected || isBot || standIn;
        const said = isBot ? gettext("bot") : p.connected ? gettext("online") : gettext("offline");
        return h(
          "span",
          { class: `person ${on ? "on" : "off"}` },
          h("span", { class: "conn-dot", "aria-hidden": "true" }),
          p.name,
          h("span", { class: "visually-hidden", text: `, ${said}` }),
          isBot ? [" ", h("span", { class: "mark-bot", text: gettext("bot") })] : null,
          standIn ? [" ", h("span", { class: "mark-away", text: gettext("away · bot plays") })] : null,
        );
      });
      return h("li", { class: "seat" }, chip(seat.role), h("span", { class: "seat-people" }, people.length ? people : h("span", { class: "seat-empty", text: gettext("empty seat") })));
    });
  }

  function proposals(t) {
    const open = (t.proposals || []).filter((p) => p.status === "open");
    const agreed = (t.proposals || []).find((p) => p.status === "agreed" || p.id === t.agreement);
    if (agreed) return h("div", { class: "tc-props" }, h("h4", { text: gettext("Agreement") }), h("ul", { class: "props" }, proposal(agreed, t)));
    if (open.length) {
      const shown = open.slice(-3).reverse();
      return h(
        "div",
        { class: "tc-props" },
        h("h4", {}, gettext("On the table"), " ", h("span", { class: "count num", text: String(open.length) })),
        h("ul", { class: "props" }, shown.map((p) => proposal(p, t))),
        open.length > 3 ? h("p", { class: "more", text: fmt(ngettext("+ %(n)s more in the transcript", "+ %(n)s more in the transcript", open.length - 3), { n: open.length - 3 }) }) : null,
      );
    }
    return t.started && !t.ended ? h("p", { class: "tc-quiet", text: gettext("No proposal on the table yet.") }) : null;
  }

  function badge(t) {
    if (t.agreement != null || t.outcome?.agreement) return h("span", { class: "agree-badge yes", text: `✓ ${gettext("Agreement")}` });
    if (t.ended) return h("span", { class: "agree-badge no", text: gettext("No deal") });
    if (t.started) return h("span", { class: "agree-badge pending", text: gettext("No agreement yet") });
    return null;
  }

  function card(t) {
    const st = status(t);
    const url = transcriptUrl(t.number);
    const news = (t.news || []).length
      ? h(
          "ul",
          { class: "tc-news", "aria-label": fmt(gettext("News that reached table %(n)s"), { n: t.number }) },
          t.news.map((k) => h("li", {}, h("span", { class: "tc-news-tag", text: gettext("News") }), ` ${S.news_items.find((n) => n.key === k)?.headline || k}`)),
        )
      : null;
    return h(
      "article",
      { class: "table-card card", dataset: { table: String(t.id), tone: st.tone } },
      h(
        "header",
        { class: "tc-head" },
        h(
          "h3",
          {},
          h("a", { href: url, target: "_blank", rel: "noopener" }, fmt(gettext("Table %(n)s"), { n: t.number }), h("span", { class: "visually-hidden", text: ` ${gettext("transcript (opens in a new tab)")}` })),
        ),
        badge(t),
      ),
      h("p", { class: `tc-status tone-${st.tone}`, text: st.label }),
      h("ul", { class: "seats" }, seats(t)),
      proposals(t),
      outcome(t),
      news,
      h(
        "p",
        { class: "tc-foot" },
        h("span", { class: "tc-activity" }, gettext("Last activity"), " ", h("span", { dataset: { ago: t.last_activity || "" }, text: ago(t.last_activity) })),
        " ",
        h(
          "a",
          { class: "tc-link", href: url, target: "_blank", rel: "noopener" },
          gettext("Transcript →"),
          h("span", { class: "visually-hidden", text: ` ${fmt(gettext("of table %(n)s, private channels included (opens in a new tab)"), { n: t.number })}` }),
        ),
      ),
    );
  }

  /** Every table's card in the grid, in order; a card is rebuilt only when what it shows changed. */
  function render(grid) {
    if (!S.tables.length) {
      if (!grid.querySelector(".empty")) grid.replaceChildren(h("p", { class: "empty", text: gettext("No tables yet: they open as students join.") }));
      return;
    }
    grid.querySelector(":scope > .empty")?.remove();
    const people = new Map(S.players.map((p) => [p.id, [p.bot, p.stand_in]]));
    // The scenario's words every card uses (the same for every card of this render).
    const words = JSON.stringify([S.session.phase?.name, S.roles, S.issues, S.news_items.map((n) => [n.key, n.headline]), S.no_deal_text]);
    keyedList(grid, S.tables, {
      key: (t) => t.id,
      // Everything a card shows: the table, its people's flags, and the words.
      sig: (t) => [t, (t.seats || []).map((seat) => (seat.players || []).map((p) => people.get(p.id))), words],
      build: card,
    });
  }

  return { render, status };
}
