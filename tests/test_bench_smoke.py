"""The load generator (bench/load.py) works end to end, on a tiny load.

It starts an embedded server of its own (one Daphne, in-memory layer, SQLite in a temporary
directory), joins 8 players to 2 tables, and drives both the relay baseline and the game for a
few seconds. Only the report's structure and the delivery guarantees are checked: no event
lost, none duplicated, every seq stream gap-free. Timings are never asserted (this machine is
shared; docs/performance.md holds the measured figures).
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
    cmd += ["--interval", "1", "--duration", "4", "--drain", "10", "--quiesce", "5"]
    cmd += ["--json-out", str(out), "--quiet"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=280, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]

    doc = json.loads(out.read_text())
    assert {"date", "machine", "args", "reports", "verdicts"} <= doc.keys()
    (rep,) = doc["reports"]
    assert rep["config"] == "embedded" and rep["workers"] == 1 and rep["tables"] == 2

    join = rep["join"]
    assert join["joined"] == join["players"] == 8
    assert join["seated"] == 8 and join["tables_complete"] == 2
    assert not join["failures"]

    for name in ("baseline", "game"):
        phase = rep[name]
        for key in ("fanout_ms", "throughput_events_per_s", "cpu_pct", "mem_kb_per_socket", "errors"):
            assert key in phase, (name, key)
        assert phase["sockets"] == 8
        assert phase["sent_total"] > 0 and phase["fanout_ms"]["n"] > 0
        assert {"p50", "p95", "p99", "max"} <= phase["fanout_ms"].keys()
        assert phase["incomplete_fanouts"] == 0, name
        assert phase["lost_deliveries"] == 0, name
        assert phase["duplicates"] == 0, name
        assert phase["disconnects"] == 0, name
        assert phase["connect_failures"] == 0, name
    game = rep["game"]
    assert game["seq_gaps"] == 0 and game["seq_missing"] == 0 and game["seq_repeats"] == 0
    assert game["acks"] == game["sent_total"], game["errors"]
    assert not game["errors"] and game["rate_limited"] == 0
    assert set(game["sent"]) <= {"chat", "proposal", "answer"}
    assert {"p50", "p95", "p99", "throughput", "mem_per_socket"} <= rep["ratio"].keys()
