"""Authoring in the admin without JSON, and validation that never locks anyone out."""

from __future__ import annotations

import copy
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from game import scenario_io
from game.admin_authoring import standard_factors
from game.models import ScenarioConfig, ScenarioFactor, ScenarioNews, ScenarioOption
from tests.test_foundation import _form_data, default_data

pytestmark = pytest.mark.django_db


def karabakh_data() -> dict:
    return json.loads((scenario_io.SCENARIO_DIR / "karabakh.json").read_text(encoding="utf-8"))


@pytest.fixture
def karabakh(default_scenario):
    return scenario_io.import_dict(karabakh_data())


def test_the_grid_shows_every_option_role_and_factor_and_saves_points_loadings_and_news(
    admin_client, karabakh
):
    url = f"/admin/game/scenarioconfig/{karabakh.pk}/grid/"
    html = admin_client.get(url).content.decode()
    assert "Points: Russia (Minsk Group co-chair)" in html and "challenger_capability" in html
    data = _form_data(html)
    data["pts:status/autonomy:armenia"] = "2"
    data["load:security/osce_force:guarantee_credibility"] = "0.35"
    data["load:districts/all_seven_kept:truce_only"] = ""  # blank: the factor's default
    data["newsf:pardon:implementer_rejection"] = "0.08"
    data["newsv:pardon:azerbaijan:status/autonomy"] = "4"
    r = admin_client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    opt = ScenarioOption.objects.get(issue__scenario=karabakh, key="autonomy")
    assert opt.points["armenia"] == 2
    osce = ScenarioOption.objects.get(issue__scenario=karabakh, key="osce_force")
    assert osce.loadings["guarantee_credibility"] == 0.35
    kept = ScenarioOption.objects.get(issue__scenario=karabakh, key="all_seven_kept")
    assert "truce_only" not in kept.loadings
    news = ScenarioNews.objects.get(scenario=karabakh, key="pardon")
    assert news.factor_effects["implementer_rejection"] == 0.08
    assert news.value_effects["azerbaijan"] == {"status/autonomy": 4}


def test_the_grid_refuses_text_for_a_number_naming_the_cell_and_saves_nothing(admin_client, karabakh):
    url = f"/admin/game/scenarioconfig/{karabakh.pk}/grid/"
    before = scenario_io.export_dict(karabakh)
    data = _form_data(admin_client.get(url).content.decode())
    data["pts:status/autonomy:armenia"] = "two"
    r = admin_client.post(url, data)
    assert r.status_code == 400
    assert (
        "Option status/autonomy: the points for Armenia must be a number, not &#x27;two&#x27;."
        in r.content.decode()
    )
    assert scenario_io.export_dict(ScenarioConfig.objects.get(pk=karabakh.pk)) == before


def test_the_grid_adds_an_option_as_soon_as_the_issue_exists(admin_client, karabakh):
    url = f"/admin/game/scenarioconfig/{karabakh.pk}/grid/"
    data = _form_data(admin_client.get(url).content.decode())
    data["new:status:label"] = "A shared condominium"
    data["new:status:key"] = "condominium"
    for role, pts in (("armenia", 20), ("azerbaijan", 15), ("mediator", 10)):
        data[f"new:status:pts:{role}"] = str(pts)
    data["new:status:load:implementer_rejection"] = "0.5"
    data["new:status:load:challenger_dissatisfaction"] = "0.6"
    r = admin_client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    sc = ScenarioConfig.objects.get(pk=karabakh.pk).to_engine()
    opt = sc.issue("status").option("condominium")
    assert opt.label == "A shared condominium" and dict(opt.points) == {
        "armenia": 20,
        "azerbaijan": 15,
        "mediator": 10,
    }


def test_the_live_check_lists_problems_of_the_draft_without_saving(admin_client, karabakh):
    url = f"/admin/game/scenarioconfig/{karabakh.pk}/grid/"
    data = _form_data(admin_client.get(url).content.decode())
    data["pts:status/autonomy:armenia"] = ""
    data["load:security/osce_force:agreement_strength"] = "x"
    data["check"] = "1"
    r = admin_client.post(url, data)
    body = r.json()
    assert any("status/autonomy has no points for armenia" in p for p in body["problems"])
    assert any("the loading on agreement_strength must be a number" in e for e in body["errors"])
    assert ScenarioOption.objects.get(issue__scenario=karabakh, key="autonomy").points["armenia"] == 0


def test_the_standard_factors_template_adds_the_missing_factors_in_the_models_own_terms(
    admin_client, default_scenario
):
    data = default_data()
    data["slug"], data["title"] = "blank", "A blank conflict"
    data.pop("translations")  # (of the default scenario's factors, removed here)
    data["model"]["factors"] = []
    data["model"]["sides"] = {}
    for i in data["issues"]:
        for o in i["options"]:
            o["loadings"] = {}
    for n in data["news"]:
        n["factor_effects"] = {}
    blank = scenario_io.import_dict(data)
    r = admin_client.post(
        "/admin/game/scenarioconfig/",
        {"action": "standard_factors", "_selected_action": [blank.pk]},
        follow=True,
    )
    assert "lank: added implementer_rejection" in r.content.decode()  # (the admin capitalises messages)
    keys = list(ScenarioFactor.objects.filter(scenario=blank).values_list("key", flat=True))
    assert keys == [f["key"] for f in standard_factors()]
    labels = " ".join(ScenarioFactor.objects.filter(scenario=blank).values_list("label", flat=True))
    assert "Ukraine" not in labels and "Russia" not in labels and "{implementer}" in labels
    for f in ScenarioFactor.objects.filter(scenario=blank):
        assert f.params["source"], f.key


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"beta": "1.6"}, "`beta` must be a number"),
        ({"beta": 1.0, "explanaton_up": "typo"}, "unknown field `explanaton_up`"),
        ({"centre": 0.5}, "the field `beta` is missing"),
    ],
)
def test_a_broken_factor_row_put_straight_into_the_database_never_makes_a_page_answer_500(
    admin_client,
    default_scenario,
    params,
    expected,
):
    ScenarioFactor.objects.filter(scenario=default_scenario, key="imposed").update(params=params)
    config = ScenarioConfig.objects.get(pk=default_scenario.pk)
    assert any(expected in p for p in config.problems())
    for url in (
        "/admin/game/scenarioconfig/",
        f"/admin/game/scenarioconfig/{config.pk}/change/",
        f"/admin/game/scenarioconfig/{config.pk}/grid/",
        f"/host/scenario/{config.slug}/balance/",
    ):
        r = admin_client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    assert expected in admin_client.get(f"/host/scenario/{config.slug}/balance/").content.decode()


def test_a_loading_on_an_unknown_factor_is_refused_on_import_and_listed_as_a_problem(
    default_scenario, tmp_path
):
    bad = default_data()
    bad["issues"][0]["options"][0]["loadings"]["nonsense"] = 1.0
    with pytest.raises(scenario_io.ScenarioFileError, match="loads on unknown factor 'nonsense'"):
        scenario_io.check(bad)
    ScenarioOption.objects.filter(issue__scenario=default_scenario, key="russian_withdrawal").update(
        loadings={"nonsense": 1.0}
    )
    assert any(
        "loads on unknown factor 'nonsense'" in p
        for p in ScenarioConfig.objects.get(pk=default_scenario.pk).problems()
    )


def test_the_import_page_is_linked_from_the_scenario_list_and_reports_a_migration(
    admin_client, default_scenario
):
    html = admin_client.get("/admin/game/scenarioconfig/").content.decode()
    assert "/admin/game/scenarioconfig/import/" in html and "Import a scenario file" in html
    old = copy.deepcopy(karabakh_data())
    old.pop("format")
    for r in old["roles"]:
        r["peace_weight"] = 0.5
    upload = SimpleUploadedFile(
        "karabakh-2025.json", json.dumps(old).encode(), content_type="application/json"
    )
    r = admin_client.post("/admin/game/scenarioconfig/import/", {"file": upload}, follow=True)
    text = r.content.decode()
    assert "Imported scenario karabakh." in text
    assert "Migrated from an older file format: Roles&#x27; peace_weight dropped" in text
    out = io.StringIO()
    path = scenario_io.SCENARIO_DIR.parent.parent / "var" / "old-karabakh.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(old))
    call_command("import_scenario", str(path), stdout=out)
    assert "Migrated from an older file format" in out.getvalue()
    path.unlink()
