"""Server-rendered SVG charts for the debrief (its presenters are in game/debrief.py).

Every function is pure: it reads ``host.results(session)`` (plain dicts, through
game/results_rows.py) and the engine ``Scenario`` and returns SVG text. No chart library, no script: the SVGs carry ``<title>``/``<desc>`` text alternatives, axis labels,
and a label or an initial beside every colour. Every chart is built through the element builder of
game/svg.py, which escapes every text and attribute value as it writes them: no markup is written
here by hand, and a chart reaches the page as the ``SafeString`` ``svg.document`` returns.

The picture the class must see: at every table somebody "won" (a high tactical score), but the
whole table shares one peace, and that peace rarely lasts. Tactically the parties may win;
strategically there can be no winners.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy

from game.results_rows import (
    WIN,
    baseline_curve,
    cause_label,
    clamp,
    collapse_causes,
    curve_rows,
    durability_of,
    ended_rows,
    has_deal,
    names_at,
    no_deal_values,
    pc,
    realized_of,
    role_order,
    scores_of,
    share_pct,
    story_of,
    whole,
    won_at_table,
)
from game.svg import Element, document, el, num, path, points

FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, Noto Sans, sans-serif"
INK = "#1b1f24"
SOFT = "#4a525c"
MUTED = "#5f6874"
LINE = "#c9ced6"
GRID = "#e6e9ee"
BAD = "#b3261e"
GOOD = "#1b7f4b"
PAPER = "#ffffff"
BAD_TINT = "#fbeae8"
GOOD_TINT = "#e7f3ec"
FALLBACK_COLOUR = "#6b7480"

# Lines of tables (not roles) on the survival chart: dark, distinct from the role palette.
TABLE_COLOURS = ("#332288", "#882255", "#1b1f24", "#6b4c2a", "#3d5a80", "#aa4499", "#4a525c", "#5c3d2e")
TABLE_DASHES = ("", "8 4", "2 4", "10 4 2 4", "", "8 4", "2 4", "10 4 2 4")

_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
_ID_UNSAFE = re.compile(r"[^a-z0-9_-]")


def _id(text: str) -> str:
    return _ID_UNSAFE.sub("-", str(text).lower())[:40] or "x"


def _truncate(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# --- roles ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleStyle:
    key: str
    name: str
    colour: str
    initial: str
    text_colour: str  # ink or white, whichever reads better on ``colour``
    mediator: bool = False  # not a party to the conflict: never "won most at the table"


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    chans = []
    for i in (0, 2, 4):
        c = int(h[i : i + 2], 16) / 255
        chans.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * chans[0] + 0.7152 * chans[1] + 0.0722 * chans[2]


def _text_on(colour: str) -> str:
    lum = _luminance(colour)
    ink = _luminance(INK)
    white_contrast = 1.05 / (lum + 0.05)
    ink_contrast = (lum + 0.05) / (ink + 0.05)
    return "#ffffff" if white_contrast >= ink_contrast else INK


_NAME_STOPWORDS = frozenset({"of", "the", "and", "for", "de", "la", "le", "du", "des", "del", "von", "van"})


def _name_marks(name: str) -> list[str]:
    """Candidate marks for a role's name, best first. Only the name before any bracket, colon or
    comma counts ('Russia (Minsk Group co-chair)' is Russia), and only its words of letters that
    are not small words ('Republic of Armenia' is Republic, Armenia)."""
    main = re.split(r"[(:,;\u2013\u2014]", name, maxsplit=1)[0].strip() or name
    words = re.findall(r"[^\W\d_]+", main) or re.findall(r"[^\W\d_]+", name) or ["?"]
    sig = [w for w in words if w.lower() not in _NAME_STOPWORDS] or words
    caps = [w for w in sig if w[0].isupper()] or sig
    marks = ["".join(w[0] for w in caps[:2]).upper() if len(caps) > 1 else caps[0][:1].upper()]
    marks.append(caps[-1][:2].capitalize())  # 'Republic of Armenia' -> 'Ar'
    marks.append(caps[0][:2].capitalize())
    marks.append("".join(w[0] for w in caps[:3]).upper())
    return marks


def _initials(roles: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Short, distinct marks for the roles: 'United States' -> 'US', 'Russia' -> 'R'; a one-letter
    mark whose letter another mark also starts with gets two letters ('Ukraine' -> 'Uk' beside
    'US'); marks still equal move on to the next candidate ('Republic of Armenia' and 'Republic of
    Azerbaijan' -> 'Ar', 'Az'), and last to the key."""
    cands = {key: _name_marks(name or key) for key, name in roles}
    pick = {key: 0 for key, _ in roles}
    out = {key: cands[key][0] for key, _ in roles}
    by_letter: dict[str, list[str]] = {}
    for key, _ in roles:
        by_letter.setdefault(out[key][0], []).append(key)
    for keys in by_letter.values():
        if len(keys) > 1:
            for key in keys:
                if len(out[key]) == 1:
                    pick[key] = 2 if cands[key][0] == cands[key][2][:1] else 1
                    out[key] = cands[key][pick[key]]
    for _ in range(4):
        counts: dict[str, int] = {}
        for key, _ in roles:
            counts[out[key]] = counts.get(out[key], 0) + 1
        clashing = [key for key, _ in roles if counts[out[key]] > 1]
        if not clashing:
            break
        for key in clashing:
            pick[key] += 1
            out[key] = cands[key][pick[key]] if pick[key] < len(cands[key]) else key[:3].capitalize()
    seen: dict[str, str] = {}
    for key, _ in roles:
        if out[key] in seen:
            out[key] = key[:3].capitalize()
        seen[out[key]] = key
    return out


def role_styles(scenario: Any, results: Mapping[str, Any] | None = None) -> dict[str, RoleStyle]:
    """Each role's name, colour (from the scenario), initial and readable text colour."""
    raw: list[tuple[str, str, str, bool]] = []
    for r in getattr(scenario, "roles", ()) or ():
        raw.append((str(r.key), str(r.name), str(r.colour), bool(getattr(r, "mediator", False))))
    if not raw and results:
        for r in results.get("roles", ()):
            raw.append(
                (
                    str(r.get("key")),
                    str(r.get("name") or r.get("key")),
                    str(r.get("colour") or ""),
                    bool(r.get("mediator")),
                )
            )
    initials = _initials([(k, n) for k, n, _, _ in raw])
    out = {}
    for key, name, colour, mediator in raw:
        c = colour if _COLOUR.match(colour or "") else FALLBACK_COLOUR
        out[key] = RoleStyle(key, name, c, initials[key], _text_on(c), mediator)
    return out


def style_of(styles: Mapping[str, RoleStyle], key: str) -> RoleStyle:
    s = styles.get(key)
    if s is not None:
        return s
    c = FALLBACK_COLOUR
    return RoleStyle(key, str(key).capitalize(), c, (str(key)[:2] or "?").capitalize(), _text_on(c))


# --- SVG frame ------------------------------------------------------------------------------


def _frame(uid: str, width: int, height: int, title: str, desc: str, body: list, cls: str = "") -> SafeString:
    uid = _id(uid)
    return document(
        el(
            "svg",
            el("title", title, id=f"{uid}-title"),
            el("desc", desc, id=f"{uid}-desc"),
            body,
            xmlns="http://www.w3.org/2000/svg",
            class_="chart " + cls,
            viewBox=f"0 0 {num(width)} {num(height)}",
            role="img",
            aria_labelledby=f"{uid}-title {uid}-desc",
            font_family=FONT,
            font_size=16,
            fill=INK,
        )
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 16,
    anchor: str = "start",
    weight: str = "normal",
    fill: str = INK,
    **extra: Any,
) -> Element:
    return el(
        "text",
        text,
        x=x,
        y=y,
        font_size=size,
        text_anchor=anchor if anchor != "start" else None,
        font_weight=weight if weight != "normal" else None,
        fill=fill,
        **extra,
    )


def _halo(colour: str) -> dict[str, Any]:
    """A label's halo, so that a line crossing it does not hide it."""
    return {"stroke": colour, "stroke_width": 5, "stroke_linejoin": "round", "paint_order": "stroke"}


def _cross(x: float, y: float) -> str:
    """An ✕ of 10 px centred on (x, y), as a path's ``d``."""
    return path(("M", x - 5, y - 5), ("L", x + 5, y + 5), ("M", x + 5, y - 5), ("L", x - 5, y + 5))


def _empty(uid: str, width: int, height: int, title: str, message: str, hint: str = "") -> SafeString:
    body = [
        el(
            "rect",
            x=1,
            y=1,
            width=width - 2,
            height=height - 2,
            rx=12,
            fill="#f7f8fa",
            stroke=LINE,
            stroke_dasharray="6 6",
        ),
        _text(
            width / 2,
            height / 2 - (6 if hint else -6),
            message,
            size=22,
            anchor="middle",
            weight="600",
            fill=SOFT,
        ),
        _text(width / 2, height / 2 + 26, hint, size=16, anchor="middle", fill=MUTED) if hint else None,
    ]
    return _frame(uid, width, height, title, message + (" " + hint if hint else ""), body, "chart-empty")


def _dot(
    cx: float,
    cy: float,
    r: float,
    s: RoleStyle,
    label: str,
    cls: str = "dot",
    data: Mapping[str, Any] | None = None,
) -> Element:
    size = max(9, round(r * (0.95 if len(s.initial) == 1 else 0.8)))
    return el(
        "g",
        el("title", label),
        el("circle", cx=cx, cy=cy, r=r, fill=s.colour, stroke="#ffffff", stroke_width=2),
        el(
            "text",
            s.initial,
            x=cx,
            y=cy,
            dy="0.35em",
            text_anchor="middle",
            font_size=size,
            font_weight="700",
            fill=s.text_colour,
            aria_hidden="true",
        ),
        class_=cls,
        **{f"data_{k}": v for k, v in (data or {}).items()},
    )


def _side_title(y: float, text: str) -> Element:
    """The title of a chart's vertical axis, written upwards beside it."""
    return el(
        "text",
        text,
        transform=f"translate(22 {num(y)}) rotate(-90)",
        text_anchor="middle",
        font_size=17,
        font_weight="600",
        fill=INK,
    )


def _legend(styles: Mapping[str, RoleStyle], keys: Sequence[str], x: float, y: float, width: float) -> list:
    """Role chips: a coloured dot with the initial, then the full name."""
    parts = []
    cx, cy = x, y
    for k in keys:
        s = style_of(styles, k)
        w = 34 + 10.5 * len(s.name)  # bold 16 px: Cyrillic runs wider than Latin
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 30
        parts.append(_dot(cx + 11, cy, 11, s, s.name, cls="legend-dot"))
        parts.append(_text(cx + 28, cy + 5.5, s.name, size=16, weight="600"))
        cx += w + 14
    return parts


# --- (a) the scatter ------------------------------------------------------------------------


def scatter(results: Mapping[str, Any], scenario: Any) -> SafeString:
    """Every party at every finished table: tactical score (x) against durability (y).

    One dot per role per table, in the role's colour with its initial; the parties of one table
    are joined by a line, because they share one peace. The lower-right corner is "won at the
    table, lost the peace"."""
    styles = role_styles(scenario, results)
    rows = ended_rows(results)
    title = gettext("Who won at the table, and did the peace last?")
    W, H = 960, 700
    if not rows:
        return _empty(
            "scatter",
            W,
            320,
            title,
            gettext("No table has finished yet."),
            gettext("End the session (or wait for agreements) to see every party here."),
        )
    keys = role_order(styles, rows)
    L, R, T, B = 86, 64, 24, 170
    pw, ph = W - L - R, H - T - B

    def X(v: Any) -> float:
        return L + pw * clamp(v) / 100

    def Y(v: Any) -> float:
        return T + ph * (1 - clamp(v) / 100)

    n_dots = sum(len(scores_of(r)) for r in rows)
    r = 14.0 if n_dots <= 40 else 11.0 if n_dots <= 100 else 8.5
    body: list[Element] = []
    # quadrants: tinted where the lesson lives
    body.append(el("rect", x=X(WIN), y=Y(WIN), width=X(100) - X(WIN), height=Y(0) - Y(WIN), fill=BAD_TINT))
    body.append(el("rect", x=X(WIN), y=Y(100), width=X(100) - X(WIN), height=Y(WIN) - Y(100), fill=GOOD_TINT))
    for v in (0, 25, 50, 75, 100):
        gcol = GRID if v != 50 else "#9aa3ad"
        style = {"stroke_width": 1.5, "stroke_dasharray": "6 5"} if v == 50 else {}
        body.append(el("line", x1=X(v), y1=Y(0), x2=X(v), y2=Y(100), stroke=gcol, **style))
        body.append(el("line", x1=X(0), y1=Y(v), x2=X(100), y2=Y(v), stroke=gcol, **style))
        body.append(_text(X(v), Y(0) + 24, str(v), size=15, anchor="middle", fill=SOFT, class_="num"))
        body.append(_text(X(0) - 10, Y(v) + 5, pc(v), size=15, anchor="end", fill=SOFT))
    body.append(el("rect", x=X(0), y=Y(100), width=pw, height=ph, fill="none", stroke=LINE))
    # quadrant labels (behind the dots, with a halo so a line crossing them does not hide them)
    q = 14
    body.append(
        _text(
            X(100) - q,
            Y(100) + 26,
            gettext("Won, and the peace was likely to last"),
            size=17,
            anchor="end",
            weight="700",
            fill=GOOD,
            **_halo(GOOD_TINT),
        )
    )
    body.append(
        _text(
            X(100) - q,
            Y(0) - q,
            gettext("Won at the table, peace unlikely to last"),
            size=17,
            anchor="end",
            weight="700",
            fill=BAD,
            **_halo(BAD_TINT),
        )
    )
    body.append(
        _text(
            X(0) + q,
            Y(100) + 26,
            gettext("Gave ground, peace likely to last"),
            size=15,
            fill=SOFT,
            **_halo(PAPER),
        )
    )
    body.append(
        _text(
            X(WIN) - q,
            Y(WIN) + 24,
            gettext("Lost at the table, peace unlikely"),
            size=15,
            anchor="end",
            fill=SOFT,
            **_halo(PAPER),
        )
    )
    # axis titles
    body.append(
        _text(
            L + pw / 2,
            Y(0) + 52,
            gettext("Tactical score: what the party won at the table (0 to 100)"),
            size=17,
            anchor="middle",
            weight="600",
        )
    )
    horizon = (
        getattr(getattr(scenario, "model", None), "horizon_years", None)
        or len(durability_of(rows[0]).get("survival") or ())
        or 10
    )
    ylabel = ngettext(
        "Durability: %% of the next %(years)s year at peace",
        "Durability: %% of the next %(years)s years at peace",
        horizon,
    ) % {"years": horizon}
    body.append(_side_title(T + ph / 2, ylabel))

    # place the dots: the parties of one table share one height (one peace), so dots that would
    # overlap are spread sideways, symmetrically around their true scores; a dot that still hits
    # another table's is nudged up or down by at most its radius.
    placed: list[tuple[float, float]] = []
    step = 2 * r + 2

    def free(x: float, y: float) -> bool:
        return all((x - a) ** 2 + (y - b) ** 2 >= (2 * r - 1) ** 2 for a, b in placed)

    def spread(xs: list[float]) -> list[float]:
        pos = list(xs)
        for _ in range(60):
            moved = False
            for i in range(1, len(pos)):
                if pos[i] - pos[i - 1] < step - 0.01:
                    mid = (pos[i] + pos[i - 1]) / 2
                    pos[i - 1], pos[i] = mid - step / 2, mid + step / 2
                    moved = True
            if not moved:
                break
        lo, hi = X(0), X(100)
        for i in range(len(pos)):
            pos[i] = max(pos[i], lo + i * step)
            if i:
                pos[i] = max(pos[i], pos[i - 1] + step)
        for i in range(len(pos) - 1, -1, -1):
            pos[i] = min(pos[i], hi - (len(pos) - 1 - i) * step)
            if i < len(pos) - 1:
                pos[i] = min(pos[i], pos[i + 1] - step)
        return pos

    lines, dots, labels = [], [], []
    no_deal_tables: list[int] = []
    n_won_lost = n_won_kept = n_total = n_dots = 0
    detail = []
    for row in rows:
        n = row.get("table")
        sc = scores_of(row)
        deal = has_deal(row)
        real = realized_of(row)
        held = bool(real.get("held"))
        story = story_of(real)
        items = []
        for k in keys:
            if k not in sc:
                continue
            tac, dur = clamp(sc[k].get("tactical")), clamp(sc[k].get("durability"))
            tot = clamp(sc[k].get("total"))
            items.append((k, style_of(styles, k), tac, dur, tot))
            n_dots += 1
            if style_of(styles, k).mediator:
                continue  # a mediator is drawn but is not a party that "won"
            n_total += 1
            # Whether the peace lasted is the table's realized story, not its expectation: a
            # deal that broke in year 3 is never counted as "won and kept the peace".
            won = deal and won_at_table(sc[k])
            n_won_lost += won and not held
            n_won_kept += won and held
        if not items:
            continue
        if deal:
            items.sort(key=lambda it: it[2])
            xs = spread([X(it[2]) for it in items])
            ys = []
            for (_k, _s, _tac, dur, _tot), cx in zip(items, xs, strict=True):
                cy = Y(dur)
                for dy in (0, -0.5, 0.5, -1, 1):
                    if free(cx, cy + dy * r):
                        cy += dy * r
                        break
                placed.append((cx, cy))
                ys.append(cy)
            y0 = Y(items[0][3])
            lines.append(
                el(
                    "line",
                    class_="table-line",
                    x1=xs[0],
                    y1=y0,
                    x2=xs[-1],
                    y2=y0,
                    stroke=SOFT,
                    stroke_width=2,
                    stroke_opacity="0.55",
                )
            )
            labels.append(
                _text(
                    xs[-1] + r + 6,
                    y0 + 5,
                    (gettext("T%(table)s · %(story)s") % {"table": n, "story": story})
                    if story
                    else gettext("T%(table)s") % {"table": n},
                    size=15,
                    weight="700",
                    fill=SOFT if held or not story else BAD,
                    class_="table-story " + ("held" if held else "broke"),
                )
            )
            parties = ", ".join(f"{it[1].name} {round(it[2])}" for it in items)
            detail.append(
                (
                    gettext("Table %(table)s (deal, durability %(durability)s, %(story)s): %(parties)s.")
                    if story
                    else gettext("Table %(table)s (deal, durability %(durability)s): %(parties)s.")
                )
                % {"table": n, "durability": round(items[0][3]), "story": story, "parties": parties}
            )
        else:
            j = len(no_deal_tables)
            no_deal_tables.append(n)
            ys = [Y(0) - r - 3 - j * step] * len(items)
            xs = [X(0) + r + 3 + i * step for i in range(len(items))]
            labels.append(
                _text(
                    xs[-1] + r + 6,
                    ys[0] + 5,
                    gettext("T%(table)s no deal") % {"table": n},
                    size=15,
                    weight="700",
                    fill=SOFT,
                )
            )
            detail.append(
                gettext("Table %(table)s: no deal, every party at tactical 0 and durability 0.")
                % {"table": n}
            )
        for (k, s, tac, dur, tot), cx, cy in zip(items, xs, ys, strict=True):
            values = {"table": n, "role": s.name, "tactical": round(tac), "durability": round(dur)}
            values.update(total=round(tot), story=story)
            if deal and story:
                label = (
                    gettext(
                        "Table %(table)s, %(role)s: tactical %(tactical)s, durability %(durability)s, "
                        "total %(total)s; the peace %(story)s"
                    )
                    % values
                )
            elif deal:
                label = (
                    gettext(
                        "Table %(table)s, %(role)s: tactical %(tactical)s, durability %(durability)s, "
                        "total %(total)s"
                    )
                    % values
                )
            else:
                label = (
                    gettext(
                        "Table %(table)s, %(role)s: tactical %(tactical)s, durability %(durability)s, "
                        "total %(total)s (no deal)"
                    )
                    % values
                )
            dots.append(_dot(cx, cy, r, s, label, data={"table": n, "role": k}))
    body += lines + dots + labels
    # legend
    ly = Y(0) + 88
    body.extend(_legend(styles, [k for k in keys if k in styles] or keys, L, ly, pw))
    # Two lines: in one, the sentence ran past the chart's right edge and was cut off.
    body.append(
        _text(
            L,
            ly + 40,
            gettext("A line joins the parties of one table: they share one peace."),
            size=14,
            fill=SOFT,
        )
    )
    body.append(
        _text(
            L,
            ly + 60,
            gettext("Its label says whether that peace held or broke in the table's simulated story."),
            size=14,
            fill=SOFT,
        )
    )
    desc = " ".join(
        [
            ngettext(
                "%(n)s finished table, %(deals)s with a deal.",
                "%(n)s finished tables, %(deals)s with a deal.",
                len(rows),
            )
            % {"n": len(rows), "deals": len(rows) - len(no_deal_tables)},
            ngettext(
                "Each of the %(n)s dots is one role at one table.",
                "Each of the %(n)s dots is one role at one table.",
                n_dots,
            )
            % {"n": n_dots},
            ngettext(
                "%(won_lost)s of %(n)s party won at the table (tactical %(win)s or more) but their "
                "table's peace broke down in the simulation; %(won_kept)s won and kept the peace.",
                "%(won_lost)s of %(n)s parties won at the table (tactical %(win)s or more) but their "
                "table's peace broke down in the simulation; %(won_kept)s won and kept the peace.",
                n_total,
            )
            % {"won_lost": n_won_lost, "n": n_total, "win": int(WIN), "won_kept": n_won_kept},
            *detail,
        ]
    )
    return _frame("scatter", W, H, title, desc, body, "chart-scatter")


# --- (b) each role across tables ------------------------------------------------------------

# Each bar: its field, its short name beside the bar, its full name (a bar's tooltip), and what the
# legend says the short name means.
SERIES = (
    (
        "tactical",
        pgettext_lazy("short name of the tactical bar", "won"),
        gettext_lazy("Tactical: what it won at the table"),
        gettext_lazy("what it won at the table"),
    ),
    (
        "durability",
        pgettext_lazy("short name of the durability bar", "peace"),
        gettext_lazy("Durability: per cent of the years at peace"),
        gettext_lazy("per cent of the years at peace"),
    ),
    (
        "total",
        pgettext_lazy("short name of the total bar", "total"),
        gettext_lazy("Total: the win, counting the war's return"),
        gettext_lazy("the win, counting the war's return"),
    ),
)
DURABILITY_FILL = "#9aa3ad"
TOTAL_FILL = "#2f3b48"


def role_charts(results: Mapping[str, Any], scenario: Any) -> list[dict[str, Any]]:
    """For each role, a bar chart of its players' tactical, durability and total scores at every
    finished table, with the role's no-deal score marked. Returns [{role, name, colour, initial,
    svg, summary}], one per role."""
    styles = role_styles(scenario, results)
    rows = ended_rows(results)
    out = []
    no_deal = no_deal_values(scenario)
    for key in role_order(styles, rows):
        s = style_of(styles, key)
        mine = [(row, scores_of(row)[key]) for row in rows if key in scores_of(row)]
        title = gettext("%(role)s: what it won, how long the peace lasted, and what that was worth") % {
            "role": s.name
        }
        summary: dict[str, Any] = {"tables": len(mine), "no_deal_value": no_deal.get(key)}
        if not mine:
            svg = _empty(
                f"role-{key}",
                960,
                200,
                title,
                gettext("No finished table has a %(role)s seat yet.") % {"role": s.name},
            )
            out.append(
                {
                    "role": key,
                    "name": s.name,
                    "colour": s.colour,
                    "initial": s.initial,
                    "svg": svg,
                    "summary": summary,
                }
            )
            continue
        W = 960
        X0, X1 = 300, 870
        TOP, ROW_H, BAR_H, GAP = 64, 78, 17, 4

        def X(v: Any, x0: float = X0, x1: float = X1) -> float:
            return x0 + (x1 - x0) * clamp(v) / 100

        H = TOP + ROW_H * len(mine) + 70
        body = []
        for v in (0, 25, 50, 75, 100):
            body.append(el("line", x1=X(v), y1=TOP - 8, x2=X(v), y2=TOP + ROW_H * len(mine) - 8, stroke=GRID))
            body.append(_text(X(v), TOP - 16, str(v), size=14, anchor="middle", fill=SOFT))
        nd = no_deal.get(key)
        if nd is not None:
            body.append(
                el(
                    "line",
                    class_="no-deal",
                    x1=X(nd),
                    y1=TOP - 8,
                    x2=X(nd),
                    y2=TOP + ROW_H * len(mine) - 8,
                    stroke=BAD,
                    stroke_width=2,
                    stroke_dasharray="5 4",
                )
            )
            body.append(
                _text(
                    X(nd),
                    20,
                    gettext("No deal = %(score)s") % {"score": round(nd)},
                    size=14,
                    anchor="middle",
                    weight="700",
                    fill=BAD,
                )
            )
        lines = []
        tac_sum = tot_sum = dur_sum = 0.0
        for i, (row, sc) in enumerate(mine):
            y = TOP + i * ROW_H
            n = row.get("table")
            deal = has_deal(row)
            names = names_at(row, key)
            body.append(_text(8, y + 18, gettext("Table %(table)s") % {"table": n}, size=17, weight="700"))
            body.append(
                _text(8, y + 39, _truncate(", ".join(names) or gettext("no player"), 26), size=14, fill=SOFT)
            )
            if not deal:
                body.append(_text(8, y + 58, gettext("no deal"), size=14, weight="700", fill=BAD))
            vals = []
            for j, (field, short, _long, _meaning) in enumerate(SERIES):
                v = clamp(sc.get(field))
                vals.append(v)
                by = y + j * (BAR_H + GAP)
                fill = (
                    s.colour
                    if field == "tactical"
                    else DURABILITY_FILL
                    if field == "durability"
                    else TOTAL_FILL
                )
                body.append(_text(X0 - 6, by + BAR_H - 3, str(short), size=13, fill=SOFT, anchor="end"))
                tip = gettext("Table %(table)s, %(role)s: %(series)s %(value)s") % {
                    "table": n,
                    "role": s.name,
                    "series": _long,
                    "value": round(v),
                }
                body.append(
                    el(
                        "rect",
                        el("title", tip),
                        class_=f"bar bar-{field}",
                        x=X0,
                        y=by,
                        width=max(X(v) - X0, 1.5),
                        height=BAR_H,
                        rx=3,
                        fill=fill,
                    )
                )
                body.append(
                    _text(
                        X(v) + 6,
                        by + BAR_H - 3,
                        pc(round(v)) if field == "durability" else str(round(v)),
                        size=14,
                        weight="700",
                        class_="num",
                    )
                )
            tac_sum += vals[0]
            dur_sum += vals[1]
            tot_sum += vals[2]
            line_values = {
                "table": n,
                "won": round(vals[0]),
                "peace": pc(round(vals[1])),
                "total": round(vals[2]),
            }
            lines.append(
                (
                    gettext("Table %(table)s: won %(won)s, peace %(peace)s, total %(total)s.")
                    if deal
                    else gettext("Table %(table)s (no deal): won %(won)s, peace %(peace)s, total %(total)s.")
                )
                % line_values
            )
        # legend
        ly = TOP + ROW_H * len(mine) + 20
        lx = 8
        for field, short, _long, meaning in SERIES:
            fill = (
                s.colour if field == "tactical" else DURABILITY_FILL if field == "durability" else TOTAL_FILL
            )
            legend = gettext("%(short)s: %(meaning)s") % {"short": short, "meaning": meaning}
            # The entries flow and wrap: in German or Ukrainian a fixed 300 px ran them into each other.
            w = 22 + 7.4 * len(legend)
            if lx + w > W - 8 and lx > 8:
                lx, ly = 8, ly + 24
            body.append(el("rect", x=lx, y=ly, width=16, height=16, rx=3, fill=fill))
            body.append(_text(lx + 22, ly + 13, legend, size=13, fill=SOFT))
            lx += w + 24
        H = max(H, ly + 16 + 24)
        m = len(mine)
        summary.update(
            {
                "mean_tactical": round(tac_sum / m),
                "mean_durability": round(dur_sum / m),
                "mean_total": round(tot_sum / m),
            }
        )
        head = (
            ngettext(
                "%(role)s at %(n)s finished table; its no-deal score is %(no_deal)s.",
                "%(role)s at %(n)s finished tables; its no-deal score is %(no_deal)s.",
                m,
            )
            if nd is not None
            else ngettext("%(role)s at %(n)s finished table.", "%(role)s at %(n)s finished tables.", m)
        ) % {"role": s.name, "n": m, "no_deal": round(nd) if nd is not None else ""}
        desc = " ".join([head, *lines])
        svg = _frame(f"role-{key}", W, H, title, desc, body, "chart-role")
        out.append(
            {
                "role": key,
                "name": s.name,
                "colour": s.colour,
                "initial": s.initial,
                "svg": svg,
                "summary": summary,
            }
        )
    return out


# --- (c) survival curves --------------------------------------------------------------------


def curves(results: Mapping[str, Any], scenario: Any) -> SafeString:
    """The survival curve of every table that made a deal, on one chart, with the year each
    collapsed (in its simulated story) marked, and the model's typical ceasefire for reference."""
    rows = ended_rows(results)
    title = gettext("How long would each table's peace hold?")
    W = 960
    deals = curve_rows(results)
    no_deal = [r.get("table") for r in rows if not has_deal(r)]
    if not deals:
        hint = (
            gettext("No table reached an agreement: there was no peace to hold.")
            if rows
            else gettext("No table has finished yet.")
        )
        return _empty("curves", W, 260, title, gettext("No survival curves to draw."), hint)
    H = 560
    L, R, T, B = 80, 236, 30, 78
    pw, ph = W - L - R, H - T - B
    years = max(len(durability_of(r)["survival"]) for r in deals)

    def X(t: float) -> float:
        return L + pw * t / years

    def Y(p: float) -> float:
        return T + ph * (1 - clamp(p, 0, 1))

    body = []
    for v in (0, 25, 50, 75, 100):
        body.append(el("line", x1=X(0), y1=Y(v / 100), x2=X(years), y2=Y(v / 100), stroke=GRID))
        body.append(_text(X(0) - 10, Y(v / 100) + 5, pc(v), size=15, anchor="end", fill=SOFT))
    for t in range(years + 1):
        body.append(el("line", x1=X(t), y1=Y(0), x2=X(t), y2=Y(0) + 6, stroke=SOFT))
        body.append(_text(X(t), Y(0) + 24, str(t), size=15, anchor="middle", fill=SOFT))
    body.append(el("line", x1=X(0), y1=Y(0), x2=X(years), y2=Y(0), stroke=SOFT))
    body.append(
        _text(L + pw / 2, H - 22, gettext("Years after the deal"), size=17, anchor="middle", weight="600")
    )
    body.append(_side_title(T + ph / 2, gettext("Chance the peace still holds")))
    end_labels: list[tuple[float, str, str]] = []
    base = baseline_curve(scenario)
    if base:
        pts = [(X(0), Y(1))] + [(X(i + 1), Y(s)) for i, s in enumerate(base[:years])]
        base_pct = pc(share_pct(base[min(years, len(base)) - 1]))
        base_tip = ngettext(
            "Typical ceasefire (the model's baseline): %(pct)s still holding after %(years)s year",
            "Typical ceasefire (the model's baseline): %(pct)s still holding after %(years)s years",
            years,
        ) % {"pct": base_pct, "years": years}
        body.append(
            el(
                "polyline",
                el("title", base_tip),
                class_="baseline",
                points=points(pts),
                fill="none",
                stroke="#9aa3ad",
                stroke_width=3,
                stroke_dasharray="3 6",
                stroke_linecap="round",
            )
        )
        end_labels.append((pts[-1][1], gettext("Typical ceasefire %(pct)s") % {"pct": base_pct}, "#6b7480"))
    detail = []
    for i, row in enumerate(deals):
        n = row.get("table")
        surv = [clamp(s, 0, 1) for s in durability_of(row)["survival"]]
        colour = TABLE_COLOURS[i % len(TABLE_COLOURS)]
        dash = TABLE_DASHES[i % len(TABLE_DASHES)]
        pts = [(X(0), Y(1))] + [(X(t + 1), Y(s)) for t, s in enumerate(surv)]
        real = realized_of(row)
        p_hold = share_pct(surv[-1])
        story = story_of(real)
        tip_values = {"table": n, "pct": pc(p_hold), "years": len(surv), "story": story}
        tip = (
            ngettext(
                "Table %(table)s: %(pct)s chance of holding %(years)s year; in the simulation it %(story)s",
                "Table %(table)s: %(pct)s chance of holding %(years)s years; in the simulation it %(story)s",
                len(surv),
            )
            if story
            else ngettext(
                "Table %(table)s: %(pct)s chance of holding %(years)s year",
                "Table %(table)s: %(pct)s chance of holding %(years)s years",
                len(surv),
            )
        ) % tip_values
        body.append(
            el(
                "polyline",
                el("title", tip),
                class_="curve",
                data_table=n,
                points=points(pts),
                fill="none",
                stroke=colour,
                stroke_width=3.5,
                stroke_linejoin="round",
                stroke_dasharray=dash or None,
            )
        )
        cy = real.get("collapse_year")
        if not real.get("held") and isinstance(cy, int) and 1 <= cy <= len(surv):
            mx, my = X(cy), Y(surv[cy - 1])
            collapse_tip = gettext(
                "Table %(table)s: in its simulated story the war came back in year %(year)s"
            ) % {
                "table": n,
                "year": cy,
            }
            body.append(
                el(
                    "g",
                    el("title", collapse_tip),
                    el("circle", cx=mx, cy=my, r=11, fill="#ffffff", stroke=BAD, stroke_width=2.5),
                    el("path", d=_cross(mx, my), stroke=BAD, stroke_width=2.5, stroke_linecap="round"),
                    class_="collapse",
                )
            )
        end_values = {"table": n, "pct": pc(p_hold), "year": cy}
        if real.get("held"):
            end_label = gettext("T%(table)s %(pct)s held") % end_values
        elif cy:
            end_label = gettext("T%(table)s %(pct)s broke yr %(year)s") % end_values
        else:
            end_label = gettext("T%(table)s %(pct)s") % end_values
        end_labels.append((pts[-1][1], end_label, colour))
        detail.append(tip + ".")
    # end labels, pushed apart so they do not overlap
    end_labels.sort(key=lambda e: e[0])
    gap = 20
    ys: list[float] = []
    for y, _, _ in end_labels:
        ys.append(max(y, ys[-1] + gap) if ys else y)
    overflow = ys[-1] - (Y(0) + 4) if ys else 0
    if overflow > 0:
        ys = [y - overflow for y in ys]
        for k in range(len(ys) - 2, -1, -1):
            ys[k] = min(ys[k], ys[k + 1] - gap)
    for (y, label, colour), ly in zip(end_labels, ys, strict=True):
        if abs(ly - y) > 2:
            body.append(
                el("line", x1=X(years) + 3, y1=y, x2=X(years) + 12, y2=ly, stroke=colour, stroke_width=1)
            )
        body.append(_text(X(years) + 14, ly + 5, label, size=15, weight="700", fill=colour))
    if no_deal:
        body.append(
            _text(
                X(years) - 8,
                T + 18,
                _truncate(
                    gettext("No deal (nothing to hold): %(tables)s")
                    % {"tables": ", ".join(gettext("T%(table)s") % {"table": t} for t in no_deal)},
                    60,
                ),
                size=15,
                anchor="end",
                weight="600",
                fill=BAD,
            )
        )
    desc = " ".join(
        [
            ngettext(
                "Survival curve of %(n)s deal: the chance the peace still holds each year after the deal.",
                "Survival curves of %(n)s deals: the chance the peace still holds each year after the deal.",
                len(deals),
            )
            % {"n": len(deals)},
            gettext("A circled cross marks the year a table's simulated story broke down."),
            *detail,
        ]
        + (
            [gettext("Tables with no deal: %(tables)s.") % {"tables": ", ".join(str(t) for t in no_deal)}]
            if no_deal
            else []
        )
    )
    return _frame("curves", W, H, title, desc, body, "chart-curves")


# --- (d) causes of collapse -----------------------------------------------------------------


def causes(results: Mapping[str, Any]) -> SafeString:
    """The most common causes of collapse across tables, as horizontal bars."""
    items = collapse_causes(results)
    title = gettext("Why the peace broke: the most common causes")
    W = 960
    if not items:
        hint = (
            gettext("No simulated peace broke down.")
            if ended_rows(results or {})
            else gettext("No table has finished yet.")
        )
        return _empty("causes", W, 220, title, gettext("No collapses to explain."), hint)
    ROW = 52
    T = 16
    H = T + ROW * len(items) + 16
    LX, X0, X1 = 396, 410, 820
    top = max(whole(c.get("count")) for c in items)
    body = []
    lines = []
    for i, c in enumerate(items):
        y = T + i * ROW
        n = whole(c.get("count"))
        label = cause_label(c)
        words = label.split()
        # wrap long labels onto two lines
        first, second = label, ""
        if len(label) > 40:
            acc = ""
            for k, w in enumerate(words):
                if len(acc) + len(w) + 1 > 40:
                    first, second = acc, " ".join(words[k:])
                    break
                acc = (acc + " " + w).strip()
            second = _truncate(second, 44)
        if second:
            body.append(_text(LX, y + 17, first, size=16, anchor="end", weight="600"))
            body.append(_text(LX, y + 37, second, size=16, anchor="end", weight="600"))
        else:
            body.append(_text(LX, y + 28, first, size=16, anchor="end", weight="600"))
        w = (X1 - X0) * n / top
        plural = ngettext("%(n)s table", "%(n)s tables", n) % {"n": n}
        fill = "#9aa3ad" if c.get("key") == "no_deal" else BAD
        body.append(
            el(
                "rect",
                el("title", label + ": " + plural),
                class_="bar",
                x=X0,
                y=y + 8,
                width=max(w, 2),
                height=28,
                rx=4,
                fill=fill,
            )
        )
        body.append(_text(X0 + w + 10, y + 28, plural, size=16, weight="700", class_="num"))
        lines.append(f"{label}: {n}.")
    desc = " ".join(
        [gettext("How many tables' peace broke down for each cause (or never started: no deal)."), *lines]
    )
    return _frame("causes", W, H, title, desc, body, "chart-causes")


# --- (e) a table's own curve ----------------------------------------------------------------


def sparkline(survival: Sequence[float], collapse_year: int | None = None, label: str = "") -> SafeString:
    """A small survival curve for a table card."""
    W, H, P = 220, 64, 6
    surv = [clamp(s, 0, 1) for s in survival or ()]
    title = label or gettext("Survival curve")
    if not surv:
        return _frame("spark", W, H, title, gettext("No curve: no deal."), [], "chart-spark")
    n = len(surv)

    def X(t: float) -> float:
        return P + (W - 2 * P) * t / n

    def Y(p: float) -> float:
        return P + (H - 2 * P) * (1 - p)

    pts = [(X(0), Y(1))] + [(X(i + 1), Y(s)) for i, s in enumerate(surv)]
    area = path(("M", X(0), Y(0)), *(("L", a, b) for a, b in pts), ("L", X(n), Y(0))) + " Z"
    body = [
        el("path", d=area, fill="#e7eef6"),
        el("polyline", points=points(pts), fill="none", stroke="#24527a", stroke_width=2.5),
        el("line", x1=P, y1=Y(0), x2=W - P, y2=Y(0), stroke=LINE),
    ]
    if collapse_year and 1 <= collapse_year <= n:
        mx, my = X(collapse_year), Y(surv[collapse_year - 1])
        body.append(el("path", d=_cross(mx, my), stroke=BAD, stroke_width=3, stroke_linecap="round"))
    desc = gettext("Chance of holding: %(first)s after year 1, %(last)s after year %(n)s.") % {
        "first": pc(share_pct(surv[0])),
        "last": pc(share_pct(surv[-1])),
        "n": n,
    }
    if collapse_year:
        desc += " " + gettext("The simulated story broke in year %(year)s.") % {"year": collapse_year}
    return _frame("spark", W, H, title, desc, body, "chart-spark")


__all__ = ["causes", "curves", "role_charts", "role_styles", "scatter", "sparkline", "style_of"]
