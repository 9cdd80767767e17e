"""The SVG element builder (game/svg.py): text and attribute values are escaped by construction,
numbers written one way, and only the finished document is safe to insert into a page.

And the charts (game/charts.py) are built through it alone: no markup is written by hand there, so
hostile text (a role's name, a player's name, a cause's label, a table's label) is shown as text in
every chart, never read as markup."""

from __future__ import annotations

import ast
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeString

from game import charts, debrief, svg
from game.engine.scenario import Scenario
from tests.test_charts import DEALS, SVG, all_text, make_results

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert('x')</script> & \"Co\" ]]> <!-- -->"


def test_text_and_attribute_values_are_escaped():
    out = str(svg.el("text", HOSTILE, x=1, fill='red" onload="alert(1)'))
    assert "<script>" not in out and 'onload="' not in out
    root = ET.fromstring(out)
    assert root.text == HOSTILE
    assert root.get("fill") == 'red" onload="alert(1)'
    assert list(root.attrib) == ["x", "fill"]


def test_characters_xml_cannot_hold_are_dropped():
    root = ET.fromstring(str(svg.el("title", "a\x07b\ufffe\x00c")))
    assert root.text == "abc"


def test_numbers_are_written_once_the_same_way():
    out = str(svg.el("rect", x=10, y=2.25, width=1e-7, height=-0.5, rx=1234567.0))
    assert out == '<rect x="10" y="2.2" width="0" height="-0.5" rx="1234567"/>'
    assert svg.points([(1, 2.5), (3.04, 4)]) == "1,2.5 3,4"
    assert svg.path(("M", 1, 2), ("L", 3.5, 4)) == "M1,2 L3.5,4"


def test_names_children_and_empty_elements():
    out = str(
        svg.el(
            "g",
            svg.el("title", ""),
            [svg.el("circle", r=2), None, [svg.el("text", 7, class_="num")]],
            class_="dot",
            data_table=3,
            stroke_width=None,
            aria_hidden="true",
        )
    )
    assert out == (
        '<g class="dot" data-table="3" aria-hidden="true"><title></title><circle r="2"/>'
        '<text class="num">7</text></g>'
    )


def test_only_the_document_is_safe():
    tree = svg.el("svg", svg.el("title", HOSTILE))
    assert not isinstance(str(tree), SafeString)
    doc = svg.document(tree)
    assert isinstance(doc, SafeString) and doc == str(tree)
    # A template inserts the document as it is, and escapes anything else (a str that was
    # not built by the builder is never trusted).
    page = Template("{{ chart }}|{{ raw }}").render(Context({"chart": doc, "raw": "<svg><script>"}))
    assert page.startswith("<svg><title>&lt;script&gt;") and page.endswith("|&lt;svg&gt;&lt;script&gt;")


def test_no_markup_is_written_by_hand_in_the_charts():
    """Every chart goes through the builder: no string in charts.py (or in the debrief's
    presenters, or the charts' data tables) holds a tag, so nothing can reach the page without
    being escaped."""
    tag = re.compile(r"<\s*/?\s*[A-Za-z!?]")
    for module in ("game/charts.py", "game/debrief.py", "game/results_rows.py", "game/chart_tables.py"):
        tree = ast.parse((ROOT / module).read_text())
        strings = [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and not _is_docstring(tree, n)
        ]
        found = [s for s in strings if tag.search(s)]
        assert not found, f"{module} writes markup by hand: {found[:3]}"
        assert "mark_safe" not in (ROOT / module).read_text(), f"{module} marks text safe by itself"


def _is_docstring(tree: ast.AST, node: ast.Constant) -> bool:
    for n in ast.walk(tree):
        if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef) and n.body:
            first = n.body[0]
            if isinstance(first, ast.Expr) and first.value is node:
                return True
    return False


def test_templates_insert_no_chart_with_safe():
    """The charts reach the debrief as SafeStrings: a template that said ``|safe`` would also pass
    a plain string through unescaped."""
    page = (ROOT / "templates" / "game" / "debrief.html").read_text()
    assert "|safe" not in page


# --- hostile text in every chart --------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario.from_dict(json.loads((ROOT / "game" / "scenarios" / "default.json").read_text()))


@pytest.fixture(scope="module")
def hostile(scenario):
    data = scenario.to_dict()
    for i, role in enumerate(data["roles"]):
        role["name"] = f"{HOSTILE} {i}"
    data["issues"][0]["name"] = HOSTILE
    data["issues"][0]["options"][0]["label"] = HOSTILE
    bad = Scenario.from_dict(data)
    res = make_results(scenario, DEALS)
    for row in res["tables"]:
        for seat in row["seats"]:
            seat["names"] = [f"</text>{HOSTILE}"]
    res["causes"] = [
        {"key": "evil", "label": HOSTILE, "count": 2},
        {"key": "baseline", "label": "", "count": 1},
    ]
    return bad, res


def _charts(scenario, res) -> tuple[list[str], list[str]]:
    """The charts that show a hostile name, and the others (the survival curves and the table cards'
    sparklines show tables, not names)."""
    cards = debrief.table_cards(res, scenario)
    named = [
        charts.scatter(res, scenario),
        charts.causes(res),
        *(c["svg"] for c in charts.role_charts(res, scenario)),
        charts.sparkline([0.9, 0.5], 2, HOSTILE),
    ]
    return named, [charts.curves(res, scenario), *(c["spark"] for c in cards if c["spark"])]


def test_hostile_text_appears_escaped_in_every_chart(hostile):
    scenario, res = hostile
    named, others = _charts(scenario, res)
    assert len(named) == 2 + 4 + 1 and len(others) == 1 + 3
    for out in named + others:
        assert isinstance(out, SafeString)
        root = ET.fromstring(out)  # well-formed: nothing broke out of its element
        assert root.tag == f"{SVG}svg"
        assert "<script>" not in out and "<!--" not in out
        assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
        for e in root.iter():
            assert not any(k.startswith("on") for k in e.attrib)
    for out in named:
        assert HOSTILE in all_text(ET.fromstring(out)), "the hostile name is shown as text"


def test_hostile_text_in_a_chart_is_escaped_exactly_once(hostile):
    scenario, res = hostile
    out = charts.scatter(res, scenario)
    assert svg.esc(HOSTILE) in out
    assert "&amp;lt;" not in out  # not escaped twice
