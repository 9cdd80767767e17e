"""Bot-only games in the engine and the balance report an instructor reads after editing a scenario.

``play_game`` runs one table with a bot in every role as a pure loop of ``rules.apply`` (no
sockets, no database): each phase has a few rounds, in every round each role acts once (the
first mover rotates from a seeded start), then the phase advances. ``balance`` plays many such
games, each with its own seed (the bots' temperaments and the first mover come from it), and
summarises: how often a table agrees, on what, how durable those deals are, what each role
scores, and what broke the deals that collapsed. ``format_report`` prints it for the
``simulate`` command; the staff page renders the same dict.

No Django here either, so the command, the page and the tests share one code path.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from game.engine import bot, messages, rules, scoring
from game.engine.backtest import spearman
from game.engine.durability import BASELINE_CAUSE_KEY, NO_DEAL_CAUSE_KEY, seed_from
from game.engine.scenario import Scenario

ROUNDS_PER_PHASE = 6
MAX_PAGE_GAMES = 500


@dataclass
class Game:
    seed: int
    terms: dict[str, str] | None
    outcome: dict[str, Any]
    actions: int
    proposals: int
    first_mover: str
    phase_concluded: str | None = None
    log: list[tuple[str, str]] = field(default_factory=list)  # (role, what) when kept


def game_seed(seed: int, game: int) -> int:
    return seed_from("balance", seed, game)


def play_game(
    scenario: Scenario,
    seed: int,
    *,
    rounds: int = ROUNDS_PER_PHASE,
    news: Sequence[str] = (),
    talk: bool = False,
    keep_log: bool = False,
) -> Game:
    """One bot-only table from start to outcome, deterministic for ``seed``."""
    roles = scenario.role_keys
    seats = {
        r: bot.SimSeat(
            role=r,
            public=bot.public_scenario(scenario, r),
            no_deal_value=float(scenario.role(r).no_deal_value),  # type: ignore[union-attr]
            seed=seed_from(seed, r),
        )
        for r in roles
    }
    rng = random.Random(seed)
    first = rng.randrange(len(roles))
    order = roles[first:] + roles[:first]
    durations = [p.duration_seconds for p in scenario.phases]

    state, _ = rules.apply(scenario, rules.TableState(), rules.Start())
    for key in news:
        state, _ = rules.apply(scenario, state, rules.InjectNews(key))
    values = {r: scoring.role_values(scenario, r, state.news) for r in roles}
    actions = 0
    log: list[tuple[str, str]] = []
    concluded = None
    for phase_index in range(len(scenario.phases)):
        for rnd in range(rounds):
            elapsed = durations[phase_index] * (rnd + 1) / rounds
            progress = bot.progress_of(durations, phase_index, elapsed)
            for i in range(len(order)):
                role = order[(i + rnd) % len(order)]
                seat = seats[role]
                decision = bot.decide(seat.view(values[role], state, progress, talk=talk))
                if decision is None:
                    continue
                actions += 1
                if isinstance(decision, bot.Say):
                    seat_line = bot.ChatLine(role, decision.channel, decision.text)
                    for s in seats.values():
                        if decision.channel == bot.TABLE or s.role in decision.channel.split("+"):
                            s.chat.append(seat_line)
                    if keep_log:
                        log.append((role, f"says: {decision.text}"))
                    continue
                state, _ = rules.apply(scenario, state, decision)
                if keep_log:
                    log.append((role, _describe(decision)))
                if state.ended:
                    break
            if state.ended:
                break
        if state.ended:
            concluded = concluded or scenario.phases[state.phase_index].key
            break
        if phase_index + 1 < len(scenario.phases):
            state, _ = rules.apply(scenario, state, rules.AdvancePhase())
            if state.ended:  # a proposal signed earlier concludes as the agreement phase opens
                concluded = scenario.phases[state.phase_index].key
                break
    if not state.ended:
        state, _ = rules.apply(scenario, state, rules.End())
    terms = None
    if state.agreement is not None:
        agreed = state.proposal(state.agreement)
        terms = dict(agreed.terms) if agreed is not None else None
    outcome = scoring.outcome(scenario, terms, news=state.news, seed=seed)
    return Game(
        seed=seed,
        terms=terms,
        outcome=outcome,
        actions=actions,
        proposals=len(state.proposals),
        first_mover=order[0],
        phase_concluded=concluded if terms is not None else None,
        log=log,
    )


def _describe(d: bot.Decision) -> str:
    if isinstance(d, rules.MakeProposal):
        how = f"counters {d.replaces}" if d.replaces is not None else "proposes"
        return f"{how}: {dict(d.terms)}"
    if isinstance(d, rules.Answer):
        return f"{d.answer}s {d.proposal}"
    if isinstance(d, rules.Withdraw):
        return f"withdraws {d.proposal}"
    return repr(d)


def balance(
    scenario: Scenario,
    games: int = 1000,
    seed: int = 0,
    *,
    rounds: int = ROUNDS_PER_PHASE,
    news: Sequence[str] = (),
) -> dict[str, Any]:
    """Play ``games`` bot-only games and summarise them (see the module docstring)."""
    start = time.perf_counter()
    results = [play_game(scenario, game_seed(seed, g), rounds=rounds, news=news) for g in range(games)]
    elapsed = time.perf_counter() - start
    return summarise(scenario, results, seed=seed, rounds=rounds, news=news, elapsed=elapsed)


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def summarise(
    scenario: Scenario,
    results: Sequence[Game],
    *,
    seed: int = 0,
    rounds: int = ROUNDS_PER_PHASE,
    news: Sequence[str] = (),
    elapsed: float = 0.0,
) -> dict[str, Any]:
    n = len(results)
    deals = [g for g in results if g.terms is not None]
    roles = scenario.roles

    by_package: dict[tuple[str, ...], list[Game]] = {}
    for g in deals:
        assert g.terms is not None
        by_package.setdefault(tuple(g.terms[ik] for ik in scenario.issue_keys), []).append(g)
    packages = []
    for combo, gs in sorted(by_package.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        d = gs[0].outcome["durability"]
        packages.append(
            {
                "terms": dict(zip(scenario.issue_keys, combo, strict=True)),
                "labels": [
                    {"issue": i.name, "option": (i.option(ok).label if i.option(ok) else ok)}  # type: ignore[union-attr]
                    for i, ok in zip(scenario.issues, combo, strict=True)
                ],
                "count": len(gs),
                "share": len(gs) / n if n else 0.0,
                "p_hold": d["p_hold"],
                "expected_peace": d["expected_peace"],
                "held_share": sum(1 for g in gs if g.outcome["durability"]["realized"]["held"]) / len(gs),
                "scores": {
                    r.key: {
                        "tactical": gs[0].outcome["scores"][r.key]["tactical"],
                        "total": gs[0].outcome["scores"][r.key]["total"],
                    }
                    for r in roles
                },
            }
        )

    causes = Counter()
    held = 0
    for g in results:
        realized = g.outcome["durability"]["realized"]
        if realized["held"]:
            held += 1
        else:
            causes[realized["cause_key"]] += 1
    factor_labels = {f.key: scenario.say(f.label) for f in scenario.model.factors}
    cause_rows = [
        {
            "key": k,
            "label": factor_labels.get(k)
            or (
                scenario.no_deal_label()
                if k == NO_DEAL_CAUSE_KEY
                else messages.text(scenario.language, "baseline_cause")
                if k == BASELINE_CAUSE_KEY
                else k
            ),
            "count": c,
            "share": c / n if n else 0.0,
            "after_deal": k != NO_DEAL_CAUSE_KEY,
        }
        for k, c in sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))
    ]

    table = scoring.package_table(scenario, news)
    comp = scoring.compromise(scenario, news)
    nd = {r.key: r.no_deal_value for r in roles}
    acceptable = [p for p in table if all(p.total[k] > nd[k] for k in nd)]

    def lesson_row(r) -> dict[str, Any]:
        """Over every package that can be agreed (no play): does greed pay this role?"""
        greedy = scoring.greediest(scenario, r.key, news)
        median = statistics.median(p.total[r.key] for p in acceptable) if acceptable else None
        pays = greedy.total[r.key] >= comp.total[r.key] or (
            median is not None and greedy.total[r.key] >= median
        )
        if r.mediator:  # not a party to the war: the greed check is about the parties
            pays = None
        return {
            "spearman_tactical_total": spearman(
                [p.tactical[r.key] for p in table], [p.total[r.key] for p in table]
            ),
            "greedy_total": greedy.total[r.key],
            "greedy_expected_peace": greedy.expected_peace,
            "compromise_total": comp.total[r.key],
            "median_acceptable_total": median,
            "greed_pays": pays,
        }

    def role_row(r) -> dict[str, Any]:
        tot = [g.outcome["scores"][r.key]["total"] for g in results]
        tac = [g.outcome["scores"][r.key]["tactical"] for g in deals]
        tot_deal = [g.outcome["scores"][r.key]["total"] for g in deals]
        return {
            "key": r.key,
            "name": r.name,
            "colour": r.colour,
            "no_deal_value": r.no_deal_value,
            "tactical": _mean(tac),
            "total": _mean(tot),
            "total_if_deal": _mean(tot_deal),
            "beats_no_deal": (sum(1 for t in tot_deal if t > r.no_deal_value) / len(deals))
            if deals
            else None,
            "lesson": lesson_row(r),
        }

    return {
        "scenario": {"slug": scenario.slug, "title": scenario.title},
        "games": n,
        "seed": seed,
        "rounds": rounds,
        "news": list(news),
        "elapsed": elapsed,
        "agreements": len(deals),
        "agreement_share": len(deals) / n if n else 0.0,
        "held": held,
        "held_share": held / n if n else 0.0,
        "p_hold": _mean([g.outcome["durability"]["p_hold"] for g in deals]),
        "expected_peace": _mean([g.outcome["durability"]["expected_peace"] for g in deals]),
        "mean_proposals": _mean([g.proposals for g in results]),
        "concluded_in": dict(Counter(g.phase_concluded for g in deals if g.phase_concluded)),
        "packages": packages,
        "distinct_packages": len(packages),
        "roles": [role_row(r) for r in roles],
        "causes": cause_rows,
        "horizon_years": scenario.model.horizon_years,
        "lesson": {
            "packages": len(table),
            "acceptable_packages": len(acceptable),
            "compromise": {
                "terms": dict(comp.terms),
                "labels": [
                    {"issue": i.name, "option": (i.option(comp.terms[i.key]).label)}  # type: ignore[union-attr]
                    for i in scenario.issues
                ],
                "p_hold": comp.p_hold,
                "expected_peace": comp.expected_peace,
            },
        },
    }


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def format_report(report: dict[str, Any], top: int = 10) -> str:
    """The balance report as plain text for a terminal."""
    r = report
    out = [
        f"Balance report: {r['scenario']['title']} ({r['scenario']['slug']})",
        f"{r['games']} bot-only games, seed {r['seed']}, {r['rounds']} rounds per phase"
        + (f", news: {', '.join(r['news'])}" if r["news"] else "")
        + f"; {r['elapsed']:.1f} s",
        "",
        f"Agreement reached: {r['agreements']} of {r['games']} games ({_pct(r['agreement_share'])}); "
        f"{r['distinct_packages']} different packages.",
        f"Durability of the agreements: mean p_hold {_pct(r['p_hold'])}, "
        f"mean expected peace {_pct(r['expected_peace'])} of {r['horizon_years']} years.",
        f"Peace held through the horizon (realised story) in {r['held']} games ({_pct(r['held_share'])}).",
        "",
        "Packages agreed (most frequent first):",
    ]
    for p in r["packages"][:top]:
        labels = " | ".join(x["option"] for x in p["labels"])
        out.append(
            f"  {p['count']:5d}  {_pct(p['share']):>6}  p_hold {_pct(p['p_hold']):>6}  "
            f"peace {_pct(p['expected_peace']):>6}  {labels}"
        )
    if len(r["packages"]) > top:
        rest = sum(p["count"] for p in r["packages"][top:])
        out.append(f"  {rest:5d}  in {len(r['packages']) - top} other packages")
    w = max([16, *(len(x["name"]) for x in r["roles"])])
    out += ["", "Scores by role (tactical: agreements only; total: all games):"]
    out.append(
        f"  {'role':<{w}} {'no deal':>8} {'tactical':>9} {'total':>7} {'total|deal':>11} {'deal > no deal':>15}"
    )
    for x in r["roles"]:
        out.append(
            f"  {x['name']:<{w}} {_num(x['no_deal_value']):>8} {_num(x['tactical']):>9} {_num(x['total']):>7} "
            f"{_num(x['total_if_deal']):>11} {_pct(x['beats_no_deal']):>15}"
        )
    les = r.get("lesson")
    if les:
        comp = " | ".join(x["option"] for x in les["compromise"]["labels"])
        out += [
            "",
            f"The lesson, over all {les['packages']} packages that can be agreed "
            f"({les['acceptable_packages']} better than no deal for every role):",
            f"  compromise (highest lowest total): {comp}; p_hold {_pct(les['compromise']['p_hold'])}, "
            f"peace {_pct(les['compromise']['expected_peace'])}",
            f"  {'role':<{w}} {'Spearman(tac,total)':>20} {'own maximum':>12} {'compromise':>11} "
            f"{'median acceptable':>18}  greed",
        ]
        for x in r["roles"]:
            ls = x["lesson"]
            verdict = (
                "a mediator: not checked"
                if ls["greed_pays"] is None
                else "PAYS: the lesson fails"
                if ls["greed_pays"]
                else "does not pay"
            )
            out.append(
                f"  {x['name']:<{w}} {ls['spearman_tactical_total']:>20.2f} {ls['greedy_total']:>12.1f} "
                f"{ls['compromise_total']:>11.1f} {_num(ls['median_acceptable_total']):>18}  {verdict}"
            )
    out += ["", "What broke the peace (realised story of every game):"]
    for c in r["causes"]:
        out.append(f"  {c['count']:5d}  {_pct(c['share']):>6}  {c['label']} ({c['key']})")
    if not r["causes"]:
        out.append("  nothing: every game's peace held")
    return "\n".join(out)
