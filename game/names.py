"""Names and text that students type: what is refused, and when two names look the same.

* A name is refused when nothing of it would be visible (spaces, format characters, fillers
  such as U+3164 HANGUL FILLER), when it is made only of combining marks, or when a letter carries
  a tower of them.
* Two names that a reader could not tell apart are the same name: each name has a key, its
  confusable skeleton (Unicode Technical Standard #39, from Unicode's confusables data that the
  ``confusable-homoglyphs`` package ships), case folded. "Ann" written with a Cyrillic A (U+0410) has the key of
  "Ann"; so has "ANN".
* Chat lines and proposal notes lose their format characters (bidirectional overrides such as
  U+202E, zero-width spaces, …), except a zero-width joiner or non-joiner between two visible
  characters, which emoji sequences and several scripts need.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib import resources

from django.utils.translation import gettext_lazy

# Default_Ignorable_Code_Point (DerivedCoreProperties.txt) plus blank characters that are not
# "ignorable" but draw nothing: the Braille blank and the Hangul fillers (already in the list).
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_JOINERS = {"\u200c", "\u200d"}
_IGNORABLE_RE = re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _IGNORABLE_RANGES) + "]")
MAX_MARKS_PER_LETTER = 4


def invisible(ch: str) -> bool:
    """Draws nothing: an ignorable code point, a format or control character, or a space."""
    cp = ord(ch)
    if any(lo <= cp <= hi for lo, hi in _IGNORABLE_RANGES):
        return True
    return unicodedata.category(ch) in ("Cf", "Cc", "Cs", "Co", "Cn", "Zs", "Zl", "Zp")


def strip_format(text: str) -> str:
    """Text without format characters (Cf: bidirectional controls, zero-width spaces, BOM, tags)
    and without ignorable fillers; a ZWJ or ZWNJ between two visible characters stays."""
    if text.isprintable() and not _IGNORABLE_RE.search(text):
        # Nothing to strip: printable text has no format, control or separator character but
        # the space (and so no joiner), and no ignorable filler. Most chat lines; the loop below
        # costs a chat line's delivery several times over.
        return text
    out: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        if ch in _JOINERS:
            before = out[-1] if out else ""
            after = text[i + 1] if i + 1 < n else ""
            if before and after and not before.isspace() and not after.isspace() and not invisible(after):
                out.append(ch)
            continue
        if ch in "\n\t":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat == "Cf" or (cat != "Mn" and invisible(ch) and not ch.isspace()):
            continue
        out.append(ch)
    return "".join(out)


class NameProblem(ValueError):
    """Why a name cannot be used, in words for the student (``message``: a lazy translation)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def check_visible(name: str) -> None:
    """Refuse a name that nobody could read: nothing visible, only combining marks, or a letter
    under a stack of marks."""
    visible = [ch for ch in name if not invisible(ch)]
    if not visible:
        raise NameProblem(
            gettext_lazy("That name would be invisible: type letters your classmates can read.")
        )
    if all(unicodedata.category(ch).startswith("M") for ch in visible):
        raise NameProblem(
            gettext_lazy("That name is only accents or marks: type letters your classmates can read.")
        )
    run = 0
    for ch in visible:
        run = run + 1 if unicodedata.category(ch).startswith("M") else 0
        if run > MAX_MARKS_PER_LETTER:
            raise NameProblem(
                gettext_lazy("That name piles too many marks on one letter: type it plainly, please.")
            )


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character mapped to one representative of its class.

    Unicode's confusables.txt maps every source character to a prototype string; the package
    ships that data as an undirected graph (each character with the characters it is confusable
    with), in which every class is a star around its prototype. The representative is the
    centre of the star: the member listed with most neighbours, a multi-character prototype
    (``rn`` for ``m``) before a single character, then the lowest code point, so the mapping is
    the same on every run."""
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    graph: dict[str, set[str]] = {}
    for ch, items in data.items():
        for item in items:
            other = item["c"].replace("\u200e", "")  # the data wraps right-to-left characters in LRMs
            graph.setdefault(ch, set()).add(other)
            graph.setdefault(other, set()).add(ch)
    rep: dict[str, str] = {}
    seen: set[str] = set()
    for start in graph:
        if start in seen:
            continue
        component, stack = [], [start]
        seen.add(start)
        while stack:
            node = stack.pop()
            component.append(node)
            for nxt in graph.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        centre = min(component, key=lambda s: (-len(graph[s]), -len(s), [ord(c) for c in s]))
        for node in component:
            if len(node) == 1 and node != centre:
                rep[node] = centre
    return rep


def skeleton(text: str) -> str:
    """UTS #39's skeleton: decompose, map every confusable character to its class's
    representative, decompose again (until nothing changes: a prototype may itself contain
    characters that map)."""
    table = _prototypes()
    s = unicodedata.normalize("NFD", text)
    for _ in range(3):
        mapped = unicodedata.normalize("NFD", "".join(table.get(ch, ch) for ch in s))
        if mapped == s:
            break
        s = mapped
    return s


def name_key(name: str) -> str:
    """What two names share when a reader could not tell them apart: the skeleton of the name
    with invisible characters and spacing removed, case folded, and the skeleton again (case
    folding can produce a character that has a confusable)."""
    visible = "".join(ch for ch in name if not invisible(ch))
    return skeleton(skeleton(visible).casefold())[:200]
