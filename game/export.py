"""Exports: for research, one JSON document per session and one tidy long CSV table; for grading,
one row per student.

The research exports are anonymised by default: every player is a participant code (``P01``,
``P02`` ... in the order they joined; bots ``B01`` ...), never a name, and private two-party
channels are left out. The instructor may choose to include private channels (``private``) or
real names (``names``): see docs/export.md, which also says what to tell students first. Chat
text is exported as written, so a name typed into a message stays in it.

The JSON export holds the scenario snapshot the session played, every seat, the table events in
order and each table's outcome, so together with the scenario it is enough to recompute every
outcome (see docs/export.md).
"""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

from game.models import Event, GameSession, Player

EXPORT_VERSION = 2

CSV_COLUMNS = [
    "session",
    "table",
    "row_type",
    "seq",
    "at",
    "kind",
    "audience",
    "channel",
    "role",
    "player",
    "proposal",
    "answer",
    "issue",
    "option",
    "text",
    "value",
    "detail",
]

GRADE_COLUMNS = [
    "name",
    "participant",
    "table",
    "role",
    "role_name",
    "status",
    "outcome",
    "tactical",
    "durability",
    "total",
    "no_deal_value",
    "session",
]


def participant_codes(players: list[Player]) -> dict[int, str]:
    """Each player's participant code: P01, P02 ... for students in the order they joined, B01 ...
    for bots. Stable for a session (the order of joining never changes)."""
    out: dict[int, str] = {}
    people = [p for p in players if not p.is_bot]
    bots = [p for p in players if p.is_bot]
    width = max(2, len(str(max(len(people), len(bots), 1))))
    for prefix, group in (("P", people), ("B", bots)):
        for i, p in enumerate(sorted(group, key=lambda p: (p.joined_at, p.pk)), start=1):
            out[p.pk] = f"{prefix}{i:0{width}d}"
    return out


def _anonymise(
    kind: str, data: dict[str, Any], by_name: dict[str, str], by_id: dict[int, str]
) -> dict[str, Any]:
    """An event's data with every player name replaced by the player's participant code."""

    def code(name: Any) -> Any:
        return by_name.get(str(name).lower(), "unknown") if name is not None else None

    if kind in ("chat.message", "presence") and "name" in data:
        data = {**data, "name": code(data["name"])}
    elif kind == "seats":
        data = copy.deepcopy(data)
        for seat in data.get("seats") or ():
            seat["names"] = [code(n) for n in seat.get("names") or ()]
            for pl in seat.get("players") or ():
                pl["name"] = by_id.get(pl.get("id"), code(pl.get("name")))
    return data


def session_export(session: GameSession, *, private: bool = False, names: bool = False) -> dict[str, Any]:
    """The research export. Anonymised (participant codes) and without private channels unless
    ``names`` or ``private`` say otherwise."""
    tables = list(session.tables.all())
    players = list(session.players.all())
    codes = participant_codes(players)
    by_name = {p.name.lower(): codes[p.pk] for p in players}
    events_by_table: dict[int, list[Event]] = {t.pk: [] for t in tables}
    qs = Event.objects.filter(table__session=session).order_by("table_id", "seq")
    if not private:
        qs = qs.exclude(audience__startswith="channel:")
    for e in qs:
        events_by_table[e.table_id].append(e)

    def data_of(e: Event) -> dict[str, Any]:
        return e.data if names else _anonymise(e.kind, e.data, by_name, codes)

    return {
        "export_version": EXPORT_VERSION,
        "anonymised": not names,
        "private_channels": private,
        "session": {
            "code": session.code,
            "title": session.title,
            "status": session.status,
            "seed": session.seed,
            "created_at": session.created_at.isoformat(),
            "started_at": session.started_at.isoformat() if session.started_at else None,
            "ended_at": session.ended_at.isoformat() if session.ended_at else None,
            "scenario_slug": session.scenario.slug,
        },
        "scenario": session.scenario_data,
        "players": [
            {
                "id": p.pk,
                "participant": codes[p.pk],
                **({"name": p.name} if names else {}),
                "table": next((t.number for t in tables if t.pk == p.table_id), None),
                "role": p.role or None,
                "bot": p.is_bot,
                "stand_in": p.stand_in,
                "removed": p.removed,
                "joined_at": p.joined_at.isoformat(),
            }
            for p in players
        ],
        "tables": [
            {
                "number": t.number,
                "id": t.pk,
                "seed": (session.seed * 1_000_003 + t.number) % (2**63),
                "state": t.state,
                "outcome": t.outcome,
                "events": [
                    {
                        "seq": e.seq,
                        "at": e.at.isoformat(),
                        "kind": e.kind,
                        "audience": e.audience,
                        "data": data_of(e),
                    }
                    for e in events_by_table[t.pk]
                ],
            }
            for t in tables
        ],
    }


def _rows(session: GameSession, *, private: bool = False, names: bool = False):
    data = session_export(session, private=private, names=names)
    code = data["session"]["code"]
    who = "name" if names else "participant"
    seated: dict[tuple[Any, Any], list[str]] = {}
    for p in data["players"]:
        if not p["removed"] and p["table"] is not None:
            seated.setdefault((p["table"], p["role"]), []).append(p[who])
        yield {
            "session": code,
            "table": p["table"],
            "row_type": "seat",
            "role": p["role"],
            "player": p[who],
            "detail": json.dumps(
                {
                    "bot": p["bot"],
                    "stand_in": p["stand_in"],
                    "removed": p["removed"],
                    "participant": p["participant"],
                }
            ),
        }
    for t in data["tables"]:
        base = {"session": code, "table": t["number"]}
        for e in t["events"]:
            d = e["data"]
            row = {
                **base,
                "row_type": "event",
                "seq": e["seq"],
                "at": e["at"],
                "kind": e["kind"],
                "audience": e["audience"],
            }
            if e["kind"] == "chat.message":
                row.update(
                    channel=d.get("channel"), role=d.get("role"), player=d.get("name"), text=d.get("text")
                )
                yield row
            elif e["kind"] == "proposal.made":
                prop = d.get("proposal", {})
                for issue, option in (prop.get("terms") or {}).items():
                    yield {
                        **row,
                        "role": prop.get("author"),
                        "proposal": prop.get("id"),
                        "issue": issue,
                        "option": option,
                        "text": prop.get("note"),
                        "detail": json.dumps(
                            {"replaces": prop.get("replaces"), "closed": d.get("closed") or []}
                        ),
                    }
            elif e["kind"] == "proposal.answered":
                yield {
                    **row,
                    "role": d.get("role"),
                    "proposal": d.get("proposal"),
                    "answer": d.get("answer"),
                    "detail": json.dumps({"counter": d.get("counter")}),
                }
            elif e["kind"] == "proposal.withdrawn":
                yield {**row, "proposal": d.get("proposal")}
            elif e["kind"] == "agreement.reached":
                yield {
                    **row,
                    "proposal": d.get("proposal"),
                    "detail": json.dumps({"terms": d.get("terms"), "signatories": d.get("signatories")}),
                }
            elif e["kind"] == "game.ended":
                yield {**row, "detail": json.dumps({"agreement": d.get("agreement")})}
            else:
                yield {**row, "detail": json.dumps(d, ensure_ascii=False)}
        outcome = t["outcome"]
        if outcome:
            dur = outcome.get("durability", {})
            for year, s in enumerate(dur.get("survival", []), start=1):
                yield {**base, "row_type": "survival", "value": s, "detail": json.dumps({"year": year})}
            realized = dur.get("realized") or {}
            yield {
                **base,
                "row_type": "realized",
                "value": realized.get("collapse_year"),
                "text": realized.get("cause"),
                "detail": json.dumps({"held": realized.get("held")}),
            }
            for f in dur.get("factors", []):
                yield {
                    **base,
                    "row_type": "factor",
                    "kind": f.get("key"),
                    "value": f.get("effect"),
                    "text": f.get("explanation"),
                }
            for role, sc in (outcome.get("scores") or {}).items():
                who_played = ";".join(seated.get((t["number"], role), []))
                for measure in ("tactical", "durability", "total"):
                    yield {
                        **base,
                        "row_type": f"score.{measure}",
                        "role": role,
                        "player": who_played,
                        "value": sc.get(measure),
                    }


# A spreadsheet treats a cell that begins with one of these as a formula (or, for tab and
# carriage return, may shift it into one): "=HYPERLINK(...)" typed in a chat would run on the
# researcher's machine. Such text cells get a leading apostrophe, which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula, prefixed with ``'``; numbers (a
    negative score, say) are left as numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def session_csv(session: GameSession, *, private: bool = False, names: bool = False) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in _rows(session, private=private, names=names):
        w.writerow({k: ("" if row.get(k) is None else neutralise(row.get(k))) for k in CSV_COLUMNS})
    return buf.getvalue()


def grade_rows(session: GameSession) -> list[dict[str, Any]]:
    """One row per student still in the session (bots and removed students are not graded): their
    name, participant code, table, role and scores. A student whose table is still negotiating
    has no scores yet; with no deal, the scores are the no-deal ones."""
    scenario = session.engine_scenario()
    roles = {r.key: r for r in scenario.roles}
    players = list(session.players.select_related("table").all())
    codes = participant_codes(players)
    rows = []
    for p in players:
        if p.is_bot or p.removed:
            continue
        t = p.table
        role = roles.get(p.role)
        outcome = t.outcome if t is not None else None
        sc = ((outcome or {}).get("scores") or {}).get(p.role) or {}
        if t is None or not p.role:
            result = "not seated"
        elif not outcome:
            result = "still negotiating"
        else:
            result = "agreement" if outcome.get("agreement") else "no deal"
        rows.append(
            {
                "name": p.name,
                "participant": codes[p.pk],
                "table": t.number if t is not None else None,
                "role": p.role or None,
                "role_name": role.name if role else None,
                "status": "a bot played for them" if p.stand_in else "played",
                "outcome": result,
                "tactical": sc.get("tactical"),
                "durability": sc.get("durability"),
                "total": sc.get("total"),
                "no_deal_value": role.no_deal_value if role else None,
                "session": session.code,
            }
        )
    rows.sort(key=lambda r: (r["table"] is None, r["table"] or 0, r["role"] or "", r["name"].lower()))
    return rows


def grades_csv(session: GameSession) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=GRADE_COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in grade_rows(session):
        w.writerow({k: ("" if row.get(k) is None else neutralise(row.get(k))) for k in GRADE_COLUMNS})
    return buf.getvalue()
