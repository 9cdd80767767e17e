"""The SVG element builder (game/svg.py): text and attribute values are escaped by construction,
numbers written one way, and only the finished document is safe to insert into a page."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from django.template import Context, Template
from django.utils.safestring import SafeString

from game import svg

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
