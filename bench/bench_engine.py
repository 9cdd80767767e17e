"""How fast is the public "what if?"? Times the durability model and scoring over every package.

Run: ``.venv/bin/python bench/bench_engine.py [rounds]``

Evaluates all 5 x 5 x 5 = 125 packages of the default scenario ``rounds`` times (default 200)
and prints microseconds per package for each engine call, next to a baseline measured in the
same run: a plain Python loop over the same 125 packages that only multiplies three numbers
per package. "Computed" rows switch the Evaluator's per-(package, news) memo off, so they
are the worst case (a package nobody has asked about yet); the other rows are what the
game sees after the first ask. The target is well under 1,000 microseconds per preview.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from game.engine import durability as D  # noqa: E402
from game.engine import scoring as S  # noqa: E402
from game.engine.scenario import Scenario  # noqa: E402
from game.engine.scenario import packages as all_packages  # noqa: E402

DEFAULT_JSON = ROOT / "game" / "scenarios" / "default.json"


def per_package(fn, packages, rounds: int) -> float:
    """Best-of-3 microseconds per package for fn(terms)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            for terms in packages:
                fn(terms)
        best = min(best, time.perf_counter() - start)
    return 1e6 * best / (rounds * len(packages))


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    data = json.loads(DEFAULT_JSON.read_text(encoding="utf-8"))
    sc = Scenario.from_dict(data)
    packages = all_packages(sc)
    news = ("summer_offensive", "us_steps_back")
    ev = D.evaluator(sc)
    ev.evaluate(packages[0])
    S.preview(sc, "ukraine", packages[0], news)

    # Baseline: the same loop shape with trivial work, a product of three numbers per package.
    numbers = {
        ik: {ok: 1.0 + 0.01 * n for n, ok in enumerate(opts)}
        for ik, opts in zip(sc.issue_keys, [[o.key for o in i.options] for i in sc.issues], strict=True)
    }

    def baseline(terms):
        p = 1.0
        for ik, ok in terms.items():
            p *= numbers[ik][ok]
        return p

    seed = D.seed_from("BENCH", 1)
    cold_ev = D.Evaluator(sc, cache_size=0)  # memo off: every call computes the curve afresh
    rows = [
        ("baseline: product of 3 numbers", per_package(baseline, packages, rounds)),
        (
            "durability, computed (memo off)",
            per_package(lambda t: cold_ev.evaluate(t, news), packages, rounds),
        ),
        (
            "durability, computed + seeded story",
            per_package(lambda t: cold_ev.evaluate(t, news, seed), packages, rounds),
        ),
        (
            "durability.evaluate (what-if, no story)",
            per_package(lambda t: ev.evaluate(t, news), packages, rounds),
        ),
        (
            "durability.evaluate with a seeded story",
            per_package(lambda t: ev.evaluate(t, news, seed), packages, rounds),
        ),
        (
            "scoring.preview for one role (to_dict)",
            per_package(lambda t: S.preview(sc, "ukraine", t, news), packages, rounds),
        ),
        (
            "scoring.outcome: story + 4 scores + to_dict",
            per_package(lambda t: S.outcome(sc, t, news, seed), packages, rounds),
        ),
    ]
    cold_rounds = max(1, rounds // 10)
    start = time.perf_counter()
    for _ in range(cold_rounds):
        D.Evaluator(Scenario.from_dict(data))
    cold = 1e6 * (time.perf_counter() - start) / cold_rounds

    print(f"{len(packages)} packages x {rounds} rounds, news {list(news)}, Python {sys.version.split()[0]}")
    width = max(len(name) for name, _ in rows)
    for name, us in rows:
        print(f"  {name:<{width}}  {us:8.2f} us/package  ({us / rows[0][1]:6.1f} x baseline)")
    print(f"  {'Scenario.from_dict + Evaluator (cold)':<{width}}  {cold:8.2f} us once per scenario object")
    preview_us = rows[5][1]
    verdict = "OK" if preview_us < 1000 else "TOO SLOW"
    print(f"preview: {preview_us:.1f} us per package, target well under 1000 us: {verdict}")


if __name__ == "__main__":
    main()
