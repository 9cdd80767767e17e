"""A bot that plays one role at one table: a pure, explainable negotiation policy.

**What the bot knows.** Exactly what a student in its seat knows, gathered in a
:class:`BotView`: its own values (points per option, news applied) and no-deal value, the
*public* scenario (issues, options, commits, phases, necessary signatories and the durability
model, but no other role's points, brief, no-deal value or news value effects; see
:func:`public_scenario`), the news the table received, the chat lines its role can read, and
the proposals and answers on the table. The durability "what if?" is public and depends only
on the options' loadings, the news and the model, so the bot asks it of the public scenario
(:meth:`BotView.durability`).

**What it wants.** Its expected total for a package is the game's own formula computed from its
own values (:func:`game.engine.scoring.total_of`), where D is the package's expected share of
peace. A durable package can therefore beat a greedier one.

**How it plays** (:func:`decide`, one action per call, the first that applies):

1. *Talk*: an opening statement; afterwards one short line about the latest proposal it made
   or answered, in its role's voice, naming the options and the durability numbers (never
   its points).
2. *Accept* an open proposal it must sign when the proposal's expected total reaches its
   current *aspiration*. The aspiration starts near the best expected total it could get and
   falls over the negotiation's time towards its no-deal value (plus a small reserve),
   faster or slower according to a temperament drawn from its seed (:class:`Temperament`);
   by its concession deadline it accepts anything that beats no deal, never less.
   It takes a signature back only if news made the package worse than no deal.
3. *Counter* (``replaces``) a proposal it must sign but will not accept, with the package it
   would propose now; it rejects plainly only when that package is already on the table with
   its support.
4. *Tidy up*: withdraw its own older offers that nobody else signed.
5. *Propose* the package that others most plausibly accept among those that meet its
   aspiration (among nearly equally plausible ones, the best for itself), unless it already
   backs an open proposal about as plausible. Without seeing their values it reads public
   signals: options a role proposed or accepted are believed acceptable to it (recent
   proposals more so), options a role countered away from or rejected less so, and more
   durable packages are believed easier to sign for everyone (the durability model is built
   from what each side can live with).

Deterministic: the same view and seed give the same decision. Pure Python: no Django here.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import random
import re
import threading
import weakref
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, TypeAlias

from game.engine import messages, rules
from game.engine.durability import Durability, evaluator, seed_from
from game.engine.rules import ACCEPT, REJECT, Answer, MakeProposal, Proposal, Withdraw
from game.engine.scenario import Issue, NewsItem, Option, Role, Scenario
from game.engine.scoring import total_of

TABLE = "table"
# Above this many packages the bot considers a fixed sample of them (plus every package on the table).
MAX_PACKAGES = 6000
# How much more plausible a package must look before the bot puts it on the table while it
# already supports an open proposal.
REPLACE_MARGIN = 0.08
# Packages this close to the most plausible one count as equally plausible (the bot then
# offers the one best for itself).
TOLERANCE = 0.1
# Weight of durability (0-1) in the bot's guess of what others accept.
DURABILITY_WEIGHT = 1.0
# Evidence about another role's liking of an option (see _beliefs).
PROPOSED, ACCEPTED, RECENCY = 1.0, 0.7, 0.6
REJECTED, COUNTERED = 0.3, 0.6
CERTAIN = 10.0  # a package the role has already signed


# -- what the bot sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatLine:
    role: str
    channel: str
    text: str


@dataclass(frozen=True)
class Say:
    """A chat message: the only decision the rules engine does not apply itself."""

    channel: str
    text: str


Decision: TypeAlias = Say | MakeProposal | Answer | Withdraw


def _freeze_values(values: Mapping[str, Mapping[str, float]]) -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType({ik: MappingProxyType(dict(opts)) for ik, opts in values.items()})


@dataclass(frozen=True)
class BotView:
    """Everything the bot may know, and nothing else.

    ``scenario`` must be the role's :func:`public_scenario`; ``values`` are the role's own
    points ({issue: {option: points}}, news applied) and ``no_deal_value`` its own. ``progress``
    is the share of the negotiation's time already spent (0 at the start, 1 at the end of the
    last phase). ``talk`` False (the balance simulation) skips chat.
    """

    role: str
    scenario: Scenario
    values: Mapping[str, Mapping[str, float]]
    no_deal_value: float
    news: tuple[str, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    chat: tuple[ChatLine, ...] = ()
    phase_index: int = 0
    progress: float = 0.0
    started: bool = True
    ended: bool = False
    seed: int = 0
    talk: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _freeze_values(self.values))
        object.__setattr__(self, "news", tuple(self.news))
        object.__setattr__(self, "proposals", tuple(self.proposals))
        object.__setattr__(self, "chat", tuple(self.chat))
        hidden = any(r.key != self.role and (r.brief or r.no_deal_value) for r in self.scenario.roles) or any(
            set(o.points) - {self.role} for i in self.scenario.issues for o in i.options
        )
        if hidden:
            raise ValueError(
                "BotView.scenario must be the role's public_scenario(): it holds others' secrets."
            )
        key = (
            self.role,
            self.no_deal_value,
            tuple(tuple(sorted(opts.items())) for _, opts in sorted(self.values.items())),
        )
        object.__setattr__(self, "_values_key", key)  # not a field: the utility cache's key

    def durability(self, terms: Mapping[str, str]) -> Durability:
        """The public what-if: the package's durability given the news (no story drawn)."""
        return evaluator(self.scenario).evaluate(terms, self.news)


# -- the public scenario ----------------------------------------------------------------------

_public_cache: dict[tuple[int, str], tuple[weakref.ref[Scenario], Scenario]] = {}
_public_lock = threading.Lock()


def public_scenario(scenario: Scenario, role: str) -> Scenario:
    """The scenario as ``role`` knows it: every other role's points, brief, no-deal value,
    peace weight and news value effects removed. Cached per scenario object and role."""
    key = (id(scenario), role)
    hit = _public_cache.get(key)
    if hit is not None and hit[0]() is scenario:
        return hit[1]
    public = _strip(scenario, role)
    with _public_lock:
        _public_cache[key] = (weakref.ref(scenario), public)
        weakref.finalize(scenario, _public_cache.pop, key, None)
    return public


def _strip(s: Scenario, role: str) -> Scenario:
    def role_of(r: Role) -> Role:
        if r.key == role:
            return r
        return Role(
            key=r.key,
            name=r.name,
            colour=r.colour,
            description=r.description,
            mediator=r.mediator,
            voice=r.voice,
        )

    def option_of(o: Option) -> Option:
        own = {role: o.points[role]} if role in o.points else {}
        return replace(o, points=own)

    def news_of(n: NewsItem) -> NewsItem:
        own = {role: n.value_effects[role]} if role in n.value_effects else {}
        return replace(n, value_effects=own)

    return replace(
        s,
        roles=tuple(role_of(r) for r in s.roles),
        issues=tuple(replace(i, options=tuple(option_of(o) for o in i.options)) for i in s.issues),
        news=tuple(news_of(n) for n in s.news),
    )


# -- temperament ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Temperament:
    """How a bot concedes, drawn from its seed.

    Aspiration at progress t: ``floor + (start - floor) * (1 - min(1, t / deadline) ** (1 / beta))``
    where ``floor = no_deal + reserve`` and ``start`` is ``opening`` of the way from the floor to
    the best expected total. beta < 1 holds firm and concedes late; beta > 1 concedes early.
    """

    opening: float
    beta: float
    deadline: float
    reserve: float


@functools.lru_cache(maxsize=4096)
def temperament(seed: int) -> Temperament:
    rng = random.Random(seed)
    return Temperament(
        opening=rng.uniform(0.85, 1.0),
        beta=math.exp(rng.uniform(math.log(0.5), math.log(2.0))),
        deadline=rng.uniform(0.75, 0.95),
        reserve=rng.uniform(0.5, 2.0),
    )


# -- packages ---------------------------------------------------------------------------------


class _Book:
    """Every package of a (public scenario, news) with its public facts, computed once."""

    def __init__(self, scenario: Scenario, news: tuple[str, ...]) -> None:
        ev = evaluator(scenario)
        self.issue_keys = scenario.issue_keys
        self.issues: tuple[Issue, ...] = scenario.issues
        per_issue = [[o.key for o in i.options] for i in scenario.issues]
        total = math.prod(len(p) for p in per_issue)
        if total <= MAX_PACKAGES:
            combos = list(itertools.product(*per_issue))
        else:  # a fixed sample: the same for every role, table and run
            rng = random.Random(seed_from(scenario.slug, "packages"))
            combos = sorted({tuple(rng.choice(p) for p in per_issue) for _ in range(MAX_PACKAGES)})
        if scenario.exclusions:  # contradictory packages cannot be proposed: never consider them
            keys = scenario.issue_keys
            combos = [c for c in combos if not scenario.conflicts(dict(zip(keys, c, strict=True)))]
        self.model = scenario.model
        self.packages: list[tuple[str, ...]] = []
        self.index: dict[tuple[str, ...], int] = {}
        self.peace: list[float] = []
        self.hold: list[float] = []
        self.required: list[frozenset[str]] = []
        self.news = news
        self._ev = ev  # (no reference to the scenario: the book lives in its evaluator's memo)
        self._necessary = frozenset(scenario.necessary_signatories)
        self._commits = [{o.key: frozenset(o.commits) for o in i.options} for i in scenario.issues]
        self.utility: dict[Any, list[float]] = {}
        self.pending: dict[Any, bool] = {}
        self._get = operator.itemgetter(*self.issue_keys)
        for combo in combos:
            self._add(combo)

    def _add(self, combo: tuple[str, ...]) -> int:
        k = self.index.get(combo)
        if k is not None:
            return k
        terms = dict(zip(self.issue_keys, combo, strict=True))
        d = self._ev.evaluate(terms, self.news)
        k = len(self.packages)
        self.packages.append(combo)
        self.index[combo] = k
        self.peace.append(d.expected_peace)
        self.hold.append(d.p_hold)
        # as rules.required_signatories: the necessary signatories plus every committed role
        self.required.append(
            self._necessary.union(*(c[ok] for c, ok in zip(self._commits, combo, strict=True)))
        )
        for key, cache in self.utility.items():
            cache.append(math.nan)  # filled lazily by _utilities
            self.pending[key] = True
        return k

    def key_of(self, terms: Mapping[str, str]) -> int:
        combo = self._get(terms)
        if len(self.issue_keys) == 1:
            combo = (combo,)
        k = self.index.get(combo)
        return k if k is not None else self._add(combo)

    def terms(self, k: int) -> dict[str, str]:
        return dict(zip(self.issue_keys, self.packages[k], strict=True))


def _book(view: BotView) -> _Book:
    memo = evaluator(view.scenario).memo
    key = ("bot-book", tuple(sorted(dict.fromkeys(view.news))))
    book = memo.get(key)
    if book is None:
        book = memo[key] = _Book(view.scenario, key[1])
    return book


def _utilities(view: BotView, book: _Book) -> list[float]:
    """The view's expected total for every package of the book (cached per values)."""
    key = view._values_key
    us = book.utility.get(key)
    if us is not None and not book.pending.get(key):
        return us
    if us is None:
        if len(book.utility) > 64:
            book.utility.clear()
            book.pending.clear()
        us = book.utility[key] = [math.nan] * len(book.packages)
    vals = [view.values.get(ik, {}) for ik in book.issue_keys]
    worst = sum(min(v.values(), default=0.0) for v in vals)
    best = sum(max(v.values(), default=0.0) for v in vals)
    model = book.model
    for k, u in enumerate(us):
        if u == u:  # not NaN
            continue
        raw = sum(v.get(ok, 0.0) for v, ok in zip(vals, book.packages[k], strict=True))
        tac = 50.0 if best == worst else 100.0 * (raw - worst) / (best - worst)
        us[k] = total_of(model, tac, book.peace[k])
    book.pending[key] = False
    return us


def expected_total(view: BotView, terms: Mapping[str, str]) -> float:
    """The bot's expected total for a package: the game's own formula (scoring.total_of)."""
    book = _book(view)
    k = book.key_of(terms)
    return _utilities(view, book)[k]


def aspiration(view: BotView) -> float:
    """The expected total the bot holds out for now; never below its no-deal value."""
    return _aspiration(view, _utilities(view, _book(view)))


def _aspiration(view: BotView, us: Sequence[float]) -> float:
    t = temperament(view.seed)
    floor = view.no_deal_value + t.reserve
    best = max(us, default=floor)
    if best <= floor:
        return floor
    start = floor + (best - floor) * t.opening
    x = min(1.0, max(0.0, view.progress) / t.deadline)
    return floor + (start - floor) * (1.0 - x ** (1.0 / t.beta))


# -- reading the others -----------------------------------------------------------------------


@dataclass
class _Evidence:
    """What the table revealed about one role."""

    rows: list[defaultdict[str, float]]  # per issue: option -> evidence in [-1, 1]
    signed: set[tuple[str, ...]]  # packages it has signed that are still open


# (proposals, beliefs) of the last call, as one tuple so that threads never see half of it.
_beliefs_memo: list[tuple[tuple[Proposal, ...], dict[str, _Evidence]] | None] = [None]


def _beliefs(book: _Book, proposals: tuple[Proposal, ...]) -> dict[str, _Evidence]:
    """What the proposals and answers on the table reveal about every role.

    A role's own proposals count most (the latest fully, older ones less), options in
    proposals it accepted a little less; options it only ever rejected or countered away
    from count against it. The same for every reader (each bot ignores what it reads about
    itself), so the last result is reused while the proposals are the same object."""
    hit = _beliefs_memo[0]
    if hit is not None and hit[0] is proposals:
        return hit[1]
    n = len(book.issue_keys)
    get = book._get
    combos = {p.id: ((get(p.terms),) if n == 1 else get(p.terms)) for p in proposals}
    issues = range(n)
    pos: dict[str, list[dict[str, float]]] = {}
    neg: dict[str, list[dict[str, float]]] = {}
    signed: dict[str, set[tuple[str, ...]]] = {}
    authors = {p.id: p.author for p in proposals}
    later: dict[str, int] = {}
    for p in reversed(proposals):  # newest first
        a = p.author
        combo = combos[p.id]
        c = later.get(a, 0)
        later[a] = c + 1
        w = PROPOSED * RECENCY**c
        rows = pos.get(a) or pos.setdefault(a, [{} for _ in issues])
        for i in issues:
            row, ok = rows[i], combo[i]
            if row.get(ok, 0.0) < w:
                row[ok] = w
        is_open = p.status == rules.OPEN
        if is_open:
            signed.setdefault(a, set()).add(combo)
        r0 = p.replaces
        if r0 is not None and r0 in combos and authors[r0] != a:
            old = combos[r0]
            nrows = neg.get(a) or neg.setdefault(a, [{} for _ in issues])
            for i in issues:
                if old[i] != combo[i]:
                    nrows[i][old[i]] = nrows[i].get(old[i], 0.0) + COUNTERED
        for r, ans in p.answers.items():
            if r == a:
                continue
            if ans == ACCEPT:
                rows = pos.get(r) or pos.setdefault(r, [{} for _ in issues])
                for i in issues:
                    row, ok = rows[i], combo[i]
                    if row.get(ok, 0.0) < ACCEPTED:
                        row[ok] = ACCEPTED
                if is_open:
                    signed.setdefault(r, set()).add(combo)
            else:
                nrows = neg.get(r) or neg.setdefault(r, [{} for _ in issues])
                for i in issues:
                    nrows[i][combo[i]] = nrows[i].get(combo[i], 0.0) + REJECTED
    out: dict[str, _Evidence] = {}
    for r in pos.keys() | neg.keys():
        prows = pos.get(r) or [{} for _ in issues]
        nrows = neg.get(r) or [{} for _ in issues]
        rows = [defaultdict(float, prow) for prow in prows]
        for row, prow, nrow in zip(rows, prows, nrows, strict=True):
            for ok, x in nrow.items():
                if not prow.get(ok):
                    row[ok] = -min(1.0, x)
        out[r] = _Evidence(rows, signed.get(r, set()))
    _beliefs_memo[0] = (proposals, out)
    return out


_item = defaultdict.__getitem__


def _plausibility(me: str, book: _Book, k: int, beliefs: Mapping[str, _Evidence]) -> float:
    """How plausibly the package's other required signatories accept it (higher is better):
    durability, plus the evidence of the least convinced of them."""
    combo = book.packages[k]
    least = None
    for r in book.required[k]:
        if r == me:
            continue
        e = beliefs.get(r)
        if e is None:
            score = 0.0
        elif combo in e.signed:
            score = CERTAIN
        else:
            score = sum(map(_item, e.rows, combo)) / len(combo)
        if least is None or score < least:
            least = score
    return DURABILITY_WEIGHT * book.peace[k] + (least or 0.0)


def _choose(view: BotView, book: _Book, us: Sequence[float], level: float, beliefs) -> int | None:
    """The package to offer: among those that meet the aspiration ``level``, the ones the
    others most plausibly accept (within ``TOLERANCE`` of the most plausible); of these, the
    best for the bot (then the first in scenario order)."""
    me = view.role
    packages, required, peace = book.packages, book.required, book.peace
    scored = []
    for k, u in enumerate(us):
        if u < level:
            continue
        combo = packages[k]
        least = None
        for r in required[k]:  # inlined _plausibility: this loop is the simulation's hot spot
            if r == me:
                continue
            e = beliefs.get(r)
            if e is None:
                score = 0.0
            elif combo in e.signed:
                score = CERTAIN
            else:
                score = sum(map(_item, e.rows, combo)) / len(combo)
            if least is None or score < least:
                least = score
        scored.append((DURABILITY_WEIGHT * peace[k] + (least or 0.0), k))
    if not scored:
        return None
    top = max(p for p, _ in scored) - TOLERANCE
    return max((us[k], -k) for p, k in scored if p >= top)[1] * -1


# -- the decision -----------------------------------------------------------------------------

_MENTION = re.compile(r"\bproposals? (\d+)(?: and (\d+))?", re.IGNORECASE)


def decide(view: BotView) -> Decision | None:
    """The bot's next action, or None to wait. See the module docstring for the policy."""
    if not view.started or view.ended:
        return None
    me = view.role
    book = _book(view)
    us = _utilities(view, book)
    level = _aspiration(view, us)
    keys = {p.id: book.key_of(p.terms) for p in view.proposals}
    open_ = [p for p in view.proposals if p.is_open]
    mine = [p for p in open_ if p.author == me]
    mine_lines = [c for c in view.chat if c.role == me]

    # 1. Introduce ourselves.
    if view.talk and not any(c.channel == TABLE for c in mine_lines):
        return Say(TABLE, _opening(view, book))

    def must_sign(p: Proposal) -> bool:
        return me in book.required[keys[p.id]]

    def u_of(p: Proposal) -> float:
        return us[keys[p.id]]

    theirs = [p for p in open_ if p.author != me and must_sign(p)]
    supported = [p for p in open_ if p.answers.get(me) == ACCEPT]  # ours, and those we signed
    # 2. Explain what we just did: one line about the latest proposal we made or answered.
    if view.talk:
        line = _comment(view, book, mine_lines, supported)
        if line is not None:
            return Say(TABLE, line)

    # 3. Accept the best proposal that meets our aspiration.
    good = [p for p in theirs if p.answers.get(me) != ACCEPT and u_of(p) >= level]
    if good:
        p = max(good, key=lambda p: (u_of(p), -p.id))
        return Answer(me, p.id, ACCEPT)
    # 4. Take back a signature that news has made worse than no deal.
    floor = view.no_deal_value
    bad = [p for p in theirs if p.answers.get(me) == ACCEPT and u_of(p) < floor]
    if bad:
        return Answer(me, bad[0].id, REJECT)

    beliefs = _beliefs(book, view.proposals)
    choice = _choose(view, book, us, level, beliefs)
    # 5. Counter (or reject) the oldest proposal we have not answered.
    unanswered = [p for p in theirs if me not in p.answers]
    if unanswered:
        p = unanswered[0]
        if choice is None or any(keys[q.id] == choice for q in supported):
            return Answer(me, p.id, REJECT)  # our offer already stands: say so, do not repeat it
        terms = book.terms(choice)
        return MakeProposal(me, terms, note=_note(view, book, choice, against=p), replaces=p.id)

    # 6. Withdraw our older offers that nobody else has signed.
    if len(mine) > 1:
        for p in mine[:-1]:
            if not any(r != me and a == ACCEPT for r, a in p.answers.items()):
                return Withdraw(me, p.id)

    # 7. Put our best plausible package on the table, or improve our standing offer.
    if choice is None:
        return None
    for p in open_:
        if keys[p.id] == choice and (p.author == me or not must_sign(p) or p.answers.get(me) == ACCEPT):
            return None  # it is already on the table with our support
    terms = book.terms(choice)
    if supported:  # only if it looks clearly more plausible than what we already back
        backed = max(_plausibility(me, book, keys[q.id], beliefs) for q in supported)
        if _plausibility(me, book, choice, beliefs) - backed <= REPLACE_MARGIN:
            return None
    note = _note(view, book, choice, against=None)
    if mine:
        return MakeProposal(me, terms, note=note, replaces=mine[-1].id)
    return MakeProposal(me, terms, note=note)


def words_in(view: BotView, decision: Decision, scenarios: Mapping[str, Scenario]) -> dict[str, str]:
    """The words of ``decision`` (a chat line, or a proposal's note) in other languages.

    ``scenarios`` maps languages to this role's public scenario localized into each. The policy
    decides on numbers, keys and its own earlier lines, never on its scenario's words, so the same
    view with another language's scenario makes the same decision, told in that language; a
    language where the decision came out otherwise (which would be a bug) is left out rather
    than mistranslated."""
    if isinstance(decision, Say):
        pass
    elif not (isinstance(decision, MakeProposal) and decision.note):
        return {}
    out: dict[str, str] = {}
    for lang, scenario in scenarios.items():
        if scenario.language == view.scenario.language:
            continue
        other = decide(replace(view, scenario=scenario))
        if isinstance(decision, Say) and isinstance(other, Say) and other.channel == decision.channel:
            out[lang] = other.text
        elif (
            isinstance(decision, MakeProposal)
            and isinstance(other, MakeProposal)
            and dict(other.terms) == dict(decision.terms)
            and other.replaces == decision.replaces
        ):
            out[lang] = other.note
    return out


# -- words ------------------------------------------------------------------------------------

# The voice of a role comes from the scenario (``Role.voice``). A kind of line a role's voice
# leaves out is said in the generic voice of its position in the model: the side that must
# implement the concessions, the side able to restart the war, a mediator, or another party, in
# the scenario's language (game/engine/messages.py). English, for reference:
GENERIC_BY_POSITION: dict[str, dict[str, tuple[str, ...]]] = {
    k: v for k, v in messages.VOICES["en"].items() if k != "party"
}
GENERIC: dict[str, tuple[str, ...]] = messages.VOICES["en"]["party"]


def position(scenario: Scenario, role: str) -> str:
    """The role's position in the model: ``mediator``, ``implementer``, ``challenger`` or ``party``."""
    r = scenario.role(role)
    if r is not None and r.mediator:
        return "mediator"
    for side, key in scenario.model.sides.items():
        if key == role:
            return side
    return "party"


def voice_lines(scenario: Scenario, role: str, kind: str) -> tuple[str, ...]:
    r = scenario.role(role)
    own = r.voice.get(kind) if r is not None else None
    if own:
        return own
    return messages.voice(scenario.language, position(scenario, role), kind)


def _line(view: BotView, kind: str, salt: object, **fields: Any) -> str:
    voice = voice_lines(view.scenario, view.role, kind)
    text = voice[seed_from(view.seed, kind, salt) % len(voice)]
    r = view.scenario.role(view.role)
    years = view.scenario.model.horizon_years
    return text.format(
        name=r.name if r else view.role,
        years=years,
        span=messages.years(view.scenario.language, years),
        **fields,
    )


def _say(view: BotView, key: str, **fields: Any) -> str:
    return messages.text(view.scenario.language, key, **fields)


def _label(issue: Issue, ok: str) -> str:
    o = issue.option(ok)
    return o.label if o is not None and o.label else ok


# Package descriptions are cut to this length so that every line fits the chat and note limits.
TEXT_LIMIT = 600


def _clip(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _package_text(book: _Book, k: int) -> str:
    return _clip("; ".join(_label(i, ok) for i, ok in zip(book.issues, book.packages[k], strict=True)))


def _changes_text(book: _Book, k: int, against: Mapping[str, str], lang: str = "en") -> str:
    parts = []
    for i, ok in zip(book.issues, book.packages[k], strict=True):
        old = against.get(i.key)
        if old != ok:
            parts.append(messages.text(lang, "instead", new=_label(i, ok), old=_label(i, old or "")))
    if not parts or len(parts) == len(book.issues):
        return _package_text(book, k)
    return _clip("; ".join(parts))


def _pct(x: float) -> int:
    return round(100 * x)


def _note(view: BotView, book: _Book, k: int, against: Proposal | None) -> str:
    peace, hold, years = _pct(book.peace[k]), _pct(book.hold[k]), view.scenario.model.horizon_years
    lang = view.scenario.language
    head = (
        _say(view, "note_counter", id=against.id, changes=_changes_text(book, k, against.terms, lang))
        if against is not None
        else _say(view, "note_package", package=_package_text(book, k))
    )
    return _say(
        view,
        "note_durability",
        head=head,
        peace=peace,
        hold=hold,
        years=years,
        span=messages.years(lang, years),
    )


def _opening(view: BotView, book: _Book) -> str:
    # The issue where our points differ most, and our favourite option on it.
    def spread(i: Issue) -> float:
        v = view.values.get(i.key, {})
        return (max(v.values()) - min(v.values())) if v else 0.0

    top = max(book.issues, key=lambda i: (spread(i), -book.issues.index(i)))
    v = view.values.get(top.key, {})
    fav = max(top.options, key=lambda o: v.get(o.key, 0.0)).key if top.options else ""
    return _line(
        view,
        "opening",
        0,
        top_issue=_say(view, "quote", text=_clip(top.name, 200)),
        top_option=_say(view, "quote", text=_clip(_label(top, fav), 400)),
    )


def _comment(
    view: BotView, book: _Book, mine_lines: Sequence[ChatLine], supported: Sequence[Proposal]
) -> str | None:
    """A line about the latest proposal we made or answered, if we have not spoken of it."""
    me = view.role
    mentioned: set[int] = set()
    for c in mine_lines:
        for m in _MENTION.finditer(c.text):
            mentioned.update(int(g) for g in m.groups() if g)
    touched = [p for p in view.proposals if p.author == me or me in p.answers]
    if not touched:
        return None
    p = max(touched, key=lambda p: p.id)
    if p.id in mentioned:
        return None
    k = book.key_of(p.terms)
    fields = {"id": p.id, "peace": _pct(book.peace[k]), "hold": _pct(book.hold[k])}
    by_id = {q.id: q for q in view.proposals}
    if p.author == me:
        orig = by_id.get(p.replaces) if p.replaces is not None else None
        if orig is not None and orig.author != me:
            return _line(
                view,
                "counter",
                p.id,
                other=orig.id,
                changes=_changes_text(book, k, orig.terms, view.scenario.language),
                **fields,
            )
        return _line(view, "propose", p.id, package=_package_text(book, k), **fields)
    if p.answers.get(me) == ACCEPT:
        return _line(view, "accept", p.id, **fields)
    own = supported[-1] if supported else None
    if own is not None:
        return _line(view, "reject", p.id, own=own.id, **fields)
    return _line(view, "reject_alone", p.id, **fields)


# -- building a view --------------------------------------------------------------------------


def progress_of(durations: Sequence[float], phase_index: int, elapsed: float) -> float:
    """Share of the whole negotiation's time spent: past phases plus ``elapsed`` seconds of the
    current one (clamped to its duration)."""
    total = float(sum(durations)) or 1.0
    i = max(0, min(phase_index, len(durations) - 1)) if durations else 0
    done = float(sum(durations[:i]))
    cur = float(durations[i]) if durations else 0.0
    return min(1.0, (done + min(max(elapsed, 0.0), cur)) / total)


def view_from_state(
    state: Mapping[str, Any], public: Scenario, *, progress: float, seed: int, talk: bool = True
) -> BotView:
    """A view from ``snapshots.player_state`` (which holds only this seat's values)."""
    you = state["you"]
    table = state.get("table") or {}
    phase = (state.get("session") or {}).get("phase") or {}
    news = tuple(n["key"] for n in state.get("news", ()))
    return BotView(
        role=you["role"],
        scenario=public,
        values=you.get("values") or {},
        no_deal_value=float(you.get("no_deal_value", 0.0)),
        news=news,
        proposals=tuple(Proposal.from_dict(p) for p in state.get("proposals", ())),
        chat=tuple(
            ChatLine(c.get("role", ""), c.get("channel", TABLE), c.get("text", ""))
            for c in state.get("chat", ())
        ),
        phase_index=int(phase.get("index", 0) or 0),
        progress=progress,
        started=bool(table.get("started")),
        ended=bool(table.get("ended")),
        seed=seed,
        talk=talk,
    )


@dataclass
class SimSeat:
    """A bot's seat in an engine-only game (the balance simulation): its own values come from
    the referee's full scenario, exactly as ``player_state`` gives them to a live bot."""

    role: str
    public: Scenario
    no_deal_value: float
    seed: int
    chat: list[ChatLine] = field(default_factory=list)

    def view(self, values, state: rules.TableState, progress: float, talk: bool = False) -> BotView:
        return BotView(
            role=self.role,
            scenario=self.public,
            values=values,
            no_deal_value=self.no_deal_value,
            news=state.news,
            proposals=state.proposals,
            chat=tuple(self.chat),
            phase_index=state.phase_index,
            progress=progress,
            started=state.started,
            ended=state.ended,
            seed=self.seed,
            talk=talk,
        )
