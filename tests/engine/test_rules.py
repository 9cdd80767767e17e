"""The rules of one table's negotiation (game/engine/rules.py): no database, no Django."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.engine.rules import (
    AdvancePhase,
    Answer,
    End,
    Event,
    InjectNews,
    MakeProposal,
    Proposal,
    RuleViolation,
    Start,
    TableState,
    Withdraw,
    apply,
    check_terms,
    open_proposals,
    pending_signatures,
    required_signatories,
)
from game.engine.scenario import Scenario

PLAIN = {"territory": "freeze", "security": "neutral", "sanctions": "keep"}  # needs russia, ukraine
WITH_TROOPS = {"territory": "freeze", "security": "troops", "sanctions": "keep"}  # + europe
OTHER = {"territory": "withdraw", "security": "neutral", "sanctions": "lift"}


def run(scenario: Scenario, state: TableState, *actions: object) -> tuple[TableState, list[Event]]:
    """Apply actions in turn; the events of all of them."""
    events: list[Event] = []
    for action in actions:
        state, more = apply(scenario, state, action)  # type: ignore[arg-type]
        events += more
    return state, events


def refused(scenario: Scenario, state: TableState, action: object, code: str) -> RuleViolation:
    before = state.to_dict()
    with pytest.raises(RuleViolation) as info:
        apply(scenario, state, action)  # type: ignore[arg-type]
    assert info.value.code == code, info.value.message
    assert state.to_dict() == before
    return info.value


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


@pytest.fixture
def s(rules_scenario: Scenario) -> Scenario:
    return rules_scenario


@pytest.fixture
def started(s: Scenario) -> TableState:
    state, _ = apply(s, TableState(), Start())
    return state


@pytest.fixture
def closing(s: Scenario, started: TableState) -> TableState:
    """Started and in the last phase, the only one that allows an agreement."""
    state, _ = run(s, started, AdvancePhase(), AdvancePhase())
    return state


# -- start and phases ------------------------------------------------------------------------


def test_starting_a_table_opens_the_first_phase_and_announces_it(s: Scenario) -> None:
    state, events = apply(s, TableState(), Start())
    assert state.started and not state.ended and state.phase_index == 0
    assert events == [
        Event(
            "phase.changed",
            {"phase": {"key": "opening", "name": "Opening statements", "agreement": False, "ends_at": None}},
        )
    ]


def test_starting_a_table_twice_is_refused_as_phase(s: Scenario, started: TableState) -> None:
    refused(s, started, Start(), "phase")


def test_starting_an_ended_table_is_refused_as_phase(s: Scenario) -> None:
    state, _ = apply(s, TableState(), End())
    refused(s, state, Start(), "phase")


def test_advancing_moves_through_the_phases_in_the_scenarios_order(s: Scenario, started: TableState) -> None:
    state, events = apply(s, started, AdvancePhase())
    assert state.phase_index == 1
    assert events == [
        Event(
            "phase.changed",
            {"phase": {"key": "bargaining", "name": "Bargaining", "agreement": False, "ends_at": None}},
        )
    ]
    state, events = apply(s, state, AdvancePhase())
    assert state.phase_index == 2
    assert events[0].data["phase"]["key"] == "closing"
    assert events[0].data["phase"]["agreement"] is True


def test_advancing_beyond_the_last_phase_is_refused_as_phase(s: Scenario, closing: TableState) -> None:
    refused(s, closing, AdvancePhase(), "phase")


def test_advancing_before_the_start_is_refused_as_phase(s: Scenario) -> None:
    refused(s, TableState(), AdvancePhase(), "phase")


def test_advancing_after_the_end_is_refused_as_phase(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, End())
    refused(s, state, AdvancePhase(), "phase")


# -- making proposals ------------------------------------------------------------------------


def test_a_proposal_counts_as_its_authors_acceptance(s: Scenario, started: TableState) -> None:
    state, events = apply(s, started, MakeProposal("russia", PLAIN, note="A first offer"))
    p = state.proposal(1)
    assert p is not None
    assert p.answers == {"russia": "accept"}
    assert p.status == "open" and p.phase == "opening" and p.replaces is None
    assert events == [
        Event(
            "proposal.made",
            {
                "proposal": {
                    "id": 1,
                    "author": "russia",
                    "terms": PLAIN,
                    "note": "A first offer",
                    "replaces": None,
                    "status": "open",
                    "answers": {"russia": "accept"},
                    "phase": "opening",
                },
                "closed": [],
            },
        )
    ]


def test_proposal_ids_are_numbered_per_table_from_one(s: Scenario, started: TableState) -> None:
    state, events = run(
        s, started, MakeProposal("us", PLAIN), MakeProposal("europe", OTHER), MakeProposal("us", OTHER)
    )
    assert [p.id for p in state.proposals] == [1, 2, 3]
    assert [e.data["proposal"]["id"] for e in events] == [1, 2, 3]
    assert state.next_id == 4


def test_a_proposal_keeps_its_terms_in_issue_order(s: Scenario, started: TableState) -> None:
    shuffled = {"sanctions": "keep", "territory": "freeze", "security": "neutral"}
    state, _ = apply(s, started, MakeProposal("us", shuffled))
    assert list(state.proposals[0].terms) == ["territory", "security", "sanctions"]


def test_a_proposal_before_the_start_is_refused_as_phase(s: Scenario) -> None:
    refused(s, TableState(), MakeProposal("us", PLAIN), "phase")


def test_a_proposal_after_the_end_is_refused_as_phase(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, End())
    refused(s, state, MakeProposal("us", PLAIN), "phase")


def test_a_proposal_from_an_unknown_role_is_refused_as_invalid(s: Scenario, started: TableState) -> None:
    err = refused(s, started, MakeProposal("china", PLAIN), "invalid")
    assert "china" in err.message


def test_a_proposal_that_omits_an_issue_is_refused_as_invalid(s: Scenario, started: TableState) -> None:
    terms = {"territory": "freeze", "security": "neutral"}
    err = refused(s, started, MakeProposal("us", terms), "invalid")
    assert "sanctions" in err.message


def test_a_proposal_with_an_option_that_does_not_exist_is_refused_as_invalid(
    s: Scenario, started: TableState
) -> None:
    terms = {**PLAIN, "security": "nato"}
    err = refused(s, started, MakeProposal("us", terms), "invalid")
    assert "nato" in err.message and "security" in err.message


def test_an_option_of_another_issue_is_refused_as_invalid(s: Scenario, started: TableState) -> None:
    terms = {**PLAIN, "territory": "troops"}
    err = refused(s, started, MakeProposal("us", terms), "invalid")
    assert "troops" in err.message and "territory" in err.message


def test_a_proposal_with_an_extra_issue_is_refused_as_invalid(s: Scenario, started: TableState) -> None:
    err = refused(s, started, MakeProposal("us", {**PLAIN, "crimea": "keep"}), "invalid")
    assert "crimea" in err.message


NUMBER_ISSUE: dict[object, str] = {7: "x", "territory": "freeze", "security": "neutral", "sanctions": "keep"}
NOT_TEXT_TERMS: list[object] = [
    None,
    ["freeze", "neutral", "keep"],
    "freeze",
    {**PLAIN, "territory": 1},
    NUMBER_ISSUE,
]


@pytest.mark.parametrize(
    "terms",
    NOT_TEXT_TERMS,
    ids=["none", "list", "string", "number-option", "number-issue"],
)
def test_terms_that_are_not_a_mapping_of_text_are_refused_as_invalid(
    s: Scenario, started: TableState, terms: object
) -> None:
    refused(s, started, MakeProposal("us", terms), "invalid")  # type: ignore[arg-type]


def test_a_note_of_2000_characters_is_accepted(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, MakeProposal("us", PLAIN, note="x" * 2000))
    assert len(state.proposals[0].note) == 2000


def test_a_note_longer_than_2000_characters_is_refused_as_invalid(s: Scenario, started: TableState) -> None:
    err = refused(s, started, MakeProposal("us", PLAIN, note="x" * 2001), "invalid")
    assert "2000" in err.message


def test_a_note_that_is_not_text_is_refused_as_invalid(s: Scenario, started: TableState) -> None:
    refused(s, started, MakeProposal("us", PLAIN, note=None), "invalid")  # type: ignore[arg-type]


def test_check_terms_returns_a_plain_dict_in_issue_order(s: Scenario) -> None:
    out = check_terms(s, {"sanctions": "lift", "security": "troops", "territory": "withdraw"})
    assert type(out) is dict
    assert list(out.items()) == [("territory", "withdraw"), ("security", "troops"), ("sanctions", "lift")]


def test_check_terms_names_every_problem_at_once(s: Scenario) -> None:
    with pytest.raises(RuleViolation) as info:
        check_terms(s, {"security": "nato", "crimea": "x"})
    assert info.value.code == "invalid"
    for word in ("crimea", "nato", "territory", "sanctions"):
        assert word in info.value.message


# -- countering ------------------------------------------------------------------------------


def test_countering_your_own_open_proposal_replaces_it(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, MakeProposal("russia", PLAIN))
    state, events = apply(s, state, MakeProposal("russia", OTHER, replaces=1))
    assert state.proposal(1).status == "replaced"  # type: ignore[union-attr]
    new = state.proposal(2)
    assert new is not None and new.replaces == 1 and new.status == "open"
    assert kinds(events) == ["proposal.made"]
    assert events[0].data["closed"] == [1]
    assert events[0].data["proposal"]["replaces"] == 1
    assert [p.id for p in open_proposals(state)] == [2]


def test_countering_another_roles_proposal_records_a_reject_and_leaves_it_open(
    s: Scenario, started: TableState
) -> None:
    state, _ = apply(s, started, MakeProposal("russia", PLAIN))
    state, _ = apply(s, state, Answer("ukraine", 1, "accept"))
    state, events = apply(s, state, MakeProposal("ukraine", OTHER, replaces=1))
    original = state.proposal(1)
    assert original is not None and original.status == "open"
    assert original.answers == {"russia": "accept", "ukraine": "reject"}
    assert kinds(events) == ["proposal.made", "proposal.answered"]
    assert events[0].data["closed"] == []
    assert events[1].data == {"proposal": 1, "role": "ukraine", "answer": "reject", "counter": 2}
    assert [p.id for p in open_proposals(state)] == [1, 2]


def test_countering_a_proposal_you_already_rejected_records_no_new_answer(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(s, started, MakeProposal("russia", PLAIN), Answer("ukraine", 1, "reject"))
    state, events = apply(s, state, MakeProposal("ukraine", OTHER, replaces=1))
    assert kinds(events) == ["proposal.made"]


@pytest.mark.parametrize("replaces", [5, 0, "1", True])
def test_countering_a_proposal_that_does_not_exist_is_refused_as_invalid(
    s: Scenario, started: TableState, replaces: object
) -> None:
    state, _ = apply(s, started, MakeProposal("russia", PLAIN))
    refused(s, state, MakeProposal("ukraine", OTHER, replaces=replaces), "invalid")  # type: ignore[arg-type]


def test_countering_a_proposal_that_is_no_longer_open_is_refused_as_conflict(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(s, started, MakeProposal("russia", PLAIN), Withdraw("russia", 1))
    err = refused(s, state, MakeProposal("ukraine", OTHER, replaces=1), "conflict")
    assert "withdrawn" in err.message


# -- answering -------------------------------------------------------------------------------


def test_a_role_can_accept_an_open_proposal(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, MakeProposal("russia", PLAIN))
    state, events = apply(s, state, Answer("europe", 1, "accept"))
    assert state.proposal(1).answers == {"russia": "accept", "europe": "accept"}  # type: ignore[union-attr]
    assert events == [Event("proposal.answered", {"proposal": 1, "role": "europe", "answer": "accept"})]


def test_a_role_can_change_its_answer_while_the_proposal_is_open(s: Scenario, started: TableState) -> None:
    state, _ = run(s, started, MakeProposal("russia", PLAIN), Answer("ukraine", 1, "reject"))
    state, events = apply(s, state, Answer("ukraine", 1, "accept"))
    assert state.proposal(1).answers["ukraine"] == "accept"  # type: ignore[union-attr]
    assert kinds(events) == ["proposal.answered"]
    state, _ = apply(s, state, Answer("russia", 1, "reject"))
    assert state.proposal(1).answers["russia"] == "reject"  # type: ignore[union-attr]


def test_repeating_the_same_answer_changes_nothing_and_emits_nothing(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(s, started, MakeProposal("russia", PLAIN), Answer("ukraine", 1, "reject"))
    again, events = apply(s, state, Answer("ukraine", 1, "reject"))
    assert again == state and events == []
    again, events = apply(s, state, Answer("russia", 1, "accept"))  # the author's implicit accept
    assert again == state and events == []


@pytest.mark.parametrize("answer", ["maybe", "ACCEPT", "", None])
def test_an_answer_other_than_accept_or_reject_is_refused_as_invalid(
    s: Scenario, started: TableState, answer: object
) -> None:
    state, _ = apply(s, started, MakeProposal("russia", PLAIN))
    refused(s, state, Answer("ukraine", 1, answer), "invalid")  # type: ignore[arg-type]


@pytest.mark.parametrize("pid", [2, 0, -1, "1", None, True])
def test_answering_an_unknown_proposal_is_refused_as_invalid(
    s: Scenario, started: TableState, pid: object
) -> None:
    state, _ = apply(s, started, MakeProposal("russia", PLAIN))
    refused(s, state, Answer("ukraine", pid, "accept"), "invalid")  # type: ignore[arg-type]


def test_answering_from_an_unknown_role_is_refused_as_invalid(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, MakeProposal("russia", PLAIN))
    refused(s, state, Answer("host", 1, "accept"), "invalid")


def test_answering_before_the_start_is_refused_as_phase(s: Scenario) -> None:
    refused(s, TableState(), Answer("ukraine", 1, "accept"), "phase")


def test_answering_a_closed_proposal_is_refused_as_conflict(s: Scenario, closing: TableState) -> None:
    state, _ = run(
        s,
        closing,
        MakeProposal("us", OTHER),
        MakeProposal("russia", PLAIN),
        Answer("ukraine", 2, "accept"),  # agreement on 2 closes 1
    )
    assert state.proposal(1).status == "closed"  # type: ignore[union-attr]
    err = refused(s, state, Answer("europe", 1, "accept"), "conflict")
    assert "closed" in err.message
    err = refused(s, state, Answer("europe", 2, "accept"), "conflict")
    assert "agreement" in err.message


def test_answering_a_proposal_closed_by_the_end_of_the_session_is_refused_as_conflict(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(s, started, MakeProposal("us", OTHER), End())
    refused(s, state, Answer("russia", 1, "accept"), "conflict")


def test_answering_a_withdrawn_proposal_is_refused_as_conflict(s: Scenario, started: TableState) -> None:
    state, _ = run(s, started, MakeProposal("us", OTHER), Withdraw("us", 1))
    refused(s, state, Answer("russia", 1, "accept"), "conflict")


def test_answering_a_replaced_proposal_is_refused_as_conflict_naming_its_successor(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(s, started, MakeProposal("us", OTHER), MakeProposal("us", PLAIN, replaces=1))
    err = refused(s, state, Answer("russia", 1, "accept"), "conflict")
    assert "replaced by proposal 2" in err.message


# -- withdrawing -----------------------------------------------------------------------------


def test_the_author_can_withdraw_an_open_proposal(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, MakeProposal("europe", PLAIN))
    state, events = apply(s, state, Withdraw("europe", 1))
    assert state.proposal(1).status == "withdrawn"  # type: ignore[union-attr]
    assert events == [Event("proposal.withdrawn", {"proposal": 1})]
    assert open_proposals(state) == ()


def test_withdrawal_by_another_role_is_refused_as_forbidden(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, MakeProposal("europe", PLAIN))
    refused(s, state, Withdraw("us", 1), "forbidden")


def test_withdrawing_a_proposal_that_is_not_open_is_refused_as_conflict(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(s, started, MakeProposal("europe", PLAIN), Withdraw("europe", 1))
    refused(s, state, Withdraw("europe", 1), "conflict")


def test_withdrawing_an_unknown_proposal_is_refused_as_invalid(s: Scenario, started: TableState) -> None:
    refused(s, started, Withdraw("europe", 1), "invalid")


def test_withdrawing_from_an_unknown_role_is_refused_as_invalid(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, MakeProposal("europe", PLAIN))
    refused(s, state, Withdraw("nobody", 1), "invalid")


def test_withdrawing_before_the_start_is_refused_as_phase(s: Scenario) -> None:
    refused(s, TableState(), Withdraw("europe", 1), "phase")


# -- agreement -------------------------------------------------------------------------------


def test_required_signatories_are_the_necessary_ones_plus_committed_roles_in_role_order(
    s: Scenario,
) -> None:
    assert required_signatories(s, PLAIN) == ("russia", "ukraine")
    assert required_signatories(s, WITH_TROOPS) == ("russia", "ukraine", "europe")


def test_pending_signatures_lists_required_signatories_who_have_not_accepted(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(s, started, MakeProposal("us", WITH_TROOPS), Answer("ukraine", 1, "accept"))
    p = state.proposal(1)
    assert p is not None
    assert pending_signatures(s, p) == ("russia", "europe")


def test_acceptance_in_an_early_phase_is_only_a_signal_and_the_proposal_stays_open(
    s: Scenario, started: TableState
) -> None:
    state, events = run(s, started, MakeProposal("russia", PLAIN), Answer("ukraine", 1, "accept"))
    assert state.agreement is None and not state.ended
    assert state.proposal(1).status == "open"  # type: ignore[union-attr]
    assert "agreement.reached" not in kinds(events)
    state, events = apply(s, state, AdvancePhase())  # bargaining: still no agreement allowed
    assert state.agreement is None and kinds(events) == ["phase.changed"]


def test_agreement_is_reached_in_the_last_phase_when_every_required_signatory_accepts(
    s: Scenario, closing: TableState
) -> None:
    state, _ = apply(s, closing, MakeProposal("russia", PLAIN, note="Final offer"))
    assert state.agreement is None
    state, events = apply(s, state, Answer("ukraine", 1, "accept"))
    assert kinds(events) == ["proposal.answered", "agreement.reached"]
    assert events[1].data == {
        "proposal": 1,
        "terms": PLAIN,
        "signatories": ["russia", "ukraine"],
        "closed": [],
    }
    assert state.agreement == 1 and state.ended
    assert state.proposal(1).status == "agreed"  # type: ignore[union-attr]


def test_after_an_agreement_all_other_open_proposals_are_closed(s: Scenario, closing: TableState) -> None:
    state, _ = run(
        s,
        closing,
        MakeProposal("us", OTHER),
        MakeProposal("europe", WITH_TROOPS),
        MakeProposal("europe", PLAIN, replaces=2),
        MakeProposal("russia", PLAIN),
        Withdraw("us", 1),
        MakeProposal("us", OTHER),
    )
    state, events = apply(s, state, Answer("ukraine", 4, "accept"))
    assert events[-1].kind == "agreement.reached"
    assert events[-1].data["closed"] == [3, 5]
    assert [p.status for p in state.proposals] == ["withdrawn", "replaced", "closed", "agreed", "closed"]
    assert open_proposals(state) == ()


def test_early_full_acceptance_is_concluded_on_entering_the_agreement_phase(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(
        s,
        started,
        MakeProposal("russia", PLAIN),
        Answer("ukraine", 1, "accept"),
        MakeProposal("us", OTHER),
        AdvancePhase(),
    )
    assert state.agreement is None
    state, events = apply(s, state, AdvancePhase())
    assert kinds(events) == ["phase.changed", "agreement.reached"]
    assert events[0].data["phase"]["key"] == "closing"
    assert events[1].data["proposal"] == 1 and events[1].data["closed"] == [2]
    assert state.agreement == 1 and state.ended


def test_when_several_proposals_qualify_on_entering_the_agreement_phase_the_lowest_id_wins(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(
        s,
        started,
        MakeProposal("us", OTHER),
        MakeProposal("russia", PLAIN),
        Answer("ukraine", 2, "accept"),
        Answer("russia", 1, "accept"),
        Answer("ukraine", 1, "accept"),
        AdvancePhase(),
    )
    state, events = apply(s, state, AdvancePhase())
    assert events[-1].kind == "agreement.reached" and events[-1].data["proposal"] == 1
    assert state.proposal(2).status == "closed"  # type: ignore[union-attr]


def test_entering_the_agreement_phase_without_a_fully_accepted_proposal_concludes_nothing(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(s, started, MakeProposal("russia", WITH_TROOPS), Answer("ukraine", 1, "accept"))
    state, events = run(s, state, AdvancePhase(), AdvancePhase())
    assert state.agreement is None and not state.ended
    assert kinds(events) == ["phase.changed", "phase.changed"]


def test_an_option_that_commits_europe_makes_europe_a_required_signatory(
    s: Scenario, closing: TableState
) -> None:
    state, _ = run(s, closing, MakeProposal("russia", WITH_TROOPS), Answer("ukraine", 1, "accept"))
    assert state.agreement is None and not state.ended
    state, events = apply(s, state, Answer("europe", 1, "accept"))
    assert state.agreement == 1
    assert events[-1].data["signatories"] == ["russia", "ukraine", "europe"]


def test_a_proposal_by_a_non_signatory_still_needs_every_required_signatory(
    s: Scenario, closing: TableState
) -> None:
    state, _ = run(s, closing, MakeProposal("us", PLAIN), Answer("russia", 1, "accept"))
    assert state.agreement is None
    state, events = apply(s, state, Answer("ukraine", 1, "accept"))
    assert state.agreement == 1
    assert events[-1].data["signatories"] == ["russia", "ukraine"]


def test_a_rejection_by_a_required_signatory_prevents_agreement(s: Scenario, closing: TableState) -> None:
    state, _ = run(
        s,
        closing,
        MakeProposal("russia", PLAIN),
        Answer("russia", 1, "reject"),
        Answer("ukraine", 1, "accept"),
    )
    assert state.agreement is None
    state, _ = apply(s, state, Answer("russia", 1, "accept"))
    assert state.agreement == 1


def test_a_counter_can_itself_become_the_agreement(s: Scenario, closing: TableState) -> None:
    state, _ = run(
        s,
        closing,
        MakeProposal("ukraine", OTHER),
        MakeProposal("russia", PLAIN, replaces=1),
    )
    state, events = apply(s, state, Answer("ukraine", 2, "accept"))
    assert state.agreement == 2
    assert state.proposal(1).status == "closed"  # type: ignore[union-attr]
    assert events[-1].data["closed"] == [1]


def test_a_proposal_whose_author_is_the_only_required_signatory_is_agreed_at_once(
    s: Scenario, closing: TableState
) -> None:
    solo = dataclasses.replace(s, necessary_signatories=("ukraine",))
    state, events = apply(solo, closing, MakeProposal("ukraine", PLAIN))
    assert kinds(events) == ["proposal.made", "agreement.reached"]
    assert state.agreement == 1 and state.ended


def test_nothing_can_be_proposed_after_an_agreement(s: Scenario, closing: TableState) -> None:
    state, _ = run(s, closing, MakeProposal("russia", PLAIN), Answer("ukraine", 1, "accept"))
    refused(s, state, MakeProposal("ukraine", OTHER), "phase")
    refused(s, state, AdvancePhase(), "phase")


# -- news ------------------------------------------------------------------------------------


def test_injected_news_reaches_the_table_and_is_announced(s: Scenario, started: TableState) -> None:
    state, events = apply(s, started, InjectNews("election"))
    state, more = apply(s, state, InjectNews("drone_strike"))
    assert state.news == ("election", "drone_strike")
    assert events + more == [
        Event("news", {"key": "election", "headline": "Elections announced", "body": "A new mandate."}),
        Event(
            "news",
            {
                "key": "drone_strike",
                "headline": "Drone strike on a power plant",
                "body": "Tensions rise.",
            },
        ),
    ]


def test_news_can_reach_a_table_before_the_start(s: Scenario) -> None:
    state, events = apply(s, TableState(), InjectNews("election"))
    assert state.news == ("election",) and kinds(events) == ["news"]


@pytest.mark.parametrize("key", ["invasion", "", None])
def test_unknown_news_is_refused_as_invalid(s: Scenario, started: TableState, key: object) -> None:
    refused(s, started, InjectNews(key), "invalid")  # type: ignore[arg-type]


def test_the_same_news_twice_is_refused_as_conflict(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, InjectNews("election"))
    refused(s, state, InjectNews("election"), "conflict")


def test_news_after_the_end_is_refused_as_phase(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, End())
    refused(s, state, InjectNews("election"), "phase")


# -- ending ----------------------------------------------------------------------------------


def test_ending_without_agreement_closes_open_proposals_and_emits_nothing(
    s: Scenario, started: TableState
) -> None:
    state, _ = run(
        s, started, MakeProposal("us", PLAIN), MakeProposal("russia", OTHER), Withdraw("russia", 2)
    )
    state, events = apply(s, state, End())
    assert events == []
    assert state.ended and state.agreement is None
    assert [p.status for p in state.proposals] == ["closed", "withdrawn"]


def test_ending_a_table_that_never_started_ends_it(s: Scenario) -> None:
    state, events = apply(s, TableState(), End())
    assert state.ended and not state.started and events == []


def test_ending_an_ended_table_changes_nothing(s: Scenario, started: TableState) -> None:
    ended, _ = apply(s, started, End())
    again, events = apply(s, ended, End())
    assert again == ended and events == []


def test_ending_a_table_that_reached_an_agreement_keeps_the_agreement(
    s: Scenario, closing: TableState
) -> None:
    state, _ = run(s, closing, MakeProposal("russia", PLAIN), Answer("ukraine", 1, "accept"))
    again, events = apply(s, state, End())
    assert again == state and events == [] and again.agreement == 1


# -- state, errors, misc ---------------------------------------------------------------------


def test_state_survives_a_json_round_trip(s: Scenario, started: TableState) -> None:
    state, _ = run(
        s,
        started,
        InjectNews("election"),
        MakeProposal("us", PLAIN, note="Let's talk"),
        MakeProposal("russia", OTHER, replaces=1),
        MakeProposal("us", WITH_TROOPS, replaces=1),
        Answer("europe", 3, "reject"),
        AdvancePhase(),
    )
    back = TableState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert back == state
    assert back.to_dict() == state.to_dict()
    assert TableState.from_dict(TableState().to_dict()) == TableState()


def test_the_state_of_a_table_with_an_agreement_survives_a_json_round_trip(
    s: Scenario, closing: TableState
) -> None:
    state, _ = run(s, closing, MakeProposal("russia", PLAIN), Answer("ukraine", 1, "accept"))
    assert TableState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_a_proposal_serialises_to_exactly_the_contract_fields(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, MakeProposal("us", PLAIN))
    d = state.proposals[0].to_dict()
    assert set(d) == {"id", "author", "terms", "note", "replaces", "status", "answers", "phase"}
    assert Proposal.from_dict(d) == state.proposals[0]


def test_proposals_cannot_be_changed_in_place(s: Scenario, started: TableState) -> None:
    state, _ = apply(s, started, MakeProposal("us", PLAIN))
    p = state.proposals[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.status = "agreed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.answers["russia"] = "accept"  # type: ignore[index]


def test_open_proposals_lists_only_open_ones_in_id_order(s: Scenario, started: TableState) -> None:
    state, _ = run(
        s,
        started,
        MakeProposal("us", PLAIN),
        MakeProposal("russia", OTHER),
        MakeProposal("us", OTHER, replaces=1),
    )
    assert [p.id for p in open_proposals(state)] == [2, 3]


def test_a_rule_violation_carries_its_code_and_a_sentence() -> None:
    err = RuleViolation("conflict", "Proposal 3 was withdrawn.")
    assert err.code == "conflict" and err.message == "Proposal 3 was withdrawn." and str(err) == err.message
    with pytest.raises(ValueError):
        RuleViolation("oops", "no such code")


def test_something_that_is_not_an_action_is_a_programming_error(s: Scenario) -> None:
    with pytest.raises(TypeError):
        apply(s, TableState(), "start")  # type: ignore[arg-type]


def test_every_event_is_json_and_visible_to_the_whole_table(s: Scenario, started: TableState) -> None:
    _, events = run(
        s,
        started,
        InjectNews("election"),
        MakeProposal("us", PLAIN),
        MakeProposal("russia", OTHER, replaces=1),
        Withdraw("russia", 2),
        AdvancePhase(),
        AdvancePhase(),
        Answer("russia", 1, "accept"),
        Answer("ukraine", 1, "accept"),
    )
    assert kinds(events)[-1] == "agreement.reached"
    for e in events:
        assert json.loads(json.dumps(e.data)) == e.data
        assert e.visibility == "table"


# -- properties ------------------------------------------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy[object]]) -> st.SearchStrategy[object]:
    """One of the strategies, drawn roughly in proportion to the given weights."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(
        lambda strategy: strategy
    )


ROLES = weighted((9, st.sampled_from(["us", "russia", "ukraine", "europe"])), (1, st.just("china")))
TERMS = weighted(
    (
        9,
        st.fixed_dictionaries(
            {
                "territory": st.sampled_from(["freeze", "withdraw"]),
                "security": st.sampled_from(["neutral", "troops"]),
                "sanctions": st.sampled_from(["keep", "lift"]),
            }
        ),
    ),
    (1, st.sampled_from([{"territory": "freeze"}, {**PLAIN, "security": "nato"}, {**PLAIN, "x": "y"}])),
)
NOTES = weighted((9, st.sampled_from(["", "note"])), (1, st.just("x" * 2001)))


@dataclasses.dataclass(frozen=True)
class Pick:
    """Stands for one of the table's proposal ids, chosen when the action is applied."""

    n: int


PIDS = weighted((9, st.integers(0, 99).map(Pick)), (1, st.sampled_from([0, -1, "1", None])))
ACTIONS = weighted(
    (24, st.builds(MakeProposal, ROLES, TERMS, note=NOTES, replaces=weighted((3, st.none()), (1, PIDS)))),
    (42, st.builds(Answer, ROLES, PIDS, st.sampled_from(["accept", "accept", "reject", "maybe"]))),
    (3, st.builds(Withdraw, ROLES, PIDS)),
    (9, st.just(AdvancePhase())),
    (3, st.builds(InjectNews, st.sampled_from(["election", "drone_strike", "invasion"]))),
    (3, st.just(Start())),
    (1, st.just(End())),  # rare, or the game would usually end before anything happens
)


def resolve(action: object, state: TableState) -> object:
    """Replace a ``Pick`` by an id of this table (or one that does not exist yet, if none do)."""
    ids = [p.id for p in state.proposals]
    for name in ("proposal", "replaces"):
        value = getattr(action, name, None)
        if isinstance(value, Pick):
            pid = ids[value.n % len(ids)] if ids else state.next_id
            action = dataclasses.replace(action, **{name: pid})  # type: ignore[type-var]
    return action


def check_invariants(scenario: Scenario, state: TableState) -> None:
    ids = [p.id for p in state.proposals]
    assert ids == list(range(1, state.next_id))  # unique, increasing, no gaps
    agreed = [p for p in state.proposals if p.status == "agreed"]
    if state.agreement is None:
        assert agreed == []
    else:
        assert state.ended and [p.id for p in agreed] == [state.agreement]
        (p,) = agreed
        assert scenario.phases[state.phase_index].agreement
        for role in required_signatories(scenario, p.terms):
            assert p.answers.get(role) == "accept"
        assert pending_signatures(scenario, p) == ()
    if state.ended:
        assert open_proposals(state) == ()
    elif scenario.phases[state.phase_index].agreement:
        # anything fully accepted in an agreement phase would have been concluded already
        assert all(pending_signatures(scenario, p) for p in open_proposals(state))
    for p in state.proposals:
        assert p.status in {"open", "agreed", "withdrawn", "replaced", "closed"}
        assert set(p.answers.values()) <= {"accept", "reject"}
        assert list(p.terms) == list(scenario.issue_keys)
    assert TableState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


@settings(max_examples=200, deadline=None)
@given(start=st.sampled_from([True, True, True, False]), steps=st.integers(1, 60), data=st.data())
def test_random_sequences_of_actions_keep_the_rules(
    rules_scenario: Scenario, start: bool, steps: int, data: st.DataObject
) -> None:
    scenario = rules_scenario
    state = apply(scenario, TableState(), Start())[0] if start else TableState()
    after_end = 0
    for _ in range(steps):
        if state.ended:  # a few more tries show that an ended table refuses them; then stop
            after_end += 1
            if after_end > 3:
                break
        action = resolve(data.draw(ACTIONS), state)
        before = state
        snapshot = state.to_dict()
        try:
            state, events = apply(scenario, state, action)  # type: ignore[arg-type]
        except RuleViolation as err:
            assert err.code in {"invalid", "forbidden", "phase", "conflict"}
            assert err.message
            assert before == state and state.to_dict() == snapshot
            continue
        for e in events:
            json.dumps(e.data)
            if e.kind == "agreement.reached":
                p = state.proposal(e.data["proposal"])
                assert p is not None and p.status == "agreed"
                assert e.data["signatories"] == list(required_signatories(scenario, p.terms))
                assert all(p.answers.get(r) == "accept" for r in e.data["signatories"])
            if e.kind == "proposal.made":
                assert e.data["proposal"]["id"] == state.next_id - 1 == max(p.id for p in state.proposals)
        check_invariants(scenario, state)


# -- options that exclude each other --------------------------------------------------------------


def test_a_proposal_that_combines_excluded_options_is_refused_as_invalid_naming_both(rules_scenario) -> None:
    from tests.engine.conftest import RULES_SCENARIO

    data = json.loads(json.dumps(RULES_SCENARIO))
    security = next(i for i in data["issues"] if i["key"] == "security")
    next(o for o in security["options"] if o["key"] == "troops")["excludes"] = ["territory/freeze"]
    sc = Scenario.from_dict(data)
    started, _ = apply(sc, TableState(), Start())
    err = refused(sc, started, MakeProposal("russia", WITH_TROOPS), "invalid")
    assert "cannot be combined" in err.message
    assert "“European reassurance force” (Security guarantees) excludes" in err.message or (
        "“Freeze the line” (Territory) excludes “European reassurance force”" in err.message
    )
    # exclusion works both ways, and the other packages are untouched
    assert sc.conflicts(WITH_TROOPS) and not sc.conflicts(PLAIN)
    state, _ = apply(sc, started, MakeProposal("russia", PLAIN))
    assert state.proposals[0].terms == PLAIN
    with pytest.raises(RuleViolation, match="cannot be combined"):
        check_terms(sc, WITH_TROOPS)
