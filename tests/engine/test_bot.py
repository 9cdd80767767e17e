"""The bot policy: it sees only what its role may see, concludes deals with other bots, is
deterministic per seed, counters rather than only rejecting, and accepts what beats its
aspiration. Pure engine: no Django."""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import json
import random
from pathlib import Path

import pytest

from game import simulate
from game.engine import bot, rules, scoring
from game.engine.durability import evaluate
from game.engine.rules import ACCEPT, REJECT, Answer, MakeProposal, Proposal, TableState
from game.engine.scenario import Scenario
from game.engine.scenario import packages as all_packages

DEFAULT_JSON = Path(__file__).resolve().parents[2] / "game" / "scenarios" / "default.json"


@pytest.fixture(scope="module")
def data() -> dict:
    return json.loads(DEFAULT_JSON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scenario(data) -> Scenario:
    return Scenario.from_dict(data)


def packages(sc: Scenario):
    yield from all_packages(sc)


def view_for(sc: Scenario, role: str, proposals=(), progress=0.0, news=(), seed=1, talk=False) -> bot.BotView:
    """A view built the way the live runner builds it: own values from the full scenario (as
    ``player_state`` gives them), everything else from the public scenario."""
    return bot.BotView(
        role=role,
        scenario=bot.public_scenario(sc, role),
        values=scoring.role_values(sc, role, news),
        no_deal_value=sc.role(role).no_deal_value,
        news=news,
        proposals=tuple(proposals),
        progress=progress,
        seed=seed,
        talk=talk,
    )


def proposal(pid: int, author: str, terms, answers=None, replaces=None) -> Proposal:
    return Proposal(pid, author, terms, "", replaces, rules.OPEN, answers or {author: ACCEPT}, "experts")


# -- what the bot may know ---------------------------------------------------------------------


def test_the_public_scenario_holds_no_other_roles_points_brief_or_no_deal_value(scenario):
    for role in scenario.role_keys:
        pub = bot.public_scenario(scenario, role)
        for issue in pub.issues:
            for o in issue.options:
                assert set(o.points) == {role}
        for n in pub.news:
            assert set(n.value_effects) <= {role}
        for r in pub.roles:
            if r.key != role:
                assert (r.brief, r.no_deal_value) == ("", 0.0)
            else:
                assert r == scenario.role(role)
        # What is public stays: options, commits, signatories, phases and the model.
        assert pub.necessary_signatories == scenario.necessary_signatories
        assert [(o.key, o.commits, o.loadings) for i in pub.issues for o in i.options] == [
            (o.key, o.commits, o.loadings) for i in scenario.issues for o in i.options
        ]
        assert pub.model == scenario.model and pub.phases == scenario.phases


def test_durability_does_not_depend_on_points_so_the_public_what_if_is_exact(scenario):
    news = ("summer_offensive", "european_pledge")
    pub = bot.public_scenario(scenario, "ukraine")
    for terms in packages(scenario):
        for ns in ((), news):
            assert evaluate(pub, terms, ns) == evaluate(scenario, terms, ns)


def test_a_view_refuses_the_full_scenario_and_the_policy_takes_nothing_but_the_view(scenario):
    with pytest.raises(ValueError, match="public_scenario"):
        bot.BotView("us", scenario, scoring.role_values(scenario, "us"), 28.0)
    assert list(inspect.signature(bot.decide).parameters) == ["view"]


def hidden_changed(data: dict, keep: str, rng: random.Random) -> Scenario:
    """The same scenario with every other role's secrets changed at random."""
    d = json.loads(json.dumps(data))
    for issue in d["issues"]:
        for o in issue["options"]:
            for r in o["points"]:
                if r != keep:
                    o["points"][r] = rng.uniform(-50, 100)
    for r in d["roles"]:
        if r["key"] != keep:
            r["no_deal_value"] = rng.uniform(0, 100)
            r["brief"] = "secret " + str(rng.random())
    for n in d["news"]:
        for r in list(n.get("value_effects", {})):
            if r != keep:
                n["value_effects"][r] = {k: rng.uniform(-9, 9) for k in n["value_effects"][r]}
    return Scenario.from_dict(d)


@pytest.mark.parametrize("role", ["us", "russia", "ukraine", "europe"])
def test_a_bot_decides_the_same_whatever_the_other_roles_values_are(data, scenario, role, monkeypatch):
    """Replay every decision ``role`` made in real games with views built from a scenario whose
    other roles' points, no-deal values, briefs and news effects were scrambled."""
    seen: list[bot.BotView] = []
    real = bot.decide

    def spy(view):
        if view.role == role:
            seen.append(view)
        return real(view)

    monkeypatch.setattr(bot, "decide", spy)
    for seed in range(4):
        simulate.play_game(scenario, seed, talk=True, news=("summer_offensive",) if seed % 2 else ())
    monkeypatch.setattr(bot, "decide", real)
    assert len(seen) > 20
    rng = random.Random(role)
    for variant in range(3):
        other = hidden_changed(data, role, rng)
        pub = bot.public_scenario(other, role)
        assert pub == bot.public_scenario(scenario, role)
        for v in seen:
            values = scoring.role_values(other, role, v.news)
            assert values == {k: dict(x) for k, x in v.values.items()}
            twin = dataclasses.replace(
                v, scenario=pub, values=values, no_deal_value=other.role(role).no_deal_value
            )
            assert bot.decide(twin) == real(v), f"variant {variant}"


# -- what the bot wants ------------------------------------------------------------------------


def test_the_bots_expected_total_is_the_games_formula_from_its_own_values(scenario):
    news = ("us_steps_back",)
    for role in scenario.role_keys:
        v = view_for(scenario, role, news=news)
        for terms in itertools.islice(packages(scenario), 0, 125, 7):
            expected = scoring.preview(scenario, role, terms, news)["total"]
            assert bot.expected_total(v, terms) == pytest.approx(expected, abs=1e-3)


def test_aspiration_falls_over_time_towards_but_never_below_the_no_deal_value(scenario):
    for role in scenario.role_keys:
        for seed in range(20):
            levels = [bot.aspiration(view_for(scenario, role, progress=t / 20, seed=seed)) for t in range(21)]
            assert levels == sorted(levels, reverse=True)
            nd = scenario.role(role).no_deal_value
            assert min(levels) > nd
            assert levels[0] - levels[-1] > 5


def test_it_accepts_a_proposal_whose_expected_total_beats_its_aspiration(scenario):
    v0 = view_for(scenario, "russia", progress=0.5)
    level = bot.aspiration(v0)
    ranked = sorted(packages(scenario), key=lambda t: bot.expected_total(v0, t))
    above = next(t for t in ranked if bot.expected_total(v0, t) >= level)
    below = [t for t in ranked if bot.expected_total(v0, t) < level][-1]
    yes = bot.decide(view_for(scenario, "russia", [proposal(1, "ukraine", above)], progress=0.5))
    assert yes == Answer("russia", 1, ACCEPT)
    no = bot.decide(view_for(scenario, "russia", [proposal(1, "ukraine", below)], progress=0.5))
    assert not (isinstance(no, Answer) and no.answer == ACCEPT)


def test_it_counters_a_proposal_it_will_not_accept_instead_of_only_rejecting(scenario):
    kyiv_max = {"territory": "russian_withdrawal", "nato": "membership_open", "guarantees": "article5_like"}
    d = bot.decide(view_for(scenario, "russia", [proposal(1, "ukraine", kyiv_max)], progress=0.1))
    assert isinstance(d, MakeProposal) and d.replaces == 1 and d.role == "russia"
    v = view_for(scenario, "russia", progress=0.1)
    assert bot.expected_total(v, d.terms) >= bot.aspiration(v)
    assert "Counter to proposal 1" in d.note and "% of the next 10 years" in d.note
    # With its counter standing, a second maximalist proposal gets a plain reject.
    state, _ = rules.apply(scenario, TableState(), rules.Start())
    state, _ = rules.apply(scenario, state, MakeProposal("ukraine", kyiv_max))
    state, _ = rules.apply(scenario, state, d)
    state, _ = rules.apply(scenario, state, MakeProposal("europe", kyiv_max))
    again = bot.decide(view_for(scenario, "russia", state.proposals, progress=0.1))
    assert again == Answer("russia", 3, REJECT)


def test_in_bot_only_games_bots_counter_and_do_not_only_reject(scenario):
    counters = rejects = 0
    for seed in range(10):
        g = simulate.play_game(scenario, seed, keep_log=True)
        counters += sum(1 for _, what in g.log if what.startswith("counters"))
        rejects += sum(1 for _, what in g.log if what.startswith("rejects"))
    assert counters >= 10


def test_without_signals_it_offers_the_most_durable_package_that_meets_its_aspiration(scenario):
    v = view_for(scenario, "us", progress=0.3)
    d = bot.decide(v)
    assert isinstance(d, MakeProposal)
    level = bot.aspiration(v)
    ok = [t for t in packages(scenario) if bot.expected_total(v, t) >= level]
    peace = {json.dumps(t, sort_keys=True): evaluate(scenario, t).expected_peace for t in ok}
    assert evaluate(scenario, d.terms).expected_peace >= max(peace.values()) - bot.TOLERANCE


def test_others_proposals_make_their_options_look_acceptable(scenario):
    """Ukraine keeps proposing a freeze with monitors: a mediating bot's offer moves towards it."""
    freeze = {
        "territory": "freeze_dmz_monitors",
        "nato": "moratorium",
        "guarantees": "bilateral_arms_training",
    }
    alone = bot.decide(view_for(scenario, "us", progress=0.6))
    told = bot.decide(view_for(scenario, "us", [proposal(1, "ukraine", freeze)], progress=0.6))
    assert isinstance(alone, MakeProposal) and isinstance(told, MakeProposal)
    same = lambda t: sum(t[k] == freeze[k] for k in freeze)  # noqa: E731
    assert same(told.terms) >= same(alone.terms)


# -- talk ----------------------------------------------------------------------------------------


def test_it_talks_in_its_roles_voice_about_options_and_durability_never_its_points(scenario):
    opening = bot.decide(view_for(scenario, "europe", talk=True))
    assert isinstance(opening, bot.Say) and opening.channel == "table"
    assert "Europe" in opening.text and "Ratified Article-5-like US-European guarantee" in opening.text
    g = simulate.play_game(scenario, 3, talk=True, keep_log=True)
    lines = [what for _, what in g.log if what.startswith("says")]
    assert len(lines) >= 8
    assert any("% of the next 10 years" in s or "% chance it holds" in s for s in lines)
    openings = {
        r: next(w for who, w in g.log if who == r and w.startswith("says")) for r in scenario.role_keys
    }
    assert len(set(openings.values())) == 4
    assert "Moscow" in openings["russia"] or "Russian" in openings["russia"]
    for r in scenario.role_keys:  # no line states a number of points
        assert not any("points" in w for who, w in g.log if who == r and w.startswith("says"))


def test_it_never_repeats_a_comment_and_never_acts_on_a_closed_table(scenario):
    g = simulate.play_game(scenario, 11, talk=True, keep_log=True)
    lines = [(who, w) for who, w in g.log if w.startswith("says")]
    assert len(lines) == len(set(lines))
    ended = dataclasses.replace(view_for(scenario, "us", talk=True), ended=True)
    assert bot.decide(ended) is None


# -- bots among bots -----------------------------------------------------------------------------


def test_bot_only_games_reach_an_agreement_in_most_seeds(scenario, capsys):
    games = [simulate.play_game(scenario, seed) for seed in range(50)]
    share = sum(g.terms is not None for g in games) / len(games)
    with capsys.disabled():
        print(f"\nbot-only agreement share over 50 seeds: {share:.0%}")
    assert share >= 0.5
    for g in games:
        if g.terms is not None:  # every agreed package beats no deal for every signatory
            signers = rules.required_signatories(scenario, g.terms)
            for r in signers:
                assert g.outcome["scores"][r]["total"] > scenario.role(r).no_deal_value


def test_a_game_is_deterministic_for_its_seed_and_seeds_vary_the_games(scenario):
    a = simulate.play_game(scenario, 42, talk=True, keep_log=True)
    b = simulate.play_game(scenario, 42, talk=True, keep_log=True)
    assert a.log == b.log and a.outcome == b.outcome
    games = [simulate.play_game(scenario, s, keep_log=True) for s in range(12)]
    assert len({g.first_mover for g in games}) > 1
    assert len({json.dumps(g.log) for g in games}) == len(games)
    assert len({json.dumps(g.terms, sort_keys=True) for g in games}) > 1


def test_temperaments_come_from_the_seed():
    assert bot.temperament(5) == bot.temperament(5)
    ts = {bot.temperament(s) for s in range(50)}
    assert len(ts) == 50
    for t in ts:
        assert 0.5 <= t.beta <= 2.0 and 0.75 <= t.deadline <= 0.95 and 0.85 <= t.opening <= 1.0


def test_progress_runs_over_all_phases_by_their_durations():
    d = [900, 900, 1200]
    assert bot.progress_of(d, 0, 0) == 0
    assert bot.progress_of(d, 1, 0) == pytest.approx(0.3)
    assert bot.progress_of(d, 2, 600) == pytest.approx(0.8)
    assert bot.progress_of(d, 2, 5000) == 1.0
    assert bot.progress_of(d, 1, -30) == pytest.approx(0.3)


def test_the_bots_package_table_matches_the_rules(scenario):
    v = view_for(scenario, "europe")
    book = bot._book(v)
    # every package that can be agreed, and none that combines excluded options
    assert len(book.packages) == len(list(packages(scenario))) == 110
    for k, combo in enumerate(book.packages):
        terms = dict(zip(scenario.issue_keys, combo, strict=True))
        assert book.required[k] == frozenset(rules.required_signatories(scenario, terms))
        assert book.peace[k] == evaluate(scenario, terms).expected_peace


def test_the_bots_caches_do_not_keep_a_scenario_alive(data):
    import gc
    import weakref

    sc = Scenario.from_dict(data)
    v = view_for(sc, "us", talk=True)
    assert bot.decide(v) is not None
    refs = [weakref.ref(sc), weakref.ref(v.scenario)]
    del sc, v
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_long_labels_are_cut_so_every_line_fits_the_chat_and_note_limits(data):
    from game.engine.chat import MAX_TEXT

    d = json.loads(json.dumps(data))
    for issue in d["issues"]:
        for o in issue["options"]:
            o["label"] = o["label"] + " and more" * 120
    sc = Scenario.from_dict(d)
    g = simulate.play_game(sc, 2, talk=True, keep_log=True)
    says = [w for _, w in g.log if w.startswith("says")]
    assert says and all(len(w) <= MAX_TEXT for w in says)
    d = bot.decide(view_for(sc, "us", progress=0.2))
    assert isinstance(d, MakeProposal) and len(d.note) <= rules.NOTE_MAX_CHARS
