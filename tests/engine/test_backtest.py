"""The backtest: the figures computed by hand on small cases, the shipped cases file, and bad files."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from game.engine import backtest as B
from game.engine.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = Scenario.from_dict(
    json.loads((ROOT / "game" / "scenarios" / "default.json").read_text(encoding="utf-8"))
)
CASES = json.loads((ROOT / "game" / "backtest" / "cases.json").read_text(encoding="utf-8"))


# -- the figures by hand --------------------------------------------------------------------------


def test_harrell_c_counts_only_pairs_whose_earlier_time_is_a_failure():
    # a failed at 1, b failed at 3, c still holding at 2 (censored), d still holding at 10
    times = [1.0, 3.0, 2.0, 10.0]
    events = [True, True, False, False]
    # comparable pairs: (a,b) (a,c) (a,d) from a's failure; (b,d) from b's; c is censored, so
    # (c, anything) is not comparable and (b, c) is not either (b failed after c was last seen)
    perfect = [0.1, 0.3, 0.5, 0.9]
    assert B.harrell_c(perfect, times, events) == 1.0
    reversed_ = [0.9, 0.5, 0.3, 0.1]
    assert B.harrell_c(reversed_, times, events) == 0.0
    # one discordant pair of four: b predicted to outlast d
    assert B.harrell_c([0.1, 0.95, 0.5, 0.9], times, events) == pytest.approx(3 / 4)
    # ties count one half
    assert B.harrell_c([0.5, 0.5, 0.5, 0.5], times, events) == pytest.approx(0.5)


def test_spearman_and_kendall_handle_ties_and_perfect_orders():
    assert B.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert B.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert B.spearman([1, 1, 2, 2], [1, 2, 3, 4]) == pytest.approx(0.894427, abs=1e-6)
    assert B.kendall_tau([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert B.kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_brier_at_the_horizon_leaves_out_cases_last_seen_before_it_and_the_baseline_is_a_constant_rate():
    times = [1.0, 12.0, 4.0, 30.0]
    events = [True, True, False, False]  # the third case is still holding but seen only 4 years
    status = B.status_at(times, events, 10)
    assert status == [0.0, 1.0, None, 1.0]
    assert B.brier([0.2, 0.8, 0.5, 0.9], status) == pytest.approx((0.04 + 0.04 + 0.01) / 3)
    # one failure within ten years over 1 + 10 + 4 + 10 = 25 years observed within them
    assert B.constant_rate(times, events, 10) == pytest.approx(1 / 25)
    f = B.figures([0.2, 0.8, 0.5, 0.9], times, events, 10)
    assert f.baseline_survival == pytest.approx(math.exp(-10 / 25))
    assert f.brier_baseline == pytest.approx(B.brier([f.baseline_survival] * 4, status))


# -- the shipped cases ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report():
    return B.run(DEFAULT, B.parse_cases(CASES, DEFAULT))


def test_the_cases_file_codes_every_factor_of_every_case_with_a_source():
    cases = B.parse_cases(CASES, DEFAULT)
    assert len(cases.cases) >= 15
    factor_keys = {f.key for f in DEFAULT.model.factors}
    for c in cases.cases:
        assert set(c.values) == factor_keys, c.key
        assert all(len(s) > 20 for s in c.sources.values()), c.key
        assert c.signed.year >= 1945


def test_at_least_a_third_of_the_cases_failed_within_ten_years(report):
    f = report["figures"]["all"]
    assert f["failed_within_horizon"] * 3 >= f["n"]


def test_held_out_cases_are_every_third_by_signing_date_as_decided_before_tuning():
    cases = B.parse_cases(CASES, DEFAULT).cases  # sorted by signing date
    assert [c.set for c in cases] == ["held_out" if n % 3 == 2 else "tuning" for n in range(len(cases))]


def test_the_model_ranks_history_well_and_beats_a_constant_rate(report):
    figs = report["figures"]
    for name in ("all", "tuning", "held_out"):
        f = figs[name]
        assert f["c_index"] >= 0.8, (name, f)
        assert f["spearman"] >= 0.6, (name, f)
        assert f["brier"] < f["brier_baseline"], (name, f)
    assert figs["held_out"]["c_index"] >= 0.85


def test_minsk_ii_coded_from_history_collapses_within_seven_years_more_often_than_not(report):
    minsk = next(r for r in report["cases"] if r["key"] == "minsk_2_2015")
    assert minsk["survival"][6] < 0.5
    assert minsk["event"] and 6.9 < minsk["years"] < 7.1


def test_the_report_names_every_case_with_its_prediction_and_what_happened(report):
    text = B.format_report(report)
    for r in report["cases"]:
        assert r["name"][:40] in text
    assert "still holding after" in text and "war again after" in text
    assert json.loads(json.dumps(report)) == report


# -- bad files ------------------------------------------------------------------------------------


def _broken(mutate) -> dict:
    data = copy.deepcopy(CASES)
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format=2), "format"),
        (
            lambda d: d["cases"][0]["values"].pop("imposed"),
            "case 'korea_1953': factor 'imposed' is not coded",
        ),
        (
            lambda d: d["cases"][1]["values"]["imposed"].update(value="0.5"),
            "case 'egypt_israel_1970': factor 'imposed': value must be a number",
        ),
        (
            lambda d: d["cases"][2]["values"]["imposed"].update(source=""),
            "case 'cyprus_1974': factor 'imposed': every coded value needs a source",
        ),
        (
            lambda d: d["cases"][0]["values"].update(borders={"value": 1, "source": "typo"}),
            "case 'korea_1953': codes unknown factor 'borders'",
        ),
        (
            lambda d: d["cases"][0]["values"]["agreement_strength"].update(value=9),
            "case 'korea_1953': factor 'agreement_strength': value 9 lies outside its range",
        ),
        (lambda d: d["cases"][3].update(signed="1979-13-40"), "case 'egypt_israel_1979': signed"),
        (lambda d: d["cases"][4].update(set="training"), "case 'iran_iraq_1988': set must be one of"),
        (lambda d: d["cases"][5].update(key="korea_1953"), "two cases have this key"),
        (lambda d: d["cases"][6].update(renewed_war="1980-01-01"), "renewed_war comes before the signing"),
        (lambda d: d.update(cases=[]), "cases: must be a non-empty list"),
    ],
)
def test_a_malformed_cases_file_is_refused_naming_the_case_and_field(mutate, message):
    with pytest.raises(B.CasesError) as e:
        B.parse_cases(_broken(mutate), DEFAULT)
    assert message in str(e.value)
