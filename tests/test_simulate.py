"""The balance report: the simulate command and the staff page share game.simulate."""

from __future__ import annotations

import json
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import path

from game import simulate, views_balance
from game.engine.scenario import Scenario
from negotiation.urls import urlpatterns as project_urls

DEFAULT_JSON = Path(__file__).resolve().parents[1] / "game" / "scenarios" / "default.json"
BALANCE_URL = "host/scenario/<slug:slug>/balance/"

# The page's URL as it is to be added to negotiation/urls.py.
urlpatterns = [*project_urls, path(BALANCE_URL, views_balance.scenario_balance, name="scenario_balance")]


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
            "label": "No agreement: the war goes on",  # the scenario's no_deal_text
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


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_balance_page_is_for_staff_only(default_scenario):
    r = Client().get("/host/scenario/default/balance/")
    assert r.status_code == 302 and "login" in r["Location"]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_balance_page_shows_the_report_with_role_colours(default_scenario, staff_user):
    c = Client()
    c.force_login(staff_user)
    r = c.get("/host/scenario/default/balance/?games=20&seed=3")
    assert r.status_code == 200
    html = r.content.decode()
    assert (
        "Games ending in agreement" in html and "Packages agreed" in html and "What broke the peace" in html
    )
    for role in default_scenario.roles.all():
        assert role.colour in html and role.name in html
    assert "<svg" in html
    assert r.context["games"] == 20


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_balance_page_caps_the_games_and_shows_problems(default_scenario, staff_user, monkeypatch):
    c = Client()
    c.force_login(staff_user)
    asked = []
    real = simulate.balance
    monkeypatch.setattr(
        simulate, "balance", lambda sc, games, seed, **k: asked.append(games) or real(sc, 3, seed)
    )
    r = c.get("/host/scenario/default/balance/?games=100000&seed=abc")
    assert r.status_code == 200 and asked == [simulate.MAX_PAGE_GAMES]
    assert c.get("/host/scenario/nope/balance/").status_code == 404
    default_scenario.phases.update(agreement=False)
    r = c.get("/host/scenario/default/balance/")
    assert r.status_code == 200 and "cannot be played yet" in r.content.decode()


def test_the_page_lists_the_most_frequent_packages_and_sums_up_the_rest(scenario):
    report = simulate.balance(scenario, games=300, seed=4)
    shown = views_balance.display(report, scenario)
    assert len(shown["packages"]) == min(views_balance.TOP_PACKAGES, len(report["packages"]))
    assert sum(p["count"] for p in shown["packages"]) + shown["rest"]["games"] == report["agreements"]
    assert all(0 <= p["bar"] <= 100 for p in shown["packages"])
    assert shown["packages"][0]["bar"] == 100
