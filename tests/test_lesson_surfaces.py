"""The score's lesson where instructors and students meet it: scenario files and the admin refuse
a malformed model or contradictory exclusions, an older default scenario is brought up to date
without losing an instructor's edits, a proposal that combines excluded options is refused on
the socket, and the packages, backtest and simulate commands report what the issue asks."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from game import scenario_io
from game.models import ScenarioConfig, ScenarioFactor, ScenarioOption
from game.services import moves, seating
from game.services.errors import ServiceError
from tests.test_foundation import _form_data, default_data

pytestmark = pytest.mark.django_db


# -- scenario files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["model"]["factors"][0].update(beta="1.6"),
            "model/factors/0 (implementer_rejection)/beta: '1.6' is not of type 'number'",
        ),
        (
            lambda d: d["model"]["factors"][1].update(explanaton_up="typo"),
            "explanaton_up",
        ),
        (
            lambda d: d["issues"][1]["options"][4].update(excludes=["guarantees/nowhere"]),
            "excludes 'guarantees/nowhere', which is not an option",
        ),
        (
            lambda d: d["issues"][1]["options"][4].update(excludes=["nato/moratorium"]),
            "excludes 'nato/moratorium' of its own issue",
        ),
        (
            lambda d: d["model"].update(sides={"implementer": "ukraine", "challenger": "china"}),
            "mapped to 'china', which is not a role",
        ),
        (
            lambda d: d["model"]["factors"][1].update(moderator="nothing"),
            "moderated by unknown factor 'nothing'",
        ),
        (
            lambda d: d["model"]["factors"][5].update(accepted_by=["nothing"]),
            "must be accepted by unknown factor 'nothing'",
        ),
        (
            lambda d: d["model"]["factors"][0].update(label="Rejection of the terms in {mediator}"),
            "names the side {mediator}",
        ),
    ],
)
def test_a_malformed_model_or_exclusion_is_refused_on_import_naming_it_and_changes_nothing(
    default_scenario, tmp_path, mutate, message
):
    before = scenario_io.export_dict(default_scenario)
    data = default_data()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as e:
        call_command("import_scenario", str(path))
    assert message in str(e.value)
    assert scenario_io.export_dict(ScenarioConfig.objects.get(slug="default")) == before
    assert ScenarioConfig.objects.count() == 1


def test_exclusions_sides_and_the_score_settings_survive_export_and_import(default_scenario, tmp_path):
    data = scenario_io.export_dict(default_scenario)
    opt = next(o for i in data["issues"] for o in i["options"] if o["key"] == "neutrality_demilitarised")
    assert opt["excludes"] == ["guarantees/reassurance_force", "guarantees/article5_like"]
    assert data["model"]["sides"] == {"implementer": "ukraine", "challenger": "russia"}
    assert (data["model"]["peace_value"], data["model"]["relapse_share"]) == (50.0, 0.1)
    data["slug"], data["model"]["peace_value"] = "copy", 40.0
    copy = scenario_io.import_dict(data)
    assert copy.to_engine().model.peace_value == 40.0
    assert copy.to_engine().exclusions == default_scenario.to_engine().exclusions


# -- the default scenario after an upgrade ----------------------------------------------------


def test_an_unedited_older_default_is_updated_in_place(default_scenario):
    # as if loaded from an older shipped file: another digest, content not touched since
    ScenarioConfig.objects.filter(pk=default_scenario.pk).update(shipped_digest="older")
    out: list[str] = []
    config = scenario_io.ensure_default(report=out.append)
    assert config.pk == default_scenario.pk and config.slug == "default"
    assert out == ["The default scenario was updated to the shipped version."]
    assert ScenarioConfig.objects.count() == 1


def test_an_edited_or_legacy_default_is_kept_under_a_new_slug_and_the_shipped_one_loaded(default_scenario):
    # a copy loaded before the game kept digests, then edited by an instructor
    ScenarioConfig.objects.filter(pk=default_scenario.pk).update(shipped_digest="", content_digest="")
    ScenarioFactor.objects.filter(scenario=default_scenario).update(label="Edited by hand")
    buf = io.StringIO()
    call_command("load_default_scenario", stdout=buf)
    assert "kept as 'default-kept-" in buf.getvalue()
    kept = ScenarioConfig.objects.get(pk=default_scenario.pk)
    assert kept.slug.startswith("default-kept-") and kept.title.endswith("(kept before an update)")
    assert set(kept.factors.values_list("label", flat=True)) == {"Edited by hand"}
    fresh = ScenarioConfig.objects.get(slug="default")
    assert fresh.pk != kept.pk and not fresh.problems()
    # the other shipped scenarios are loaded too, and a second load changes nothing
    assert ScenarioConfig.objects.filter(slug="karabakh").exists()
    count = ScenarioConfig.objects.count()
    buf = io.StringIO()
    call_command("load_default_scenario", stdout=buf)
    assert ScenarioConfig.objects.count() == count == 3


# -- the admin ----------------------------------------------------------------------------------


def test_admin_edits_factors_with_typed_fields_and_refuses_text_for_a_number(admin_client, default_scenario):
    url = f"/admin/game/scenarioconfig/{default_scenario.pk}/change/"
    html = admin_client.get(url).content.decode()
    assert "β (strength and direction)" in html and "params" not in _form_data(html).get("factors-0-key", "")
    data = _form_data(html)
    n = next(k for k, v in data.items() if k.startswith("factors-") and k.endswith("-key") and v == "imposed")
    prefix = n.rsplit("-", 1)[0]
    before = ScenarioFactor.objects.get(scenario=default_scenario, key="imposed").params
    assert float(data[f"{prefix}-beta"]) == before["beta"]
    data[f"{prefix}-beta"] = "0.59x"
    r = admin_client.post(url, data)
    assert r.status_code == 200
    assert "factor `imposed`: `beta` must be a number." in r.content.decode()
    data[f"{prefix}-beta"] = "0.59"
    data[f"{prefix}-coupling"] = "guarantee_credibility: -0.15"
    r = admin_client.post(url, data)
    assert "write the coupling as other_factor=number" in r.content.decode()
    data[f"{prefix}-hi"], data[f"{prefix}-lo"], data[f"{prefix}-coupling"] = "0", "1", ""
    r = admin_client.post(url, data)
    assert "must not be below the lowest" in r.content.decode()
    assert ScenarioFactor.objects.get(scenario=default_scenario, key="imposed").params == before
    # a valid change saves the typed value into the factor's parameters
    data[f"{prefix}-hi"], data[f"{prefix}-lo"], data[f"{prefix}-beta"] = "1", "0", "0.5"
    r = admin_client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:1500]
    saved = ScenarioFactor.objects.get(scenario=default_scenario, key="imposed").params
    assert (
        saved["beta"] == 0.5 and saved["centre"] == before["centre"] and saved["source"] == before["source"]
    )


def test_admin_edits_exclusions_with_choices_and_the_engine_enforces_them(admin_client, default_scenario):
    issue = default_scenario.issues.get(key="nato")
    url = f"/admin/game/scenarioissue/{issue.pk}/change/"
    html = admin_client.get(url).content.decode()
    assert "guarantees/reassurance_force" in html  # offered as a choice, labelled
    data = _form_data(html)
    # options-0 is membership_open: exclude the reassurance force too
    data["options-0-excludes"] = ["guarantees/reassurance_force"]
    r = admin_client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:1500]
    assert ScenarioOption.objects.get(issue=issue, key="membership_open").excludes == [
        "guarantees/reassurance_force"
    ]
    sc = ScenarioConfig.objects.get(pk=default_scenario.pk).to_engine()
    assert sc.conflicts(
        {"territory": "freeze_line", "nato": "membership_open", "guarantees": "reassurance_force"}
    )
    # an exclusion naming an option that does not exist is not a choice the form accepts
    data["options-0-excludes"] = ["guarantees/nowhere"]
    r = admin_client.post(url, data)
    assert "Select a valid choice" in r.content.decode()


def test_a_broken_factor_row_is_listed_as_a_problem_not_a_server_error(admin_client, default_scenario):
    ScenarioFactor.objects.filter(scenario=default_scenario, key="imposed").update(params={"beta": "1.6"})
    problems = ScenarioConfig.objects.get(pk=default_scenario.pk).problems()
    assert problems and "`beta` must be a number" in problems[0]
    assert admin_client.get("/admin/game/scenarioconfig/").status_code == 200
    r = admin_client.get(f"/admin/game/scenarioconfig/{default_scenario.pk}/change/")
    assert r.status_code == 200 and "must be a number" in r.content.decode()


# -- the rules on the wire ----------------------------------------------------------------------


CONTRADICTORY = {
    "territory": "freeze_line",
    "nato": "neutrality_demilitarised",
    "guarantees": "reassurance_force",
}


def test_a_proposal_and_a_preview_that_combine_excluded_options_are_refused_and_change_nothing(make_session):
    session = make_session(tables=1, start=True)
    p = seating.join(session.code, "Olena")
    table = p.table
    table.refresh_from_db()
    seq, state = table.seq, dict(table.state)
    with pytest.raises(ServiceError) as e:
        moves.preview(p.pk, {"type": "package.preview", "terms": CONTRADICTORY})
    assert e.value.code == "invalid" and "cannot be combined" in e.value.message
    assert (
        "Neutrality, no foreign troops" in e.value.message and "European reassurance force" in e.value.message
    )
    with pytest.raises(ServiceError) as e:
        moves.player_action(p.pk, {"type": "proposal.make", "ref": "r1", "terms": CONTRADICTORY})
    assert e.value.code == "invalid" and "cannot be combined" in e.value.message
    table.refresh_from_db()
    assert (table.seq, table.state) == (seq, state)


# -- the commands ---------------------------------------------------------------------------------


def test_packages_lists_every_package_with_its_durability_and_each_roles_scores(default_scenario):
    buf = io.StringIO()
    call_command("packages", "--scenario", "default", "--json", stdout=buf)
    out = json.loads(buf.getvalue())
    assert len(out["packages"]) == 110  # 125 combinations less the 15 that combine excluded options
    assert CONTRADICTORY not in [p["terms"] for p in out["packages"]]
    first = out["packages"][0]
    assert set(first) == {"terms", "p_hold", "expected_peace", "scores"}
    assert set(first["scores"]) == {"us", "russia", "ukraine", "europe"}
    assert set(first["scores"]["us"]) == {"tactical", "total"}
    peace = [p["expected_peace"] for p in out["packages"]]
    assert peace == sorted(peace, reverse=True)
    assert out["compromise"] in [p["terms"] for p in out["packages"]]
    text = io.StringIO()
    call_command("packages", stdout=text)
    assert "110 packages" in text.getvalue() and "*" in text.getvalue()


def test_backtest_prints_each_case_and_the_figures_and_refuses_a_bad_file_naming_the_case(tmp_path):
    buf = io.StringIO()
    call_command("backtest", "--json", stdout=buf)
    report = json.loads(buf.getvalue())
    assert len(report["cases"]) == 24
    assert {"all", "tuning", "held_out"} == set(report["figures"])
    assert {"year_1", "year_3", "year_10"} == set(report["cases"][0]["predicted"])
    text = io.StringIO()
    call_command("backtest", stdout=text)
    assert "Minsk II" in text.getvalue() and "Harrell" in text.getvalue()
    bad = json.loads(scenario_io.SCENARIO_DIR.parent.joinpath("backtest", "cases.json").read_text())
    bad["cases"][0]["values"]["imposed"]["value"] = "high"
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError, match="case 'korea_1953': factor 'imposed': value must be a number"):
        call_command("backtest", "--cases", str(path))
    path.write_text("{ nope")
    with pytest.raises(CommandError, match="not valid JSON: line 1"):
        call_command("backtest", "--cases", str(path))


def test_simulate_reports_spearman_and_the_greed_check_per_role(default_scenario):
    buf = io.StringIO()
    call_command("simulate", "--games", "20", "--json", stdout=buf)
    report = json.loads(buf.getvalue())
    for role in report["roles"]:
        les = role["lesson"]
        assert les["greed_pays"] is False
        assert les["greedy_total"] < les["compromise_total"]
        assert -1 <= les["spearman_tactical_total"] < 0.8
    text = io.StringIO()
    call_command("simulate", "--games", "20", stdout=text)
    assert "does not pay" in text.getvalue() and "Spearman(tac,total)" in text.getvalue()


def test_an_unedited_default_loaded_by_the_format_2_game_is_updated_in_place_not_kept(default_scenario):
    # The game before translations wrote format 2 and digested that export: a copy it loaded and
    # nobody edited must be recognised as unedited after the upgrade, not kept as an edit.
    legacy = {**default_scenario.to_dict(), "format": 2}
    legacy.pop("translations", None)
    ScenarioConfig.objects.filter(pk=default_scenario.pk).update(
        shipped_digest="older", content_digest=scenario_io.digest(legacy), translations={}
    )
    out: list[str] = []
    config = scenario_io.ensure_default(report=out.append)
    assert out == ["The default scenario was updated to the shipped version."]
    assert config.pk == default_scenario.pk and config.slug == "default"
    assert not ScenarioConfig.objects.filter(slug__startswith="default-kept-").exists()
    # an edit made after that load is still an edit
    ScenarioConfig.objects.filter(pk=config.pk).update(
        shipped_digest="older", content_digest=scenario_io.digest(legacy)
    )
    ScenarioFactor.objects.filter(scenario=config).update(label="Edited by hand")
    out.clear()
    scenario_io.ensure_default(report=out.append)
    assert "kept as 'default-kept-" in out[0]
