// A diverging bar for one factor's effect on the risk of collapse, on the player's outcome.

import { svg as s } from "./dom.js";

/**
 * A diverging bar around a centre line for one factor's effect (log hazard ratio).
 * Negative (lowers the risk) goes left, positive (raises it) goes right.
 */
export function effectBar(effect, maxAbs, { width = 220, height = 18 } = {}) {
  const half = width / 2;
  const scale = maxAbs > 0 ? (half - 2) / maxAbs : 0;
  const len = Math.max(Math.abs(effect) * scale, effect === 0 ? 0 : 2);
  const x0 = effect < 0 ? half - len : half;
  const cls = effect < 0 ? "bar-good" : effect > 0 ? "bar-bad" : "bar-none";
  return s("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", class: "effect-bar", "aria-hidden": "true", focusable: "false" }, [
    s("rect", { x: 0, y: 0, width, height, class: "bar-track", rx: 3 }),
    s("rect", { x: x0, y: 3, width: len, height: height - 6, class: cls, rx: 2 }),
    s("line", { x1: half, x2: half, y1: 0, y2: height, class: "bar-zero" }),
  ]);
}
