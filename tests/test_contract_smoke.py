"""Run the shared contract's conformance smoke test against a real Daphne server."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.infra import ROOT, Worker, manage, server_env

SMOKE = ROOT.parent / "shared" / "contract" / "smoke.py"

pytestmark = pytest.mark.timeout(180)


def test_the_shared_contract_smoke_test_passes_against_the_server():
    assert SMOKE.exists(), (
        f"the contract's smoke test is missing at {SMOKE} (shared/ lies beside the checkout)"
    )
    env = server_env(tempfile.mkdtemp(prefix="game-smoke-"))
    manage(env, "migrate", "--noinput")
    code = json.loads(manage(env, "create_session", "--tables", "1", "--start", "--json"))["code"]
    worker = Worker(env).start()
    try:
        for attempt in range(3):  # the second and third runs join teams to the same table
            out = subprocess.run(
                [sys.executable, str(SMOKE), worker.base, code], capture_output=True, text=True, timeout=60
            )
            assert out.returncode == 0, f"run {attempt}: {out.stdout}{out.stderr}"
            assert "smoke: all checks hold" in out.stdout
    finally:
        worker.stop()
    assert Path(worker.log.name).exists()
