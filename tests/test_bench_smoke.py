"""The load generator (bench/load.py) works end to end, on a tiny load.

It starts an embedded server of its own (one Daphne, in-memory layer, SQLite in a temporary
directory), joins 8 players to 2 tables as phones do (join page, form, player page, socket),
drives both the relay baseline and the game for a few seconds, then joins 8 more to a second
session while one table keeps playing. Only the report's structure and the delivery guarantees
are checked: no event lost, none duplicated, every seq stream gap-free. Timings are never
asserted (this machine is shared; docs/performance.md holds the measured figures).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(300)
def test_load_generator_reports_a_clean_run(tmp_path):
    out = tmp_path / "report.json"
    cmd = [sys.executable, str(ROOT / "bench" / "load.py"), "--config", "embedded", "--tables", "2"]
    cmd += ["--busy-tables", "1", "--interval", "1", "--duration", "4", "--drain", "10", "--quiesce", "5"]
    cmd += ["--json-out", str(out), "--quiet"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=280, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]

    doc = json.loads(out.read_text())
    assert {"date", "machine", "args", "reports", "verdicts"} <= doc.keys()
    (rep,) = doc["reports"]
    assert rep["config"] == "embedded" and rep["workers"] == 1 and rep["tables"] == 2

    for key in ("join", "join_busy"):
        join = rep[key]
        assert join["joined"] == join["players"] == 8, key
        assert join["seated"] == 8 and join["tables_complete"] == 2, key
        assert not join["failures"], key
        assert join["own_join_ms"]["n"] == 8 and {"get", "post", "play", "socket"} <= join["step_ms"].keys()
    busy = rep["busy"]
    assert busy["sockets"] == 4 and busy["sent_total"] > 0
    assert busy["incomplete_fanouts"] == 0 and busy["duplicates"] == 0 and busy["seq_gaps"] == 0
    assert {v["target"] for v in doc["verdicts"]} >= {"1", "2", "4"}

    for name in ("baseline", "game"):
        phase = rep[name]
        for key in ("fanout_ms", "throughput_events_per_s", "cpu_pct", "errors"):
            assert key in phase, (name, key)
        assert phase["sockets"] == 8
        assert phase["sent_total"] > 0 and phase["fanout_ms"]["n"] > 0
        assert {"p50", "p95", "p99", "max"} <= phase["fanout_ms"].keys()
        assert phase["incomplete_fanouts"] == 0, name
        assert phase["lost_deliveries"] == 0, name
        assert phase["duplicates"] == 0, name
        assert phase["disconnects"] == 0, name
        assert phase["connect_failures"] == 0, name
    assert rep["game"]["tables_complete"] == 2
    mem = rep["memory"]  # measured on fresh workers: one socket more per player, as many relay sockets
    assert mem["player_sockets"] == 8 and mem["relay_sockets"] == 8
    assert mem["player_kb_per_socket"] is not None and mem["relay_kb_per_socket"] is not None
    game = rep["game"]
    assert game["seq_gaps"] == 0 and game["seq_missing"] == 0 and game["seq_repeats"] == 0
    assert game["acks"] == game["sent_total"], game["errors"]
    assert not game["errors"] and game["rate_limited"] == 0
    assert set(game["sent"]) <= {"chat", "proposal", "answer"}
    assert {"p50", "p95", "p99", "throughput"} <= rep["ratio"].keys()
