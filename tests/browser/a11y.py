"""Accessibility checks for the browser tests: axe-core (the npm package, installed by `make test`
into tests/browser/axe/node_modules, never from a CDN) run inside the page through Playwright.

The page's Content-Security-Policy refuses an injected <script> (``page.add_script_tag`` adds an
inline one without the nonce), so axe's source is evaluated through the DevTools protocol, which
the policy does not govern: the pages are checked under their real CSP.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# The WCAG 2.0, 2.1 and 2.2 rules of levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")

_source: str | None = None


def axe_source() -> str:
    global _source
    if _source is None:
        if not AXE_JS.exists():
            raise AssertionError(
                f"axe-core is not installed at {AXE_JS}: `make test` installs it "
                "(npm ci --prefix tests/browser/axe)"
            )
        _source = AXE_JS.read_text(encoding="utf-8")
    return _source


RUN_JS = """
async (tags) => {
  const r = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.map(String).join(" "), html: n.html, impact: n.impact,
                                 summary: n.failureSummary })),
  }));
}
"""


def run_axe(page) -> list[dict]:
    """Every WCAG A/AA violation axe finds in the page as it is now (all impacts)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(RUN_JS, WCAG_TAGS)


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(state: str, violations: list[dict]) -> str:
    """The rule, the element (selector and markup) and the page, for a failure message."""
    lines = []
    for v in violations:
        for n in v["nodes"]:
            html = " ".join(n["html"].split())
            if len(html) > 220:
                html = html[:220] + "…"
            lines.append(
                f"[{state}] {v['id']} ({v['impact']}): {v['help']}\n    at {n['target']}\n    {html}"
            )
    return "\n".join(lines)


class Sweep:
    """Collects axe's findings state by state, so one failing page does not hide the others, and
    writes a report (every state's violations by rule and impact) for the closing note."""

    def __init__(self, report: Path):
        self.report = report
        self.results: dict[str, list[dict]] = {}

    def check(self, page, state: str) -> list[dict]:
        found = run_axe(page)
        self.results[state] = found
        return found

    def counts(self) -> dict[str, dict]:
        out = {}
        for state, found in self.results.items():
            bad = blocking(found)
            out[state] = {
                "serious_or_critical": sum(len(v["nodes"]) for v in bad),
                "rules": dict(Counter({v["id"]: len(v["nodes"]) for v in bad})),
                "minor_or_moderate_rules": sorted({v["id"] for v in found if v["impact"] not in BLOCKING}),
            }
        return out

    def write(self) -> None:
        self.report.parent.mkdir(parents=True, exist_ok=True)
        self.report.write_text(json.dumps({"counts": self.counts(), "violations": self.results}, indent=1))

    def failures(self) -> str:
        return "\n".join(describe(s, blocking(v)) for s, v in self.results.items() if blocking(v))


# Sideways scrolling of the page itself: the elements that reach past the viewport's right edge
# outside any scroll region of their own (a table in an overflow-x container may scroll).
OVERFLOW_JS = """
() => {
  const W = document.documentElement.clientWidth;
  const sw = document.documentElement.scrollWidth;
  if (sw <= W) return null;
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 0.5) continue;
    let p = el.parentElement, scrolls = false;
    while (p && p !== document.body) {
      if (getComputedStyle(p).overflowX !== "visible") { scrolls = true; break; }
      p = p.parentElement;
    }
    if (scrolls) continue;
    const cls = typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\\s+/).join(".") : "";
    out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${cls} (right edge ${Math.round(r.right)})`);
  }
  return { scrollWidth: sw, width: W, elements: out.slice(0, 6) };
}
"""


def overflow(page) -> dict | None:
    """None if the page does not scroll sideways, else its width and the elements that stick out."""
    return page.evaluate(OVERFLOW_JS)


# What moves: every element (and its ::before and ::after) with a transition or an animation that
# lasts longer than nothing.
MOTION_JS = """
() => {
  const lasts = (v) => String(v).split(",").some((x) => parseFloat(x) > 0);
  const out = [];
  for (const el of document.querySelectorAll("*")) {
    for (const pseudo of [null, "::before", "::after"]) {
      const cs = getComputedStyle(el, pseudo);
      const t = lasts(cs.transitionDuration) && cs.transitionProperty !== "none";
      const a = cs.animationName !== "none" && lasts(cs.animationDuration);
      if (t || a) {
        const cls = typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\\\\s+/).join(".") : "";
        out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${cls}${pseudo || ""}: ${t ? "transition " + cs.transitionDuration : ""}${a ? " animation " + cs.animationName : ""}`);
      }
    }
  }
  return out;
}
"""


def moving(page, reduce: bool) -> list[str]:
    """The elements that transition or animate, with prefers-reduced-motion set or not."""
    page.emulate_media(reduced_motion="reduce" if reduce else "no-preference")
    try:
        return page.evaluate(MOTION_JS)
    finally:
        page.emulate_media(reduced_motion="no-preference")
