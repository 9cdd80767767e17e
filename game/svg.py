"""A small SVG element builder: markup that escapes by construction.

``el("rect", x=4, width=10.25, fill="#fff")`` is an element; its keyword arguments are its
attributes (``stroke_width`` is written ``stroke-width``, ``class_`` is ``class``, ``data_table``
is ``data-table``; an attribute whose value is None is left out) and its positional arguments
its children: elements, or text. Every text and every attribute value is escaped when written,
and every number is written once, the same way (short, never in scientific notation), so no
caller has to remember to escape anything. Only ``document`` turns a tree into markup, and it
alone returns a ``SafeString`` (what a template may insert without escaping it again).

There is deliberately no way to put raw markup into a tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.utils.safestring import SafeString, mark_safe

_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(text: Any) -> str:
    """XML-escape text for an SVG element or attribute (drops characters XML cannot hold)."""
    s = _XML_UNSAFE.sub("", "" if text is None else str(text))
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def num(x: float) -> str:
    """A number as SVG writes it here: short, and never in scientific notation (12.5, 3, -0.5)."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return num(v)
    return esc(v)


def _name(key: str) -> str:
    return key.rstrip("_").replace("_", "-")


class Element:
    """One SVG element: a tag, its attributes (in order) and its children (elements or text)."""

    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, Any], children: list[Element | str]):
        self.tag = tag
        self.attrs = attrs
        self.children = children

    def write(self, out: list[str]) -> None:
        out.append("<" + self.tag)
        for k, v in self.attrs.items():
            if v is not None:
                out.append(f' {k}="{_value(v)}"')
        if not self.children:
            out.append("/>")
            return
        out.append(">")
        for c in self.children:
            if isinstance(c, Element):
                c.write(out)
            else:
                out.append(esc(c))
        out.append(f"</{self.tag}>")

    def __str__(self) -> str:
        out: list[str] = []
        self.write(out)
        return "".join(out)


Child = Element | str | Iterable[Any] | None


def _flatten(children: Iterable[Any], out: list[Element | str]) -> list[Element | str]:
    for c in children:
        if c is None:
            continue
        if isinstance(c, Element | str):
            out.append(c)
        elif isinstance(c, int | float):
            out.append(num(c))
        else:
            _flatten(c, out)
    return out


def el(tag: str, *children: Child, **attrs: Any) -> Element:
    """An element. Children may be elements, text, numbers, None (nothing) or lists of them (a
    list stands for its items, so a helper may return several elements). ``attrs`` keyword names
    become SVG names: a trailing ``_`` is dropped (``class_``) and ``_`` becomes ``-``."""
    return Element(tag, {_name(k): v for k, v in attrs.items()}, _flatten(children, []))


def points(pts: Iterable[tuple[float, float]]) -> str:
    """A polyline's ``points``: "x,y x,y ..."."""
    return " ".join(f"{num(a)},{num(b)}" for a, b in pts)


def path(*steps: tuple[str, float, float]) -> str:
    """A path's ``d`` from (command, x, y) steps: ``path(("M", 1, 2), ("L", 3, 4))`` is "M1,2 L3,4"."""
    return " ".join(f"{c}{num(x)},{num(y)}" for c, x, y in steps)


def document(root: Element) -> SafeString:
    """The tree as markup: the one place a chart becomes safe to insert into a page."""
    out: list[str] = []
    root.write(out)
    return mark_safe("".join(out))  # every text and value was escaped by Element.write


__all__ = ["Element", "document", "el", "esc", "num", "path", "points"]
