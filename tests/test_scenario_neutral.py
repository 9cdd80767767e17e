"""A scenario of an instructor's own shows nothing of the default one: with the shipped Karabakh
scenario (three roles, one of them a mediator, a no deal that is a ceasefire line of its own),
every page a student and an instructor meet speaks that scenario's words: its title, roles,
moral and no-deal text, never Alaska, Ukraine or "the war goes on"; a mediator is never
"the top scorer"; tables hold three students."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from game import bot_runner, bots, charts, debrief, scenario_io
from game import host as host_services
from game.models import Player
from game.services import clock, seating, snapshots
from tests.conftest import cookie_for_players, cookie_for_user

pytestmark = pytest.mark.django_db

# Words only the default scenario (or a page written for it) would use. ("NATO" is not among
# them: the Karabakh briefs and news mention it in their own right.)
DEFAULT_ONLY = (
    "Alaska",
    "Ukraine",
    "Ukrainian",
    "Europe",
    "Zelensky",
    "war goes on",
    "war went on",
    "Tactically",
    "four students",
    "every four",
)


def visible_text(html: str) -> str:
    """The page's text as a reader meets it: no scripts, no style blocks, no tags."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"(?s)<[^>]+>", " ", html))


def leaks(text: str) -> list[str]:
    return [w for w in DEFAULT_ONLY if re.search(rf"\b{re.escape(w)}\b", text, re.IGNORECASE)]


@pytest.fixture
def karabakh(default_scenario):
    data = json.loads((scenario_io.SCENARIO_DIR / "karabakh.json").read_text(encoding="utf-8"))
    config = scenario_io.import_dict(data)
    # Shipped scenarios are the department's, shared with every instructor (as load_default_scenario
    # loads them); an unshared scenario without an owner is for administrators only.
    config.shared = True
    config.save(update_fields=["shared"])
    return config


@pytest.fixture
def played(karabakh, staff_user):
    """Two tables: bots play table 1 to its end; table 2 stays empty and ends without a deal."""
    session = seating.create_session(karabakh, 2, staff_user, seed=11)
    assert bots.fill_empty_seats(session.pk) == 6
    t2 = session.tables.order_by("number")[1]
    for p in Player.objects.filter(table=t2):
        seating.remove_player(session, p.pk)
    now = timezone.now()
    clock.start_session(session.pk, now=now)
    phases = session.engine_scenario().phases
    for i in range(len(phases)):
        for _ in range(int(phases[i].duration_seconds / 15)):
            now += timedelta(seconds=15)
            bot_runner.step(now)
            if session.tables.filter(number=1, outcome__isnull=False).exists():
                break
        session.refresh_from_db()
        if session.tables.filter(number=1, outcome__isnull=False).exists() or i + 1 == len(phases):
            break
        clock.advance_phase(session.pk, now)
    clock.end_session(session.pk, now=now + timedelta(seconds=1))
    session.refresh_from_db()
    return session


def staff(client_user) -> Client:
    c = Client()
    name, _, value = cookie_for_user(client_user).partition("=")
    c.cookies[name] = value
    return c


def test_the_join_page_speaks_of_no_scenario_until_the_code_names_one(client, karabakh):
    text = visible_text(client.get("/").content.decode())
    assert not leaks(text), leaks(text)
    assert "how long the peace" in text
    session = seating.create_session(karabakh, 1, seed=3)
    text = visible_text(client.get(f"/?code={session.code}").content.decode())
    assert "Karabakh: the Basic Principles (2011)" in text
    assert "June 2011, seventeen years after the ceasefire of 1994." in text
    assert "A frozen conflict is not a peace" in text
    assert not leaks(text), leaks(text)
    # an unknown code shows the neutral page, not an error and not another session's scenario
    text = visible_text(client.get("/?code=ZZZZZZ").content.decode())
    assert "Karabakh" not in text and not leaks(text)


def test_every_page_of_a_karabakh_game_speaks_its_own_words(played, staff_user):
    session = played
    c = staff(staff_user)
    t1, t2 = session.tables.order_by("number")
    assert t1.outcome and t1.outcome["agreement"], "the bots reached no deal at table 1"
    assert t2.outcome and not t2.outcome["agreement"]
    pages = {
        "dashboard": f"/host/{session.code}/",
        "projector": f"/host/{session.code}/projector/",
        "debrief": f"/host/{session.code}/debrief/",
        "transcript 1": f"/host/{session.code}/table/{t1.number}/",
        "transcript 2": f"/host/{session.code}/table/{t2.number}/",
    }
    texts = {}
    for name, url in pages.items():
        r = c.get(url)
        assert r.status_code == 200, (name, r.status_code)
        texts[name] = visible_text(r.content.decode())
        assert not leaks(texts[name]), (name, leaks(texts[name]))
    debrief = texts["debrief"]
    assert "A frozen conflict is not a peace" in debrief
    assert "the 1994 ceasefire line stays as it is" in debrief
    # the player page of a seated bot's seat, and the state its socket sends
    p = Player.objects.filter(table=t1, role="armenia").first()
    pc = Client()
    name, _, value = cookie_for_players({session.code: str(p.token)}).partition("=")
    pc.cookies[name] = value
    r = pc.get(f"/play/{session.code}/")
    assert r.status_code == 200
    text = visible_text(r.content.decode())
    assert not leaks(text), leaks(text)
    state = snapshots.player_state(p.pk)
    assert state["moral"].startswith("A frozen conflict")
    assert (
        state["no_deal_text"] == "No agreement: the 1994 ceasefire line stays as it is, with no peacekeepers"
    )
    assert not leaks(json.dumps(state)), leaks(json.dumps(state))
    hs = host_services.host_state(session.pk)
    assert hs["no_deal_text"] == state["no_deal_text"]
    assert [r["mediator"] for r in hs["roles"]] == [False, False, True]
    assert not leaks(json.dumps(hs)), leaks(json.dumps(hs))


def test_a_mediator_is_never_the_top_scorer_and_is_not_counted_as_a_party(played):
    session = played
    scenario = session.engine_scenario()
    res = host_services.results(session)
    cards = debrief.table_cards(res, scenario)
    deal = next(c for c in cards if c["deal"])
    mediator = next(e for e in deal["scores"] if e["key"] == "mediator")
    assert mediator["mediator"] and "tactical" in mediator
    assert deal["winner"] and deal["winner"]["key"] != "mediator"
    assert cards.summary["best"]["key"] != "mediator"
    # parties are Armenia and Azerbaijan at each finished table, never the mediator
    assert cards.summary["parties"] == 2 * cards.summary["finished"]
    nodeal = next(c for c in cards if c["has_outcome"] and not c["deal"])
    assert nodeal["story"].startswith("No agreement: the 1994 ceasefire line stays as it is")
    causes = res["causes"]
    assert all(c["label"] != "No agreement: the war went on" for c in causes)


def test_a_mediator_beating_the_parties_at_the_table_still_does_not_crown_it(karabakh):
    scenario = seating.create_session(karabakh, 1, seed=5).engine_scenario()
    row = {
        "table": 1,
        "ended": True,
        "outcome": {
            "agreement": {i.key: i.options[0].key for i in scenario.issues},
            "durability": {
                "expected_peace": 0.6,
                "p_hold": 0.5,
                "survival": [0.9] * 10,
                "realized": {"held": True},
            },
            "scores": {
                "armenia": {"tactical": 40, "durability": 60, "total": 45},
                "azerbaijan": {"tactical": 55, "durability": 60, "total": 52},
                "mediator": {"tactical": 90, "durability": 60, "total": 70},
            },
        },
    }
    cards = debrief.table_cards({"tables": [row]}, scenario)
    assert cards[0]["winner"]["key"] == "azerbaijan"
    assert cards.summary["best"]["key"] == "azerbaijan"
    assert cards.summary["won_kept"] == 1  # Azerbaijan won (55 ≥ 50) and its peace held; not the mediator
    svg = charts.scatter({"tables": [row]}, scenario)
    assert "Each of the 3 dots is one role at one table. 0 of 2 parties won" in svg
    assert "1 won and kept the peace" in svg


def test_the_session_form_says_how_many_roles_a_table_seats(staff_user, karabakh):
    c = staff(staff_user)
    text = visible_text(c.get("/host/").content.decode())
    assert "Karabakh: the Basic Principles (2011) (3 roles a table)" in text
    assert "(4 roles a table)" in text
    assert not any(w in text for w in ("every four", "four students"))


def test_the_admin_pages_of_another_scenario_give_no_default_scenario_examples(admin_client, karabakh):
    for url in (
        f"/admin/game/scenarioconfig/{karabakh.pk}/change/",
        f"/admin/game/scenarioconfig/{karabakh.pk}/grid/",
    ):
        r = admin_client.get(url)
        assert r.status_code == 200, url
        text = visible_text(r.content.decode())
        assert not leaks(text), (url, leaks(text))
        assert "ukraine" not in text.lower(), url
