"""The rules of one table's negotiation, as a pure state machine.

``apply(scenario, state, action)`` returns the next ``TableState`` and the events that the
change produced, or raises ``RuleViolation`` (whose ``code`` is one of the wire contract's error
codes) and changes nothing: states are immutable, so a refused action leaves the caller's state
exactly as it was. The engine never reads a clock; the caller fills ``ends_at`` of
``phase.changed`` events and adds ``game.ended`` with the outcome when a table ends.

Pure Python: no Django or Channels imports here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeAlias

from game.engine.scenario import Phase, Scenario

# Error codes of the wire contract that rules can raise.
INVALID = "invalid"
FORBIDDEN = "forbidden"
PHASE = "phase"
CONFLICT = "conflict"
CODES = (INVALID, FORBIDDEN, PHASE, CONFLICT)

# Proposal statuses.
OPEN = "open"
AGREED = "agreed"
WITHDRAWN = "withdrawn"
REPLACED = "replaced"
CLOSED = "closed"
STATUSES = (OPEN, AGREED, WITHDRAWN, REPLACED, CLOSED)

ACCEPT = "accept"
REJECT = "reject"
ANSWERS = (ACCEPT, REJECT)

NOTE_MAX_CHARS = 2000


def gettext_noop(text: str) -> str:
    """Marks an English sentence for the interface's translations (the extractor knows this
    name); the engine itself speaks English: ``RuleViolation.texts`` keeps each sentence's
    template and values, so the server says it in the reader's language."""
    return text


class RuleViolation(Exception):
    """An action that the rules refuse. ``message`` is a sentence a student can act on, in
    English; ``texts`` the same as (template, values) pairs, for translation: the template is a
    ``str.format`` pattern, the values fill it."""

    def __init__(self, code: str, message: str, /, **values: Any):
        if code not in CODES:
            raise ValueError(f"unknown rule violation code {code!r}")
        self.texts: tuple[tuple[str, dict[str, Any]], ...] = ((message, values),)
        self.message = message.format(**values) if values else message
        super().__init__(self.message)
        self.code = code

    @classmethod
    def of(cls, code: str, texts: list[tuple[str, dict[str, Any]]]) -> RuleViolation:
        """Several sentences at once (every problem of a set of terms)."""
        e = cls(code, "")
        e.texts = tuple(texts)
        e.message = " ".join(t.format(**v) if v else t for t, v in texts)
        e.args = (e.message,)
        return e

    def __repr__(self) -> str:
        return f"RuleViolation({self.code!r}, {self.message!r})"


# -- state -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    id: int
    author: str
    terms: Mapping[str, str]
    note: str
    replaces: int | None
    status: str
    answers: Mapping[str, str]
    phase: str
    # The note in other languages, {language: text}: a bot writes its note in every language of
    # the scenario, so each reader reads it in theirs (a person's note is theirs, untranslated).
    note_translations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", MappingProxyType(dict(self.terms)))
        object.__setattr__(self, "answers", MappingProxyType(dict(self.answers)))
        object.__setattr__(self, "note_translations", MappingProxyType(dict(self.note_translations)))

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "author": self.author,
            "terms": dict(self.terms),
            "note": self.note,
            "replaces": self.replaces,
            "status": self.status,
            "answers": dict(self.answers),
            "phase": self.phase,
            **({"note_translations": dict(self.note_translations)} if self.note_translations else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Proposal:
        return cls(
            id=int(d["id"]),
            author=str(d["author"]),
            terms=dict(d["terms"]),
            note=str(d.get("note", "")),
            replaces=d.get("replaces"),
            status=str(d.get("status", OPEN)),
            answers=dict(d.get("answers", {})),
            phase=str(d.get("phase", "")),
            note_translations=dict(d.get("note_translations") or {}),
        )


@dataclass(frozen=True)
class TableState:
    phase_index: int = 0
    started: bool = False
    proposals: tuple[Proposal, ...] = ()
    agreement: int | None = None
    ended: bool = False
    news: tuple[str, ...] = ()
    next_id: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "proposals", tuple(self.proposals))
        object.__setattr__(self, "news", tuple(self.news))

    def proposal(self, pid: int) -> Proposal | None:
        return next((p for p in self.proposals if p.id == pid), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase_index": self.phase_index,
            "started": self.started,
            "proposals": [p.to_dict() for p in self.proposals],
            "agreement": self.agreement,
            "ended": self.ended,
            "news": list(self.news),
            "next_id": self.next_id,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TableState:
        proposals = tuple(Proposal.from_dict(p) for p in d.get("proposals", ()))
        default_next = max((p.id for p in proposals), default=0) + 1
        agreement = d.get("agreement")
        return cls(
            phase_index=int(d.get("phase_index", 0)),
            started=bool(d.get("started", False)),
            proposals=proposals,
            agreement=None if agreement is None else int(agreement),
            ended=bool(d.get("ended", False)),
            news=tuple(str(k) for k in d.get("news", ())),
            next_id=int(d.get("next_id", default_next)),
        )


@dataclass(frozen=True)
class Event:
    kind: str
    data: dict[str, Any]
    visibility: str = "table"


# -- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """The host started the session: the table enters its first phase."""


@dataclass(frozen=True)
class MakeProposal:
    role: str
    terms: Mapping[str, str]
    note: str = ""
    replaces: int | None = None
    note_translations: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Answer:
    role: str
    proposal: int
    answer: str


@dataclass(frozen=True)
class Withdraw:
    role: str
    proposal: int


@dataclass(frozen=True)
class AdvancePhase:
    """The host (or the clock, via the caller) moves the table to the next phase."""


@dataclass(frozen=True)
class InjectNews:
    key: str


@dataclass(frozen=True)
class End:
    """The session ended: a table without an agreement ends with no deal."""


Action: TypeAlias = Start | MakeProposal | Answer | Withdraw | AdvancePhase | InjectNews | End


# -- queries ---------------------------------------------------------------------------------


def check_terms(scenario: Scenario, terms: object) -> dict[str, str]:
    """The terms in issue order, or ``RuleViolation("invalid")`` naming what is wrong."""
    if not isinstance(terms, Mapping):
        raise RuleViolation(INVALID, gettext_noop("The terms must name one option for every issue."))
    problems: list[tuple[str, dict[str, Any]]] = []
    for k, v in terms.items():
        if not isinstance(k, str) or not isinstance(v, str):
            problems.append(
                (
                    gettext_noop("The terms must map issue keys to option keys as text, not {key}: {value}."),
                    {"key": repr(k), "value": repr(v)},
                )
            )
        elif scenario.issue(k) is None:
            problems.append((gettext_noop("{key} is not an issue of this negotiation."), {"key": repr(k)}))
    out: dict[str, str] = {}
    for issue in scenario.issues:
        if issue.key not in terms:
            problems.append(
                (
                    gettext_noop("Choose an option for the issue “{issue}” ({key})."),
                    {"issue": issue.name, "key": issue.key},
                )
            )
            continue
        choice = terms[issue.key]
        if not isinstance(choice, str):
            continue  # already reported above
        if issue.option(choice) is None:
            problems.append(
                (
                    gettext_noop("{option} is not an option of the issue “{issue}” ({key})."),
                    {"option": repr(choice), "issue": issue.name, "key": issue.key},
                )
            )
            continue
        out[issue.key] = choice
    if problems:
        raise RuleViolation.of(INVALID, problems)
    for (ia, oa), (ib, ob) in scenario.conflicts(out):
        a, b = scenario.issue(ia), scenario.issue(ib)
        la, lb = a.option(oa), b.option(ob)  # type: ignore[union-attr]
        problems.append(
            (
                gettext_noop(
                    "These options cannot be combined: “{a}” ({issue_a}) excludes “{b}” "
                    "({issue_b}). Choose another option for one of the two."
                ),
                {"a": la.label, "issue_a": a.name, "b": lb.label, "issue_b": b.name},  # type: ignore[union-attr]
            )
        )
    if problems:
        raise RuleViolation.of(INVALID, problems)
    return out


def required_signatories(scenario: Scenario, terms: Mapping[str, str]) -> tuple[str, ...]:
    """Who must accept these terms: the necessary signatories plus every committed role.

    In the scenario's role order. ``terms`` must be valid (see ``check_terms``).
    """
    needed = set(scenario.necessary_signatories)
    for option in scenario.options_of(terms):
        needed.update(option.commits)
    return tuple(r for r in scenario.role_keys if r in needed)


def pending_signatures(scenario: Scenario, proposal: Proposal) -> tuple[str, ...]:
    """The required signatories of ``proposal`` who have not accepted it (yet)."""
    return tuple(
        r for r in required_signatories(scenario, proposal.terms) if proposal.answers.get(r) != ACCEPT
    )


def open_proposals(state: TableState) -> tuple[Proposal, ...]:
    return tuple(p for p in state.proposals if p.is_open)


def current_phase(scenario: Scenario, state: TableState) -> Phase:
    return scenario.phases[state.phase_index]


def phase_data(phase: Phase) -> dict[str, Any]:
    """The ``phase`` object of a ``phase.changed`` event; the caller fills ``ends_at``."""
    return {"key": phase.key, "name": phase.name, "agreement": phase.agreement, "ends_at": None}


# -- checks shared by actions ----------------------------------------------------------------


def _check_role(scenario: Scenario, role: object) -> str:
    if not isinstance(role, str) or scenario.role(role) is None:
        raise RuleViolation(
            INVALID, gettext_noop("{role} is not a role in this negotiation."), role=repr(role)
        )
    return role


def _check_running(state: TableState) -> None:
    if state.ended:
        raise RuleViolation(PHASE, gettext_noop("The negotiation at this table has ended."))
    if not state.started:
        raise RuleViolation(PHASE, gettext_noop("The negotiation has not started yet."))


def _find(state: TableState, pid: object, doing: str) -> Proposal:
    p = state.proposal(pid) if isinstance(pid, int) and not isinstance(pid, bool) else None
    if p is None:
        raise RuleViolation(INVALID, gettext_noop("There is no proposal {id} at this table."), id=repr(pid))
    return p


def _check_open(state: TableState, p: Proposal, doing: str) -> None:
    if p.status == OPEN:
        return
    # Whole sentences, one per case, so that each translates as a whole.
    newer = None
    if p.status == WITHDRAWN:
        why = gettext_noop("Proposal {id} was withdrawn by its author: it is no longer open.")
    elif p.status == REPLACED:
        newer = next((q.id for q in state.proposals if q.replaces == p.id and q.author == p.author), None)
        why = (
            gettext_noop("Proposal {id} was replaced by proposal {newer}: it is no longer open.")
            if newer is not None
            else gettext_noop("Proposal {id} was replaced: it is no longer open.")
        )
    elif p.status == AGREED:
        why = gettext_noop("Proposal {id} is already the agreement of this table.")
    else:
        why = gettext_noop("Proposal {id} was closed when the negotiation at this table ended.")
    values: dict[str, Any] = {"id": p.id}
    if newer is not None:
        values["newer"] = newer
    raise RuleViolation(CONFLICT, why, **values)


def _with_proposal(state: TableState, new: Proposal) -> TableState:
    return replace(state, proposals=tuple(new if p.id == new.id else p for p in state.proposals))


def _fully_accepted(scenario: Scenario, p: Proposal) -> bool:
    return p.is_open and not pending_signatures(scenario, p)


def _conclude(scenario: Scenario, state: TableState, pid: int) -> tuple[TableState, list[Event]]:
    """Make proposal ``pid`` the agreement: it is agreed, every other open one is closed."""
    agreed = state.proposal(pid)
    assert agreed is not None and agreed.is_open
    closed: list[int] = []
    proposals = []
    for p in state.proposals:
        if p.id == pid:
            p = replace(p, status=AGREED)
        elif p.is_open:
            p = replace(p, status=CLOSED)
            closed.append(p.id)
        proposals.append(p)
    new_state = replace(state, proposals=tuple(proposals), agreement=pid, ended=True)
    event = Event(
        "agreement.reached",
        {
            "proposal": pid,
            "terms": dict(agreed.terms),
            "signatories": list(required_signatories(scenario, agreed.terms)),
            "closed": closed,
        },
    )
    return new_state, [event]


def _maybe_conclude(
    scenario: Scenario, state: TableState, pid: int, events: list[Event]
) -> tuple[TableState, list[Event]]:
    p = state.proposal(pid)
    if p is not None and current_phase(scenario, state).agreement and _fully_accepted(scenario, p):
        state, more = _conclude(scenario, state, pid)
        events = [*events, *more]
    return state, events


# -- actions ---------------------------------------------------------------------------------


def _start(scenario: Scenario, state: TableState) -> tuple[TableState, list[Event]]:
    if state.ended:
        raise RuleViolation(PHASE, gettext_noop("The negotiation at this table has ended."))
    if state.started:
        raise RuleViolation(PHASE, gettext_noop("The negotiation at this table has already started."))
    if not scenario.phases:
        raise RuleViolation(
            INVALID, gettext_noop("This scenario has no phases, so the negotiation cannot start.")
        )
    new = replace(state, started=True)
    return new, [Event("phase.changed", {"phase": phase_data(current_phase(scenario, new))})]


def _make(scenario: Scenario, state: TableState, a: MakeProposal) -> tuple[TableState, list[Event]]:
    role = _check_role(scenario, a.role)
    _check_running(state)
    if not isinstance(a.note, str):
        raise RuleViolation(INVALID, gettext_noop("The note of a proposal must be text."))
    if len(a.note) > NOTE_MAX_CHARS:
        raise RuleViolation(
            INVALID,
            gettext_noop("The note is {length} characters long; keep it to {limit} at most."),
            length=len(a.note),
            limit=NOTE_MAX_CHARS,
        )
    terms = check_terms(scenario, a.terms)
    original: Proposal | None = None
    if a.replaces is not None:
        original = _find(state, a.replaces, "counter")
        _check_open(state, original, "counter")

    translations = dict(a.note_translations or {}) if a.note else {}
    for lang, text in translations.items():
        if not isinstance(text, str) or len(text) > NOTE_MAX_CHARS:
            raise RuleViolation(
                INVALID, f"The note's {lang} text must be text of {NOTE_MAX_CHARS} characters at most."
            )
    new = Proposal(
        id=state.next_id,
        author=role,
        terms=terms,
        note=a.note,
        replaces=a.replaces,
        status=OPEN,
        answers={role: ACCEPT},
        phase=current_phase(scenario, state).key,
        note_translations=translations,
    )
    state = replace(state, proposals=(*state.proposals, new), next_id=state.next_id + 1)
    closed: list[int] = []
    follow: list[Event] = []
    if original is not None:
        if original.author == role:
            state = _with_proposal(state, replace(original, status=REPLACED))
            closed.append(original.id)
        elif original.answers.get(role) != REJECT:
            state = _with_proposal(state, replace(original, answers={**original.answers, role: REJECT}))
            # The rejection names the counter that carries it, so a transcript can link the two.
            follow.append(
                Event(
                    "proposal.answered",
                    {"proposal": original.id, "role": role, "answer": REJECT, "counter": new.id},
                )
            )
    events = [Event("proposal.made", {"proposal": new.to_dict(), "closed": closed}), *follow]
    return _maybe_conclude(scenario, state, new.id, events)


def _answer(scenario: Scenario, state: TableState, a: Answer) -> tuple[TableState, list[Event]]:
    role = _check_role(scenario, a.role)
    if not state.started:
        raise RuleViolation(PHASE, gettext_noop("The negotiation has not started yet."))
    if a.answer not in ANSWERS:
        raise RuleViolation(
            INVALID,
            gettext_noop("Answer a proposal with 'accept' or 'reject', not {answer}."),
            answer=repr(a.answer),
        )
    p = _find(state, a.proposal, "answer")
    _check_open(state, p, "answer")
    _check_running(state)
    if p.answers.get(role) == a.answer:
        return state, []
    state = _with_proposal(state, replace(p, answers={**p.answers, role: a.answer}))
    events = [Event("proposal.answered", {"proposal": p.id, "role": role, "answer": a.answer})]
    return _maybe_conclude(scenario, state, p.id, events)


def _withdraw(scenario: Scenario, state: TableState, a: Withdraw) -> tuple[TableState, list[Event]]:
    role = _check_role(scenario, a.role)
    if not state.started:
        raise RuleViolation(PHASE, gettext_noop("The negotiation has not started yet."))
    p = _find(state, a.proposal, "withdraw")
    if p.author != role:
        raise RuleViolation(FORBIDDEN, gettext_noop("Only its author may withdraw proposal {id}."), id=p.id)
    _check_open(state, p, "withdraw")
    _check_running(state)
    state = _with_proposal(state, replace(p, status=WITHDRAWN))
    return state, [Event("proposal.withdrawn", {"proposal": p.id})]


def _advance(scenario: Scenario, state: TableState) -> tuple[TableState, list[Event]]:
    _check_running(state)
    if state.phase_index + 1 >= len(scenario.phases):
        raise RuleViolation(PHASE, gettext_noop("This is already the last phase of the negotiation."))
    state = replace(state, phase_index=state.phase_index + 1)
    phase = current_phase(scenario, state)
    events = [Event("phase.changed", {"phase": phase_data(phase)})]
    if phase.agreement:
        ready = [p.id for p in open_proposals(state) if _fully_accepted(scenario, p)]
        if ready:
            state, more = _conclude(scenario, state, min(ready))
            events += more
    return state, events


def _news(scenario: Scenario, state: TableState, a: InjectNews) -> tuple[TableState, list[Event]]:
    if state.ended:
        raise RuleViolation(
            PHASE, gettext_noop("The negotiation at this table has ended; news no longer reaches it.")
        )
    item = scenario.news_item(a.key) if isinstance(a.key, str) else None
    if item is None:
        raise RuleViolation(
            INVALID, gettext_noop("{key} is not a news item of this scenario."), key=repr(a.key)
        )
    if item.key in state.news:
        raise RuleViolation(
            CONFLICT,
            gettext_noop("The news “{headline}” has already reached this table."),
            headline=item.headline,
        )
    state = replace(state, news=(*state.news, item.key))
    return state, [Event("news", {"key": item.key, "headline": item.headline, "body": item.body})]


def _end(state: TableState) -> tuple[TableState, list[Event]]:
    if state.ended:
        return state, []
    proposals = tuple(replace(p, status=CLOSED) if p.is_open else p for p in state.proposals)
    return replace(state, proposals=proposals, ended=True), []


def apply(scenario: Scenario, state: TableState, action: Action) -> tuple[TableState, list[Event]]:
    """The state after ``action`` and the events it produced; ``RuleViolation`` if refused."""
    match action:
        case Start():
            return _start(scenario, state)
        case MakeProposal():
            return _make(scenario, state, action)
        case Answer():
            return _answer(scenario, state, action)
        case Withdraw():
            return _withdraw(scenario, state, action)
        case AdvancePhase():
            return _advance(scenario, state)
        case InjectNews():
            return _news(scenario, state, action)
        case End():
            return _end(state)
    raise TypeError(f"not a rules action: {action!r}")
