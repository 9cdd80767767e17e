"""The scenario format: versions and migration, typed fields, voices, mediators and what no deal means."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from game.engine import bot
from game.engine import durability as D
from game.engine import scoring as S
from game.engine.scenario import FORMAT, Scenario, ScenarioError, migrate, validate

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = json.loads((ROOT / "game" / "scenarios" / "default.json").read_text(encoding="utf-8"))
KARABAKH = json.loads((ROOT / "game" / "scenarios" / "karabakh.json").read_text(encoding="utf-8"))


def test_a_file_of_the_first_format_is_migrated_with_a_note_of_what_changed():
    old = copy.deepcopy(DEFAULT)
    old.pop("format")
    for r in old["roles"]:
        r["peace_weight"] = 0.5
    data, notes = migrate(old)
    assert "format" not in data and all("peace_weight" not in r for r in data["roles"])
    assert len(notes) == 1 and "peace_weight dropped (us, russia, ukraine, europe)" in notes[0]
    sc = Scenario.from_dict(old)  # reading an old file migrates it silently
    assert validate(sc) == [] and sc.to_dict()["format"] == FORMAT


def test_a_current_file_needs_no_migration_and_a_newer_one_is_refused():
    assert migrate(DEFAULT)[1] == []
    newer = dict(DEFAULT, format=FORMAT + 1)
    with pytest.raises(ScenarioError, match="newer version of the game"):
        Scenario.from_dict(newer)
    with pytest.raises(ScenarioError, match="format: must be a whole number"):
        migrate(dict(DEFAULT, format="2"))


def test_a_scenario_round_trips_through_its_json_form():
    for data in (DEFAULT, KARABAKH):
        sc = Scenario.from_dict(data)
        assert Scenario.from_dict(sc.to_dict()) == sc


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["roles"][0]["voice"].update(shout=["Hey"]), "unknown kind of line 'shout'"),
        (lambda d: d["roles"][0]["voice"].update(accept=["{name} signs {package}"]), "uses {package}"),
        (lambda d: d["roles"][0]["voice"].update(accept=[]), "lines are empty"),
        (lambda d: [r.update(mediator=True) for r in d["roles"]], "Every role is a mediator"),
        (
            lambda d: d["model"].update(no_deal_values={"nothing": 1}),
            "no-deal values name unknown factor 'nothing'",
        ),
    ],
)
def test_voices_mediators_and_no_deal_values_are_validated_naming_the_fault(mutate, message):
    d = copy.deepcopy(DEFAULT)
    mutate(d)
    assert any(message in p for p in validate(Scenario.from_dict(d)))


def test_a_voice_given_as_text_instead_of_a_list_is_refused_when_read():
    d = copy.deepcopy(DEFAULT)
    d["roles"][0]["voice"]["accept"] = "one line"
    with pytest.raises(ScenarioError, match=r"role `us`: `voice`: `accept` must be a list of texts"):
        Scenario.from_dict(d)


def test_bots_speak_in_the_scenarios_voices_or_the_generic_voice_of_their_side_never_by_key():
    sc = Scenario.from_dict(KARABAKH)
    # the co-chair has its own opening; a mediator without one would use the mediator's voice
    assert bot.voice_lines(sc, "mediator", "opening")[0].startswith("The co-chairs' Basic Principles")
    assert bot.position(sc, "mediator") == "mediator"
    assert bot.position(sc, "azerbaijan") == "challenger" and bot.position(sc, "armenia") == "implementer"
    d = copy.deepcopy(KARABAKH)
    for r in d["roles"]:
        r["voice"] = {}
    d["roles"][2]["key"] = "russia"  # a mediator keyed like the default scenario's Russia
    d["issues"][2]["options"][1]["commits"] = ["russia"]
    d["issues"][2]["options"][2]["commits"] = ["russia"]
    plain = Scenario.from_dict(d)
    lines = bot.voice_lines(plain, "russia", "opening")
    assert "settlement that lasts" in lines[0] and "Moscow" not in " ".join(lines)
    assert "carry out whatever is signed" in bot.voice_lines(plain, "armenia", "opening")[0]


def test_no_deal_can_be_a_frozen_line_with_its_own_curve_and_story():
    sc = Scenario.from_dict(KARABAKH)
    nd = D.no_deal(sc, seed=4)
    assert 0.0 < nd.p_hold < 0.2 and nd.expected_peace > 0.2
    assert nd.realized.cause.startswith("No agreement: the 1994 ceasefire line stays as it is")
    assert nd.realized.cause_key == "no_deal"
    out = S.outcome(sc, None, seed=4)
    assert out["durability"]["p_hold"] == pytest.approx(nd.p_hold, abs=1e-4)
    for r in sc.roles:  # the score of no deal is still each role's no-deal value
        assert out["scores"][r.key]["total"] == r.no_deal_value
        assert out["scores"][r.key]["durability"] == pytest.approx(100 * nd.expected_peace, abs=1e-3)
    # in the default scenario no deal means the war goes on: no curve
    default_nd = D.no_deal(Scenario.from_dict(DEFAULT), seed=4)
    assert default_nd.p_hold == 0 and default_nd.realized.cause == "No agreement: the war goes on."


def test_the_moral_and_the_no_deal_words_come_from_the_scenario():
    assert Scenario.from_dict(DEFAULT).moral.startswith("Tactically, the parties may win")
    k = Scenario.from_dict(KARABAKH)
    assert k.moral.startswith("A frozen conflict is not a peace")
    assert "war goes on" not in k.model.no_deal_text
