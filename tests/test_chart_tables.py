"""Every chart carries its data in text: the debrief's charts each have a data table
(game/chart_tables.py) under them, and the admin's tabular inlines label every input.

Pure functions over the results that tests/test_charts.py builds with the real engine, then the
pages themselves through Django's test client.
"""

from __future__ import annotations

import json
import re

import pytest

from game import chart_tables, charts
from game.engine.scenario import Scenario
from game.services import clock, seating
from tests.test_charts import DEALS, DEFAULT, make_results


@pytest.fixture(scope="module")
def scenario():
    return Scenario.from_dict(json.loads(DEFAULT.read_text()))


@pytest.fixture(scope="module")
def results(scenario):
    res = make_results(scenario, DEALS)
    res["tables"].append({"table": 5, "id": 105, "ended": False, "outcome": None, "news": [], "seats": []})
    return res


def test_the_scatter_table_has_one_row_per_dot_with_its_numbers(results, scenario):
    t = chart_tables.scatter_table(results, scenario)
    assert t["head"][:4] == ["Table and role", "Tactical (won at the table)", "Durability", "Total"]
    assert len(t["rows"]) == 4 * len(scenario.roles)  # four finished tables; table 5 plays on
    by_name = {row[0]: row for row in t["rows"]}
    first = results["tables"][0]["outcome"]["scores"]["russia"]
    row = by_name["Table 1, Russia"]
    assert row[1:4] == [round(first["tactical"]), f"{round(first['durability'])}%", round(first["total"])]
    assert by_name["Table 3, Ukraine"][4] == "No deal"
    assert {r[4] for r in t["rows"]} <= {"Held", "No deal"} | {f"Broke in year {y}" for y in range(1, 11)}


def test_the_curves_table_has_each_deals_chance_year_by_year(results, scenario):
    t = chart_tables.curves_table(results, scenario)
    assert t["head"] == ["Table", *[f"Year {y}" for y in range(1, 11)], "The simulated peace"]
    deals = [r for r in t["rows"] if r[0].startswith("Table")]
    assert [r[0] for r in deals] == ["Table 1", "Table 2", "Table 4"]  # table 3 made no deal
    survival = results["tables"][0]["outcome"]["durability"]["survival"]
    assert deals[0][1:11] == [f"{round(100 * s)}%" for s in survival]
    assert t["rows"][-1][0] == "Typical ceasefire (the model's baseline)"
    # the chart's own description says the same numbers
    svg = charts.curves(results, scenario)
    assert f"Table 1: {round(100 * survival[-1])}% chance of holding 10 years" in svg


def test_the_causes_table_counts_the_tables(results):
    t = chart_tables.causes_table(results)
    assert t["head"] == ["Cause", "Tables"]
    assert sum(r[1] for r in t["rows"]) == sum(c["count"] for c in results["causes"])
    assert [r[1] for r in t["rows"]] == sorted((r[1] for r in t["rows"]), reverse=True)


def test_each_role_has_its_bars_as_a_table(results, scenario):
    for role in scenario.roles:
        t = chart_tables.role_table(results, scenario, role.key)
        assert t["caption"] == f"{role.name} at each table"
        assert [r[0] for r in t["rows"]] == ["Table 1", "Table 2", "Table 3 (no deal)", "Table 4"]
        assert all(r[1] == f"{role.name} {n}" for n, r in zip((1, 2, 3, 4), t["rows"], strict=True))


def test_nothing_finished_means_empty_tables_not_errors(scenario):
    empty = {"tables": [], "causes": []}
    assert chart_tables.scatter_table(empty, scenario)["rows"] == []
    assert chart_tables.curves_table(empty, scenario)["rows"] == []
    assert chart_tables.causes_table(empty)["rows"] == []


def _finished_session(make_session):
    session = make_session(tables=1, start=True)
    table = session.tables.get()
    for name in ("Ann", "Bo", "Cy", "Di"):
        seating.join(session.code, name)
    clock.end_session(session.pk)
    return session, table


def test_the_debrief_shows_every_charts_data_table(client, staff_user, make_session):
    session, _table = _finished_session(make_session)
    client.force_login(staff_user)
    html = client.get(f"/host/{session.code}/debrief/").content.decode()
    tables = re.findall(r'<details class="chart-data">.*?<caption>(.*?)</caption>', html, re.S)
    assert (
        "Each party at each table: what it won and how long its table&#x27;s peace could be expected to hold"
        in tables
    )
    assert sum(t.endswith(" at each table") for t in tables) == 4  # one per role
    # a table with no deal: no survival curve, so no curve table (its chart says so instead)
    assert "How long would each table" in html


def test_the_admins_tabular_rows_have_labelled_inputs(admin_client, default_scenario):
    html = admin_client.get(f"/admin/game/scenarioconfig/{default_scenario.pk}/change/").content.decode()
    for name in ("issues-0-key", "issues-2-DELETE", "phases-1-duration_seconds", "phases-2-agreement"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'aria-label="' in tag, tag
    assert 'aria-label="Phase 2: Duration' in html
    assert 'aria-label="Issue 3: Delete"' in html
    # the game's admin style (links told apart from text by more than colour) is on every admin page
    assert "game/admin.css" in admin_client.get("/admin/game/scenarioconfig/").content.decode()


def test_the_row_labels_and_data_tables_speak_the_readers_language(
    admin_client, client, staff_user, make_session, default_scenario
):
    """The accessibility additions are interface text like any other: in the reader's language."""
    from django.conf import settings

    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    html = admin_client.get(f"/admin/game/scenarioconfig/{default_scenario.pk}/change/").content.decode()
    assert 'aria-label="Phase 2: Dauer in Sekunden"' in html
    assert 'aria-label="Thema 3: Löschen"' in html
    assert 'aria-label="Neue Zeile (Phase): Dauer in Sekunden"' in html
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "uk"
    html = admin_client.get(f"/admin/game/scenarioconfig/{default_scenario.pk}/change/").content.decode()
    assert 'aria-label="Фаза 2: ' in html and 'aria-label="Phase 2: ' not in html

    session, _table = _finished_session(make_session)
    client.force_login(staff_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "uk"
    html = client.get(f"/host/{session.code}/debrief/").content.decode()
    assert "Дані у вигляді таблиці" in html and "The data as a table" not in html  # noqa: RUF001 (Ukrainian)
    captions = re.findall(r'<details class="chart-data">.*?<caption>(.*?)</caption>', html, re.S)
    assert captions and all(re.search("[а-яіїє]", c) for c in captions), captions  # noqa: RUF001 (Ukrainian)
    assert '<th scope="col">Стіл і роль</th>' in html  # noqa: RUF001 (Ukrainian)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    html = client.get(f"/host/{session.code}/debrief/").content.decode()
    assert "Les données sous forme de tableau" in html
    assert re.search(r'<td class="num">\d+[\u00a0\u202f]%</td>', html), "percentages in the French way"
