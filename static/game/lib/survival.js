// The client's survival curve: the chance the peace still holds at the end of each year, drawn
// in SVG for the player's own outcome and the live preview beside the proposal builder. (The
// debrief's curves are drawn by the server, game/charts.py; tests/browser/test_front_end_modules.py
// checks that both draw the same years at the same proportions.) Labels go in as text.

import { fmt, gettext, ngettext, pct, pgettext } from "../i18n.js";
import { svg as s } from "./dom.js";

let uid = 0;

const margins = (mini) => (mini ? { t: 8, r: 10, b: 18, l: 30 } : { t: 18, r: 64, b: 48, l: 76 });

/**
 * A survival curve: the chance the peace still holds at the end of each year.
 *
 * Returns {el, update(survival, opts)}. The element is created once and updated in place,
 * so a live preview changes without a flicker.
 *
 * options: width, height (viewBox units; the SVG scales to its container), mini (a small
 * sparkline without tick labels), title.
 */
export function survivalChart({ width = 640, height = 300, mini = false, title = gettext("Chance the peace holds, year by year") } = {}) {
  const id = `svgc${++uid}`;
  const m = margins(mini);
  const W = width - m.l - m.r;
  const H = height - m.t - m.b;
  const titleEl = s("title", { id: `${id}-t` }, title);
  const descEl = s("desc", { id: `${id}-d` }, "");
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: mini ? "chart chart-mini" : "chart chart-survival",
    role: "img",
    "aria-labelledby": `${id}-t ${id}-d`,
    preserveAspectRatio: "xMidYMid meet",
  }, [titleEl, descEl]);

  const grid = s("g", { class: "chart-grid" });
  const axes = s("g", { class: "chart-axes" });
  const area = s("path", { class: "chart-area" });
  const line = s("path", { class: "chart-line" });
  const dots = s("g", { class: "chart-dots" });
  const marks = s("g", { class: "chart-marks" });
  svg.append(grid, area, line, dots, axes, marks);

  let years = 0;
  const x = (t) => m.l + (years ? (t / years) * W : 0);
  const y = (v) => m.t + (1 - v) * H;

  function drawAxes(T) {
    grid.replaceChildren();
    axes.replaceChildren();
    const yTicks = mini ? [0, 0.5, 1] : [0, 0.25, 0.5, 0.75, 1];
    for (const v of yTicks) {
      grid.append(s("line", { x1: m.l, x2: m.l + W, y1: y(v), y2: y(v), class: v === 0 ? "axis-base" : "grid-line" }));
      axes.append(s("text", { x: m.l - 6, y: y(v), class: "tick tick-y", "text-anchor": "end", "dominant-baseline": "middle" }, pct(v)));
    }
    const step = mini ? T : T <= 12 ? 1 : Math.ceil(T / 10);
    for (let t = 0; t <= T; t += step) {
      const anchor = !mini ? "middle" : t === 0 ? "start" : "end";
      const label = !mini ? String(t) : t === 0 ? pgettext("chart: year 0", "now") : fmt(gettext("year %(n)s"), { n: t });
      axes.append(s("text", { x: x(t), y: m.t + H + (mini ? 14 : 20), class: "tick tick-x", "text-anchor": anchor }, label));
    }
    if (!mini) {
      axes.append(s("text", { x: m.l + W / 2, y: height - 6, class: "axis-label", "text-anchor": "middle" }, gettext("Years after the agreement")));
      axes.append(s("text", {
        x: 0, y: 0, class: "axis-label", "text-anchor": "middle",
        transform: `translate(18 ${m.t + H / 2}) rotate(-90)`,
      }, gettext("Chance the peace still holds")));
    }
  }

  /**
   * survival: values for years 1..T. opts: collapseYear (a marked year), empty (text shown
   * instead of a curve).
   */
  function update(survival, { collapseYear = null, empty = "" } = {}) {
    const T = survival ? survival.length : 0;
    if (T !== years || grid.childNodes.length === 0) {
      years = T || 10;
      drawAxes(years);
    }
    marks.replaceChildren();
    dots.replaceChildren();
    if (!T) {
      line.setAttribute("d", "");
      area.setAttribute("d", "");
      marks.append(s("text", { x: m.l + W / 2, y: m.t + H / 2, class: "chart-empty", "text-anchor": "middle", "dominant-baseline": "middle" }, empty));
      descEl.textContent = empty;
      return;
    }
    const pts = [[0, 1], ...survival.map((v, i) => [i + 1, v])];
    const d = pts.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join("");
    line.setAttribute("d", d);
    area.setAttribute("d", `${d}L${x(T).toFixed(1)},${y(0).toFixed(1)}L${x(0).toFixed(1)},${y(0).toFixed(1)}Z`);
    if (!mini) {
      for (const [t, v] of pts.slice(1)) dots.append(s("circle", { cx: x(t), cy: y(v), r: 3.5, class: "chart-dot" }));
    }
    const last = survival[T - 1];
    marks.append(s("text", {
      x: x(T) + (mini ? -2 : 8), y: y(last) + (mini ? -6 : 0), class: "end-label",
      "text-anchor": mini ? "end" : "start", "dominant-baseline": "middle",
    }, pct(last)));
    if (collapseYear) {
      const cx = x(collapseYear);
      marks.append(
        s("line", { x1: cx, x2: cx, y1: m.t, y2: m.t + H, class: "collapse-line" }),
        s("text", { x: cx + (collapseYear > T * 0.7 ? -6 : 6), y: m.t + 12, class: "collapse-label", "text-anchor": collapseYear > T * 0.7 ? "end" : "start" }, fmt(gettext("Collapsed in year %(year)s"), { year: collapseYear })),
      );
    }
    const mean = survival.reduce((a, b) => a + b, 0) / T;
    const parts = [
      fmt(ngettext("After %(n)s year the peace holds with %(last)s probability; expected share of the years at peace %(mean)s.", "After %(n)s years the peace holds with %(last)s probability; expected share of the years at peace %(mean)s.", T), {
        n: T,
        last: pct(last),
        mean: pct(mean),
      }),
      fmt(gettext("Year by year: %(years)s."), { years: survival.map((v, i) => fmt(gettext("year %(n)s %(pct)s"), { n: i + 1, pct: pct(v) })).join(", ") }),
    ];
    if (collapseYear) parts.push(fmt(gettext("In this game the peace collapsed in year %(year)s."), { year: collapseYear }));
    descEl.textContent = parts.join(" ");
  }

  return { el: svg, update };
}
