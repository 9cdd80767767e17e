"""How complete and faithful a scenario's translations are.

``Scenario.localized`` reads any translation, falling back to English text by text, and
``validate`` refuses one the game cannot use (an unknown language or path, a placeholder the
game cannot fill). This module says what a reviewer wants to know beyond that: which texts are
still in English in each language, and which translations differ from their English in what
must not change: the {placeholders}, the Markdown structure (headings, list items, bold), and
the numbers (points, years, percentages, sizes), whatever the language's way of writing them
(10,000 / 10 000 / 10.000; 0.1 / 0,1).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .scenario import _PLACEHOLDER, TRANSLATED_LANGUAGES, Scenario

_HEADING = re.compile(r"^(#{1,6})\s", re.MULTILINE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s", re.MULTILINE)
# A number with its group separators (comma, point, space, no-break or narrow no-break space)
# and decimal part, however a language writes them.
_NUMBER = re.compile(r"\d+(?:[,.\u00a0\u202f ]\d{3})*(?:[.,]\d+)?")


def numbers(text: str) -> Counter[str]:
    """The numbers of a text, each as its digits alone (10,000 and 10 000 are both 10000; 0.1
    and 0,1 are both 01), counted: a translation must keep every number of its English."""
    return Counter(re.sub(r"\D", "", m.group(0)) for m in _NUMBER.finditer(text))


def structure(text: str) -> dict[str, object]:
    """What a translation keeps of a text's form: placeholders, heading levels in order, the
    number of list items and of bold spans."""
    return {
        "placeholders": sorted(set(_PLACEHOLDER.findall(text))),
        "headings": [len(h) for h in _HEADING.findall(text)],
        "list items": len(_LIST_ITEM.findall(text)),
        "bold spans": text.count("**") // 2,
    }


def differences(english: str, translated: str) -> list[str]:
    """How a translation departs from its English in what must not change, in words."""
    out = []
    a, b = structure(english), structure(translated)
    for what in a:
        if a[what] != b[what]:
            out.append(f"{what}: {a[what]} in English, {b[what]} here")
    na, nb = numbers(english), numbers(translated)
    if na != nb:
        missing = sorted((na - nb).elements())
        extra = sorted((nb - na).elements())
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("not in the English " + ", ".join(extra))
        out.append("numbers: " + "; ".join(parts))
    return out


@dataclass
class LanguageReport:
    language: str
    total: int  # texts to translate (every non-empty English text)
    translated: int  # of those, how many this language translates
    missing: list[str] = field(default_factory=list)  # paths still read in English
    mismatches: list[str] = field(default_factory=list)  # "path: what differs"

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, object]:
        return {
            "language": self.language,
            "total": self.total,
            "translated": self.translated,
            "missing": list(self.missing),
            "mismatches": list(self.mismatches),
        }


def report(
    scenario: Scenario, languages: tuple[str, ...] = TRANSLATED_LANGUAGES
) -> dict[str, LanguageReport]:
    """For each language: how many of the scenario's texts it translates, which it leaves in
    English, and where a translation differs from its English in placeholders, structure or
    numbers."""
    english = scenario.texts()
    out = {}
    for lang in languages:
        table = scenario.translations.get(lang, {})
        rep = LanguageReport(lang, total=len(english), translated=0)
        for path, text in english.items():
            t = table.get(path, "")
            if not t.strip():
                rep.missing.append(path)
                continue
            rep.translated += 1
            rep.mismatches += [f"{path}: {d}" for d in differences(text, t)]
        out[lang] = rep
    return out
