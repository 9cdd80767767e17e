"""Exports for researchers: one JSON document per session, and one tidy long CSV table.

The JSON export holds the scenario snapshot the session played, every seat, every event of
every table in order (private channels included), and each table's outcome, so together with
the scenario it is enough to recompute every outcome (see docs/export.md).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from game.models import Event, GameSession

EXPORT_VERSION = 1

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


def session_export(session: GameSession) -> dict[str, Any]:
    tables = list(session.tables.all())
    events_by_table: dict[int, list[Event]] = {t.pk: [] for t in tables}
    for e in Event.objects.filter(table__session=session).order_by("table_id", "seq"):
        events_by_table[e.table_id].append(e)
    return {
        "export_version": EXPORT_VERSION,
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
                "name": p.name,
                "table": next((t.number for t in tables if t.pk == p.table_id), None),
                "role": p.role or None,
                "bot": p.is_bot,
                "stand_in": p.stand_in,
                "removed": p.removed,
                "joined_at": p.joined_at.isoformat(),
            }
            for p in session.players.all()
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
                        "data": e.data,
                    }
                    for e in events_by_table[t.pk]
                ],
            }
            for t in tables
        ],
    }


def _rows(session: GameSession):
    data = session_export(session)
    code = data["session"]["code"]
    for p in data["players"]:
        yield {
            "session": code,
            "table": p["table"],
            "row_type": "seat",
            "role": p["role"],
            "player": p["name"],
            "detail": json.dumps({"bot": p["bot"], "stand_in": p["stand_in"], "removed": p["removed"]}),
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
                        "detail": json.dumps({"replaces": prop.get("replaces")}),
                    }
            elif e["kind"] == "proposal.answered":
                yield {**row, "role": d.get("role"), "proposal": d.get("proposal"), "answer": d.get("answer")}
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
                for measure in ("tactical", "durability", "total"):
                    yield {**base, "row_type": f"score.{measure}", "role": role, "value": sc.get(measure)}


def session_csv(session: GameSession) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in _rows(session):
        w.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return buf.getvalue()
