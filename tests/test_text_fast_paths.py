"""The shortcuts for ordinary text in ``names.strip_format`` and ``chat.clean_text`` give exactly
what the character-by-character rules give (the rules are restated here as the reference)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from game import names
from game.engine import chat
from game.engine.rules import RuleViolation


def reference_strip_format(text: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in names._JOINERS:
            before = out[-1] if out else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if (
                before
                and after
                and not before.isspace()
                and not after.isspace()
                and not names.invisible(after)
            ):
                out.append(ch)
            continue
        if ch in "\n\t":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat == "Cf" or (cat != "Mn" and names.invisible(ch) and not ch.isspace()):
            continue
        out.append(ch)
    return "".join(out)


def reference_clean_text(text: str) -> str:
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    ).strip()


# Ordinary text in the game's languages, and every kind of character the rules treat specially.
SPECIAL = (
    "\u200b\u200c\u200d\u202e\u2066\u00ad\u034f\u061c\u115f\u3164\ufe0f\ufeff\uffa0\u2800"
    "\U000e0041\u2028\u2029\u00a0\u3000\x00\x07\x1b\x7f\t\n\r \u0301\ue000"
)
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from("abc XYZ 123 .,!?'\" Україна Росія Europe été ß 😀👍🏽"),
        st.sampled_from(SPECIAL),
        st.characters(),
    ),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(texts)
@example("Let's agree on point 2: no NATO, but guarantees.")
@example("Гарантії безпеки — так")
@example("a\u200db")
@example("x\u3164y")
@example("\ufe0f")
def test_strip_format_gives_what_the_character_rules_give(text):
    assert names.strip_format(text) == reference_strip_format(text)


@settings(max_examples=400, deadline=None)
@given(texts)
@example("  padded  ")
@example("line\nbreak\ttab")
@example("bell\x07")
def test_clean_text_gives_what_the_character_rules_give(text):
    expected = reference_clean_text(text)
    if not expected or len(expected) > chat.MAX_TEXT:
        with pytest.raises(RuleViolation):
            chat.clean_text(text)
    else:
        assert chat.clean_text(text) == expected
