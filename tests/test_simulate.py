"""The balance report of bot-only games, and the simulate command that prints it."""

from __future__ import annotations

import json
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from game import simulate
from game.engine.scenario import Scenario

DEFAULT_JSON = Path(__file__).resolve().parents[1] / "game" / "scenarios" / "default.json"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario.from_dict(json.loads(DEFAULT_JSON.read_text(encoding="utf-8")))


def test_the_report_adds_up(scenario):
    r = simulate.balance(scenario, games=40, seed=5)
    assert r["games"] == 40 and 0 <= r["agreement_share"] <= 1
    assert sum(p["count"] for p in r["packages"]) == r["agreements"]
    assert sum(c["count"] for c in r["causes"]) == r["games"] - r["held"]
    assert [x["key"] for x in r["roles"]] == list(scenario.role_keys)
    for p in r["packages"]:
        assert [x["issue"] for x in p["labels"]] == [i.name for i in scenario.issues]
        assert 0 < p["p_hold"] <= p["expected_peace"] <= 1
    for x in r["roles"]:
        assert x["total"] is not None and x["colour"].startswith("#")
    if r["agreements"] < r["games"]:
        assert any(c["key"] == "no_deal" for c in r["causes"])
    assert simulate.balance(scenario, games=40, seed=5)["packages"] == r["packages"]


def test_a_scenario_without_a_zone_of_agreement_ends_without_deals():
    d = json.loads(DEFAULT_JSON.read_text(encoding="utf-8"))
    for role in d["roles"]:
        if role["key"] == "russia":
            role["no_deal_value"] = 95  # nothing beats it
    r = simulate.balance(Scenario.from_dict(d), games=10, seed=1)
    assert r["agreements"] == 0 and r["causes"] == [
        {
            "key": "no_deal",
            "label": "No agreement: the war went on",
            "count": 10,
            "share": 1.0,
            "after_deal": False,
        }
    ]
    assert "Agreement reached: 0 of 10 games" in simulate.format_report(r)


def test_a_thousand_games_of_the_default_scenario_finish_within_a_minute(scenario, capsys):
    start = time.process_time()
    r = simulate.balance(scenario, games=1000, seed=1)
    cpu = time.process_time() - start
    with capsys.disabled():
        print(
            f"\n1000 games: {r['elapsed']:.1f} s wall, {cpu:.1f} s CPU; "
            f"agreement share {r['agreement_share']:.1%}"
        )
    assert cpu < 60


@pytest.mark.django_db
def test_the_command_prints_the_report(default_scenario):
    out = StringIO()
    call_command("simulate", "--scenario", "default", "--games", "30", "--seed", "2", stdout=out)
    text = out.getvalue()
    for heading in ("Agreement reached:", "Packages agreed", "Scores by role", "What broke the peace"):
        assert heading in text
    for role in ("United States", "Russia", "Ukraine", "Europe"):
        assert role in text


@pytest.mark.django_db
def test_the_command_reads_a_file_and_speaks_json(tmp_path):
    out = StringIO()
    call_command("simulate", "--file", str(DEFAULT_JSON), "--games", "5", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["games"] == 5 and data["scenario"]["slug"] == "default"


@pytest.mark.django_db
def test_the_command_names_what_is_wrong():
    with pytest.raises(CommandError, match="No scenario has the slug 'nope'"):
        call_command("simulate", "--scenario", "nope", "--games", "1")
    with pytest.raises(CommandError, match="--games"):
        call_command("simulate", "--games", "0")
    with pytest.raises(CommandError, match="Unknown news"):
        call_command("simulate", "--file", str(DEFAULT_JSON), "--games", "1", "--news", "martians")
