"""The debrief's SVG charts: valid XML, accessible, one dot per party, escaped, empty-safe.

Pure functions over plain dicts: no database needed. Results are built with the real engine
and the shipped default scenario, in the shape ``game.host.results`` returns.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from game import charts, debrief
from game.engine import scoring
from game.engine.scenario import Scenario
from game.svg import esc

SVG = "{http://www.w3.org/2000/svg}"
DEFAULT = Path(__file__).resolve().parents[1] / "game" / "scenarios" / "default.json"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario.from_dict(json.loads(DEFAULT.read_text()))


def make_results(scenario: Scenario, deals: list[tuple[tuple[str, ...] | None, tuple[str, ...]]]) -> dict:
    """``host.results``-shaped dict: one finished table per (options or None, news)."""
    rows, causes, effects = [], Counter(), []
    for n, (combo, news) in enumerate(deals, start=1):
        terms = dict(zip(scenario.issue_keys, combo, strict=True)) if combo else None
        outcome = scoring.outcome(scenario, terms, news=news, seed=n * 7)
        rows.append(
            {
                "table": n,
                "id": 100 + n,
                "ended": True,
                "outcome": outcome,
                "news": list(news),
                "seats": [{"role": r.key, "names": [f"{r.name} {n}"]} for r in scenario.roles],
            }
        )
        realized = outcome["durability"]["realized"]
        if not realized["held"]:
            causes[realized["cause_key"]] += 1
        if news and terms:
            before = scoring.outcome(scenario, terms)["durability"]["expected_peace"]
            after = outcome["durability"]["expected_peace"]
            effects.append(
                {
                    "table": n,
                    "news": list(news),
                    "expected_peace_without_news": before,
                    "expected_peace": after,
                    "change": after - before,
                }
            )
    labels = {f.key: f.label for f in scenario.model.factors}
    labels["no_deal"] = "No agreement: the war went on"
    return {
        "tables": rows,
        "causes": [{"key": k, "label": labels.get(k, k), "count": c} for k, c in causes.most_common()],
        "news_effects": effects,
        "roles": [{"key": r.key, "name": r.name, "colour": r.colour} for r in scenario.roles],
    }


DEALS = [
    (("freeze_line", "moratorium", "reassurance_force"), ("european_pledge",)),
    (("recognition_four_regions", "neutrality_demilitarised", "guarantors_with_veto"), ()),
    (None, ("summer_offensive",)),
    (("donbas_exchange", "alliance_pledge", "assurances_army_cap"), ()),
]


@pytest.fixture(scope="module")
def results(scenario: Scenario) -> dict:
    res = make_results(scenario, DEALS)
    # one table still negotiating: it must not appear in the charts
    res["tables"].append({"table": 5, "id": 105, "ended": False, "outcome": None, "news": [], "seats": []})
    return res


def parse(svg: str) -> ET.Element:
    assert svg.strip(), "a chart must never be an empty string"
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def assert_accessible(root: ET.Element) -> None:
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and (title.text or "").strip()
    assert desc is not None and (desc.text or "").strip()
    assert root.get("role") == "img"
    labelled = root.get("aria-labelledby", "").split()
    assert title.get("id") in labelled and desc.get("id") in labelled


def dots(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "dot"]


def all_text(root: ET.Element) -> str:
    return " ".join(t for el in root.iter() for t in (el.text, el.tail) if t)


# --- scatter --------------------------------------------------------------------------------


def test_scatter_has_one_dot_per_role_per_ended_table(results, scenario):
    root = parse(charts.scatter(results, scenario))
    assert_accessible(root)
    got = Counter((d.get("data-table"), d.get("data-role")) for d in dots(root))
    expected = {(str(n), r.key) for n in (1, 2, 3, 4) for r in scenario.roles}
    assert set(got) == expected
    assert all(v == 1 for v in got.values())
    assert "5" not in {d.get("data-table") for d in dots(root)}


def test_scatter_dots_carry_role_colour_and_initial(results, scenario):
    root = parse(charts.scatter(results, scenario))
    styles = charts.role_styles(scenario)
    for d in dots(root):
        style = styles[d.get("data-role")]
        circle = d.find(f"{SVG}circle")
        label = d.find(f"{SVG}text")
        assert circle.get("fill") == style.colour
        assert label.text == style.initial
        assert style.name in d.find(f"{SVG}title").text


def test_scatter_names_the_quadrants_and_axes(results, scenario):
    text = all_text(parse(charts.scatter(results, scenario)))
    assert "Won at the table, peace unlikely to last" in text
    assert "Won, and the peace was likely to last" in text
    assert "Tactical score" in text and "Durability" in text


def test_initials_are_distinct(scenario):
    styles = charts.role_styles(scenario)
    initials = [s.initial for s in styles.values()]
    assert len(set(initials)) == len(initials)
    assert styles["us"].initial == "US"


@pytest.mark.parametrize(
    ("names", "marks"),
    [
        (["United States", "Russia", "Ukraine", "Europe"], ["US", "R", "Uk", "E"]),
        (["Armenia", "Azerbaijan", "Russia (Minsk Group co-chair)"], ["Ar", "Az", "R"]),
        (
            [
                "Republic of Armenia: President Sargsyan",
                "Republic of Azerbaijan: President Aliyev",
                "Russia, co-chair of the OSCE Minsk Group",
            ],
            ["Ar", "Az", "Ru"],
        ),
        (["North", "North", ""], ["A", "B", "C"]),  # same names: the keys
    ],
)
def test_initials_are_letters_of_the_name_and_distinct_even_for_long_names(names, marks):
    got = charts._initials([(k, n) for k, n in zip("abcd", names, strict=False)])
    assert list(got.values())[: len(marks)] == marks
    assert len(set(got.values())) == len(got)
    assert all(m.replace(" ", "").isalpha() for m in got.values())


# --- the other charts -----------------------------------------------------------------------


def test_role_charts_one_per_role(results, scenario):
    out = charts.role_charts(results, scenario)
    assert [c["role"] for c in out] == [r.key for r in scenario.roles]
    for c in out:
        root = parse(c["svg"])
        assert_accessible(root)
        assert c["name"] and c["colour"].startswith("#")
        bars = [r for r in root.iter(f"{SVG}rect") if (r.get("class") or "").startswith("bar ")]
        assert len(bars) == 3 * 4  # tactical, durability, total at each of the 4 finished tables
        assert c["summary"]["tables"] == 4


def test_curves_draw_every_deal(results, scenario):
    root = parse(charts.curves(results, scenario))
    assert_accessible(root)
    curves = [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "curve"]
    assert sorted(p.get("data-table") for p in curves) == ["1", "2", "4"]  # table 3 had no deal
    assert "No deal" in all_text(root)


def test_causes_lists_every_cause(results):
    root = parse(charts.causes(results))
    assert_accessible(root)
    text = all_text(root)
    for c in results["causes"]:
        assert c["label"] in text or c["label"][:30] in text


def test_table_cards_tell_each_story(results, scenario):
    cards = debrief.table_cards(results, scenario)
    assert [c["number"] for c in cards] == [1, 2, 3, 4, 5]
    one = cards[0]
    assert one["deal"] and one["terms"][0]["issue"] == "Exchange of territory"
    assert one["news_effect"] and one["news_effect"]["headlines"]
    parse(one["spark"])
    assert not cards[2]["deal"] and cards[2]["status"] == "No deal"
    assert not cards[4]["has_outcome"]
    s = cards.summary
    assert s["finished"] == 4 and s["deals"] == 3 and s["open"] == 1
    assert s["parties"] == 16
    assert s["best"]["tactical"] >= s["winners_tactical"] >= s["winners_total"]


# --- hostile text and empty sessions --------------------------------------------------------


def test_hostile_labels_are_escaped(results, scenario):
    data = scenario.to_dict()
    data["roles"][0]["name"] = '<script>alert("x")</script> & "Co"'
    data["roles"][1]["colour"] = 'red" onload="alert(1)'
    hostile = Scenario.from_dict(data)
    res = copy.deepcopy(results)
    res["causes"] = [{"key": "evil", "label": "<b>boom</b> & ]]>", "count": 2}]
    res["tables"][0]["seats"][0]["names"] = ["</text><script>x()</script>\x07"]
    outputs = [
        charts.scatter(res, hostile),
        charts.curves(res, hostile),
        charts.causes(res),
        *(c["svg"] for c in charts.role_charts(res, hostile)),
    ]
    for svg in outputs:
        root = parse(svg)
        assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
        assert "<script>" not in svg and "<b>" not in svg
        for el in root.iter():
            assert not any(k.startswith("on") for k in el.attrib)
    text = all_text(parse(charts.scatter(res, hostile)))
    assert '<script>alert("x")</script> & "Co"' in text  # shown as text, not markup
    assert "<b>boom</b> & ]]>" in all_text(parse(charts.causes(res)))
    assert esc("<&>\"'") == "&lt;&amp;&gt;&quot;&#39;"


@pytest.mark.parametrize(
    "res",
    [
        {"tables": [], "causes": [], "news_effects": [], "roles": []},
        {
            "tables": [{"table": 1, "id": 1, "ended": False, "outcome": None, "news": [], "seats": []}],
            "causes": [],
            "news_effects": [],
            "roles": [],
        },
        {},
    ],
    ids=["no tables", "none ended", "nothing at all"],
)
def test_empty_results_give_valid_charts(res, scenario):
    for svg in (charts.scatter(res, scenario), charts.curves(res, scenario), charts.causes(res)):
        root = parse(svg)
        assert_accessible(root)
        assert not dots(root)
    for c in charts.role_charts(res, scenario):
        assert_accessible(parse(c["svg"]))
    cards = debrief.table_cards(res, scenario)
    assert cards.summary["finished"] == 0 and cards.summary["best"] is None


def test_only_no_deal_tables(scenario):
    res = make_results(scenario, [(None, ()), (None, ("summer_offensive",))])
    root = parse(charts.scatter(res, scenario))
    assert len(dots(root)) == 8
    curves = parse(charts.curves(res, scenario))
    assert "no peace to hold" in all_text(curves).lower()
    causes = parse(charts.causes(res))
    assert "No agreement" in all_text(causes)
    cards = debrief.table_cards(res, scenario)
    assert cards.summary["deals"] == 0 and cards.summary["no_deals"] == 2
    assert all(c["spark"] == "" for c in cards)


def ended_table(n: int, scores: dict, held: bool) -> dict:
    """One finished table of host.results with a deal, these scores, and a simulated peace that
    held or broke in year 3."""
    realized = {"held": held, "collapse_year": None if held else 3, "cause": "x", "cause_key": "baseline"}
    return {
        "table": n,
        "id": n,
        "ended": True,
        "news": [],
        "seats": [],
        "outcome": {
            "agreement": {
                "territory": "freeze_line",
                "nato": "moratorium",
                "guarantees": "reassurance_force",
            },
            "durability": {
                "survival": [0.9] * 10,
                "p_hold": 0.5,
                "expected_peace": 0.7,
                "realized": realized,
            },
            "scores": scores,
        },
    }


def test_the_summary_and_the_scatter_follow_each_tables_realized_story(scenario):
    """A deal that broke in year 3 is never counted as "won and kept the peace", however high its
    durability: the debrief's words agree with the table's story (and with "deals that broke")."""
    scores = {
        "us": {"tactical": 80.0, "durability": 70.0, "total": 60.0},
        "russia": {"tactical": 60.0, "durability": 70.0, "total": 50.0},
        "ukraine": {"tactical": 30.0, "durability": 70.0, "total": 40.0},
        "europe": {"tactical": 55.0, "durability": 70.0, "total": 45.0},
    }

    def table(n, held):
        return ended_table(n, scores, held)

    broke = {"tables": [table(1, False)], "roles": [], "causes": [], "news_effects": []}
    s = debrief.table_cards(broke, scenario).summary
    assert (s["collapsed"], s["deals"]) == (1, 1)
    assert s["won_kept"] == 0 and s["won_lost"] == 3
    svg = charts.scatter(broke, scenario)
    text = all_text(parse(svg))
    assert "T1 · broke in year 3" in text
    assert "Won, and the peace lasted" not in text
    assert "0 won and kept the peace" in svg
    held = {"tables": [table(1, True)], "roles": [], "causes": [], "news_effects": []}
    s = debrief.table_cards(held, scenario).summary
    assert s["won_kept"] == 3 and s["won_lost"] == 0
    assert "T1 · held" in all_text(parse(charts.scatter(held, scenario)))


@pytest.mark.parametrize(
    "tactical, counted",
    [(49.4, False), (49.6, True), (50.0, True), (50.4, True)],
)
def test_the_scatter_and_the_summary_count_a_winner_as_the_debrief_prints_its_score(
    scenario, tactical, counted
):
    """ "Won at the table" is one rule: the tactical score as printed (a whole number) is 50 or
    more. The scatter's description and the debrief's summary sit on one slide; before, the
    scatter compared the raw 49.6 and the summary the printed 50, and the two numbers differed."""
    scores = {
        "us": {"tactical": tactical, "durability": 70.0, "total": 55.0},
        "russia": {"tactical": 20.0, "durability": 70.0, "total": 40.0},
        "ukraine": {"tactical": 20.0, "durability": 70.0, "total": 40.0},
        "europe": {"tactical": 20.0, "durability": 70.0, "total": 40.0},
    }
    row = ended_table(1, scores, held=True)
    res = {"tables": [row], "roles": [], "causes": [], "news_effects": []}
    cards = debrief.table_cards(res, scenario)
    s = cards.summary
    assert s["won_kept"] == (1 if counted else 0) and s["won_lost"] == 0
    shown = next(e for e in cards[0]["scores"] if e["key"] == "us")["tactical"]
    assert (shown >= 50) == counted
    svg = str(charts.scatter(res, scenario))
    assert f"{s['won_kept']} won and kept the peace" in svg
    assert f"{s['won_lost']} of {s['parties']} parties won at the table" in svg
