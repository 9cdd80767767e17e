"""Many instructors on one server: who sees and controls which session (issue 13, rows 1, 2, 3, 14).

Each rule is checked for the six kinds of visitor: the session's owner, a co-instructor the owner
added, another instructor, a department administrator (a superuser, and a member of the
administrators' group), a student who joined the session, and an anonymous visitor.
"""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from game import access, scenario_io
from game.models import GameSession, ScenarioConfig
from game.roles import ADMINISTRATOR_PERMISSIONS, INSTRUCTOR_PERMISSIONS
from game.services import seating
from tests.conftest import connect, cookie_for_players, cookie_for_user, make_instructor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]
db = database_sync_to_async


@pytest.fixture
def cast(make_session, staff_user):
    """A session owned by "teacher", with a co-instructor, another instructor, a superuser, a
    member of the administrators' group, a seated student; and each one's HTTP client."""
    session = make_session(tables=1)
    co = make_instructor("assistant")
    other = make_instructor("stranger")
    superuser = get_user_model().objects.create_superuser("root", "root@example.edu", "a-long-test-password")
    dept = make_instructor("head", admin=True)
    session.co_instructors.add(co)
    student = Client()
    assert student.post("/join/", {"code": session.code, "name": "Ann"}).status_code == 302
    clients = {"anonymous": Client(), "student": student}
    for name, user in (
        ("owner", staff_user),
        ("co", co),
        ("other", other),
        ("superuser", superuser),
        ("dept", dept),
    ):
        c = Client()
        c.force_login(user)
        clients[name] = c
    users = {"owner": staff_user, "co": co, "other": other, "superuser": superuser, "dept": dept}
    return session, users, clients


ALLOWED = ("owner", "co", "superuser", "dept")
PAGES = [
    "/host/{code}/",
    "/host/{code}/debrief/",
    "/host/{code}/table/1/",
    "/host/{code}/export.json",
    "/host/{code}/export.csv",
    "/host/{code}/grades.csv",
    "/host/{code}/projector/",
]


@pytest.mark.parametrize("page", PAGES)
def test_session_pages_are_for_owner_co_instructor_and_administrators_only(cast, page):
    session, _users, clients = cast
    url = page.format(code=session.code)
    for who, c in clients.items():
        r = c.get(url)
        if who in ALLOWED:
            assert r.status_code == 200, (who, url)
        elif who == "other":
            assert r.status_code == 404, (who, url)  # not 403: does not confirm the session exists
        else:
            assert r.status_code == 302 and "/admin/login/" in r["Location"], (who, url)
    # an unknown code looks exactly like someone else's session
    assert clients["other"].get(url.replace(session.code, "ZZZZZZ")).status_code == 404
    assert clients["owner"].get(url.replace(session.code, "ZZZZZZ")).status_code == 404


def test_the_session_list_shows_each_instructor_only_their_sessions(cast, default_scenario):
    session, users, clients = cast
    theirs = seating.create_session(default_scenario, 1, users["other"])
    body = {who: clients[who].get("/host/").content.decode() for who in (*ALLOWED, "other")}
    for who in ("owner", "co", "superuser", "dept"):
        assert session.code in body[who], who
    assert session.code not in body["other"]
    assert theirs.code in body["other"] and theirs.code not in body["owner"] and theirs.code not in body["co"]
    assert theirs.code in body["superuser"] and theirs.code in body["dept"]
    assert clients["student"].get("/host/").status_code == 302
    assert clients["anonymous"].get("/host/").status_code == 302


def test_a_staff_account_without_the_instructor_role_cannot_use_the_host_pages(cast):
    session, _users, _clients = cast
    plain = get_user_model().objects.create_user("clerk", password="a-long-test-password", is_staff=True)
    c = Client()
    c.force_login(plain)
    assert c.get("/host/").status_code == 403
    assert c.get(f"/host/{session.code}/").status_code == 403


def test_controls_over_http_are_refused_for_others_and_change_nothing(cast):
    session, _users, clients = cast
    for who in ("other",):
        r = clients[who].post(f"/host/{session.code}/control/", {"type": "session.start"})
        assert r.status_code == 404
        r = clients[who].post(f"/host/{session.code}/control/", {"type": "session.end", "confirm": "on"})
        assert r.status_code == 404
    for who in ("student", "anonymous"):
        r = clients[who].post(f"/host/{session.code}/control/", {"type": "session.start"})
        assert r.status_code == 302 and "/admin/login/" in r["Location"]
    assert GameSession.objects.get(pk=session.pk).status == "lobby"
    r = clients["co"].post(f"/host/{session.code}/control/", {"type": "session.start"})
    assert r.status_code == 302
    assert GameSession.objects.get(pk=session.pk).status == "running"
    r = clients["dept"].post(f"/host/{session.code}/control/", {"type": "session.end", "confirm": "on"})
    assert GameSession.objects.get(pk=session.pk).status == "ended"


def test_only_the_owner_and_administrators_choose_co_instructors(cast):
    session, users, clients = cast
    extra = make_instructor("second-ta")
    url = f"/host/{session.code}/co-instructors/"
    assert clients["co"].post(url, {"action": "add", "user": extra.pk}).status_code == 403
    assert clients["other"].post(url, {"action": "add", "user": extra.pk}).status_code == 404
    assert clients["student"].post(url, {"action": "add", "user": extra.pk}).status_code == 302
    assert not session.co_instructors.filter(pk=extra.pk).exists()
    # bad input: a clear message, nothing changed
    for data in (
        {"action": "add", "user": "x"},
        {"action": "add", "user": 99999},
        {"action": "fly", "user": 1},
    ):
        r = clients["owner"].post(url, data, follow=True)
        assert r.status_code == 200 and "notice-error" in r.content.decode()
    assert set(session.co_instructors.values_list("username", flat=True)) == {"assistant"}
    clients["owner"].post(url, {"action": "add", "user": extra.pk})
    assert session.co_instructors.filter(pk=extra.pk).exists()
    page = clients["owner"].get(f"/host/{session.code}/").content.decode()
    assert "Add a co-instructor" in page and "second-ta" in page
    assert "Add a co-instructor" not in clients["co"].get(f"/host/{session.code}/").content.decode()
    clients["dept"].post(url, {"action": "remove", "user": users["co"].pk})
    assert clients["co"].get(f"/host/{session.code}/").status_code == 404


# --- the host socket --------------------------------------------------------------------------


def _host_socket(session, cookie):
    return connect(f"/ws/host/{session.code}/", cookie, name="host")


async def _closed_code(c, timeout=5.0):
    return (await c.wait(lambda m: m.get("type") == "__closed__", timeout=timeout))["code"]


def test_the_host_socket_serves_owner_co_instructor_and_administrators_and_refuses_the_rest(cast):
    session, users, _clients = cast
    player = session.players.get()
    cookies = {who: cookie_for_user(u) for who, u in users.items()}
    cookies["student"] = cookie_for_players({session.code: str(player.token)})
    cookies["anonymous"] = None

    async def run():
        for who, cookie in cookies.items():
            _ok, c = await _host_socket(session, cookie)
            if who in ALLOWED:
                st = await c.wait(lambda m: m.get("type") == "host.state")
                assert st["session"]["code"] == session.code, who
            else:
                assert await _closed_code(c) == 4403, who
            await c.close()
        # an unknown code: 4403 for an instructor (no difference from someone else's), 4404 for admins
        _ok, c = await connect("/ws/host/ZZZZZZ/", cookies["owner"])
        assert await _closed_code(c) == 4403
        _ok, c = await connect("/ws/host/ZZZZZZ/", cookies["superuser"])
        assert await _closed_code(c) == 4404

    async_to_sync(run)()
    assert GameSession.objects.get(pk=session.pk).status == "lobby"


def test_every_host_action_re_checks_access(cast, settings):
    """A co-instructor removed by the owner: the very next action is refused and the socket
    closed, without waiting for the periodic re-check."""
    settings.GAME["HOST_RECHECK_SECONDS"] = 60
    session, users, _clients = cast

    async def run():
        _ok, c = await _host_socket(session, await db(cookie_for_user)(users["co"]))
        await c.wait(lambda m: m.get("type") == "host.state")
        await db(session.co_instructors.remove)(users["co"])
        ref = await c.send("session.start")
        ans = await c.answer(ref)
        assert ans["code"] == "forbidden"
        assert await _closed_code(c) == 4403

    async_to_sync(run)()
    assert GameSession.objects.get(pk=session.pk).status == "lobby"


@pytest.mark.parametrize("how", ["logout", "deactivate", "removed", "password"])
def test_a_host_socket_whose_user_loses_access_is_closed_within_seconds(cast, settings, how):
    settings.GAME["HOST_RECHECK_SECONDS"] = 0.3
    session, users, _clients = cast
    user = users["co"]
    c_http = Client()
    c_http.force_login(user)
    cookie = f"sessionid={c_http.cookies['sessionid'].value}"

    async def run():
        _ok, c = await _host_socket(session, cookie)
        await c.wait(lambda m: m.get("type") == "host.state")
        if how == "logout":
            r = await db(c_http.post)("/admin/logout/")
            assert r.status_code in (200, 302)
        elif how == "deactivate":
            await db(get_user_model().objects.filter(pk=user.pk).update)(is_active=False)
        elif how == "removed":
            await db(session.co_instructors.remove)(user)
        else:

            @db
            def change():
                user.set_password("another-long-password-2")
                user.save()

            await change()
        t0 = asyncio.get_running_loop().time()
        assert await _closed_code(c, timeout=5) == 4403
        assert asyncio.get_running_loop().time() - t0 < 5

    async_to_sync(run)()


def test_a_host_socket_after_admin_logout_cannot_start_the_session(cast, settings):
    """Row 14: the socket stays usable after /admin/logout/ no longer."""
    settings.GAME["HOST_RECHECK_SECONDS"] = 60  # only the per-action check can catch it here
    session, users, _clients = cast
    c_http = Client()
    c_http.force_login(users["owner"])
    cookie = f"sessionid={c_http.cookies['sessionid'].value}"

    async def run():
        _ok, c = await _host_socket(session, cookie)
        await c.wait(lambda m: m.get("type") == "host.state")
        await db(c_http.post)("/admin/logout/")
        ref = await c.send("session.start")
        assert (await c.answer(ref))["code"] == "forbidden"
        assert await _closed_code(c) == 4403

    async_to_sync(run)()
    assert GameSession.objects.get(pk=session.pk).status == "lobby"


# --- roles ------------------------------------------------------------------------------------


def test_the_groups_hold_exactly_the_permissions_each_role_needs(db):
    from django.contrib.auth.models import Group

    from game.roles import ensure_groups

    ensure_groups()

    def perms(name):
        g = Group.objects.get(name=name)
        return {(p.content_type.app_label, p.codename) for p in g.permissions.all()}

    assert perms("Instructor") == set(INSTRUCTOR_PERMISSIONS)
    assert perms("Department administrator") == set(ADMINISTRATOR_PERMISSIONS)
    # nothing on users or groups: no way to raise one's own privileges
    assert not {c for a, c in perms("Department administrator") if a == "auth"}
    assert not {c for a, c in perms("Instructor") if "session" in c and c != "host_sessions"}


def test_create_instructor_makes_a_staff_account_in_the_instructor_group(db, monkeypatch):
    monkeypatch.setenv("GAME_INSTRUCTOR_PASSWORD", "a-long-and-fine-password-42")
    out = io.StringIO()
    call_command("create_instructor", "dr-who", stdout=out)
    user = get_user_model().objects.get(username="dr-who")
    assert user.is_staff and not user.is_superuser and user.check_password("a-long-and-fine-password-42")
    assert access.is_instructor(user) and not access.is_admin(user)
    assert "Created instructor 'dr-who'" in out.getvalue()
    c = Client()
    assert (
        c.post("/admin/login/", {"username": "dr-who", "password": "a-long-and-fine-password-42"}).status_code
        == 302
    )
    assert c.get("/host/").status_code == 200
    call_command("create_instructor", "dr-who", "--department-admin", "--keep-password", stdout=io.StringIO())
    user.refresh_from_db()
    user = get_user_model().objects.get(pk=user.pk)
    assert access.is_admin(user) and user.check_password("a-long-and-fine-password-42")


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "too short"), ("password123", "too common"), (None, "No password")],
)
def test_create_instructor_refuses_a_weak_or_missing_password_and_creates_nothing(
    db, monkeypatch, password, message
):
    if password is None:
        monkeypatch.delenv("GAME_INSTRUCTOR_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("GAME_INSTRUCTOR_PASSWORD", password)
    with pytest.raises(CommandError, match=message):
        call_command("create_instructor", "weak", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="weak").exists()
    with pytest.raises(CommandError):
        call_command("create_instructor", "  ", stdout=io.StringIO())


# --- scenarios --------------------------------------------------------------------------------


@pytest.fixture
def scenarios(default_scenario, staff_user):
    """The shared default, an unshared scenario owned by "teacher", and the admin clients."""
    data = scenario_io.export_dict(default_scenario)
    data.update(slug="teachers-own", title="Teacher's own")
    data["roles"][0]["brief"] = "SECRET-BRIEF-OF-THE-TEACHER"
    own = scenario_io.import_dict(data, owner=staff_user)
    other = make_instructor("stranger")
    clerk = get_user_model().objects.create_user("clerk", password="a-long-test-password", is_staff=True)
    clients = {}
    for name, user in (("owner", staff_user), ("other", other), ("clerk", clerk)):
        c = Client()
        c.force_login(user)
        clients[name] = c
    return default_scenario, own, other, clients


def test_the_default_scenario_is_shared_and_belongs_to_the_department(scenarios):
    default, own, _other, _clients = scenarios
    assert default.shared and default.owner is None
    assert not own.shared and own.owner.username == "teacher"


def test_scenario_export_is_for_those_who_may_read_it_and_an_unknown_id_is_404(scenarios):
    default, own, _other, c = scenarios
    url = "/admin/game/scenarioconfig/{}/export/"
    assert c["owner"].get(url.format(own.pk)).status_code == 200
    r = c["other"].get(url.format(own.pk))
    assert r.status_code == 404 and b"SECRET-BRIEF" not in r.content
    assert c["clerk"].get(url.format(own.pk)).status_code == 403  # staff with no permission
    assert c["clerk"].get(url.format(default.pk)).status_code == 403
    assert c["other"].get(url.format(default.pk)).status_code == 200  # shared: readable
    assert c["owner"].get(url.format(999999)).status_code == 404
    assert c["other"].get(url.format(999999)).status_code == 404


def test_instructors_edit_their_own_scenarios_read_shared_ones_and_never_see_anothers(scenarios):
    default, own, _other, c = scenarios
    change = "/admin/game/scenarioconfig/{}/change/"
    listing = c["other"].get("/admin/game/scenarioconfig/").content.decode()
    assert "Teacher&#x27;s own" not in listing and "Teacher's own" not in listing
    assert c["other"].get(change.format(own.pk)).status_code == 302  # "does not exist" redirect
    page = c["other"].get(change.format(default.pk))
    assert page.status_code == 200 and "copy it" in page.content.decode()
    sides = default.sides
    for side in ("implementer", "challenger"):  # the read-only page still shows the model's sides
        name = default.roles.get(key=sides[side]).name
        assert f'<div class="readonly">{name}</div>' in page.content.decode(), side
    # a shared scenario cannot be changed by another instructor
    r = c["other"].post(change.format(default.pk), {"title": "Hijacked"})
    assert r.status_code == 403
    assert ScenarioConfig.objects.get(pk=default.pk).title != "Hijacked"
    # the balance page and the new-session form follow the same rule
    assert c["other"].get("/host/scenario/teachers-own/balance/").status_code == 404
    form = c["other"].get("/host/").content.decode()
    assert "Teacher&#x27;s own" not in form and "Teacher's own" not in form
    r = c["other"].post("/host/", {"scenario": own.pk, "tables": 1})
    assert r.status_code == 200 and not GameSession.objects.filter(scenario=own).exists()
    # an issue of another's scenario is invisible too
    issue = own.issues.first()
    assert c["other"].get(f"/admin/game/scenarioissue/{issue.pk}/change/").status_code == 302
    assert c["owner"].get(f"/admin/game/scenarioissue/{issue.pk}/change/").status_code == 200


def test_copying_a_shared_scenario_gives_an_editable_copy_of_ones_own(scenarios):
    default, _own, other, c = scenarios
    r = c["other"].post(
        "/admin/game/scenarioconfig/", {"action": "duplicate", "_selected_action": [default.pk]}, follow=True
    )
    assert r.status_code == 200
    copy_ = ScenarioConfig.objects.get(slug="default-copy")
    assert copy_.owner == other and not copy_.shared
    assert c["other"].get(f"/admin/game/scenarioconfig/{copy_.pk}/change/").status_code == 200
    assert c["owner"].get(f"/admin/game/scenarioconfig/{copy_.pk}/change/").status_code == 302


def test_an_import_never_overwrites_another_instructors_scenario(scenarios):
    default, own, other, c = scenarios
    before = scenario_io.export_dict(own)
    data = dict(before, title="Overwritten by a stranger")
    upload = io.BytesIO(json.dumps(data).encode())
    upload.name = "s.json"
    r = c["other"].post("/admin/game/scenarioconfig/import/", {"file": upload})
    assert r.status_code == 200 and "not yours to change" in r.content.decode()
    assert scenario_io.export_dict(ScenarioConfig.objects.get(pk=own.pk)) == before
    # nor the department's shared default
    data = dict(scenario_io.export_dict(default), title="Overwritten default")
    upload = io.BytesIO(json.dumps(data).encode())
    upload.name = "d.json"
    r = c["other"].post("/admin/game/scenarioconfig/import/", {"file": upload})
    assert "not yours to change" in r.content.decode()
    assert ScenarioConfig.objects.get(pk=default.pk).title != "Overwritten default"
    # under a new slug it is imported as the importer's own
    data = dict(before, slug="strangers", title="Stranger's")
    upload = io.BytesIO(json.dumps(data).encode())
    upload.name = "n.json"
    assert c["other"].post("/admin/game/scenarioconfig/import/", {"file": upload}).status_code == 302
    assert ScenarioConfig.objects.get(slug="strangers").owner == other
    # and the owner may replace their own
    data = dict(before, title="Replaced by its owner")
    upload = io.BytesIO(json.dumps(data).encode())
    upload.name = "o.json"
    assert c["owner"].post("/admin/game/scenarioconfig/import/", {"file": upload}).status_code == 302
    assert ScenarioConfig.objects.get(pk=own.pk).title == "Replaced by its owner"


def test_the_authoring_grid_and_the_factor_template_change_only_ones_own_scenarios(scenarios):
    default, own, _other, c = scenarios
    assert c["other"].get(f"/admin/game/scenarioconfig/{own.pk}/grid/").status_code == 404
    assert c["other"].get(f"/admin/game/scenarioconfig/{default.pk}/grid/").status_code == 404
    assert c["owner"].get(f"/admin/game/scenarioconfig/{own.pk}/grid/").status_code == 200
    before = default.factors.count()
    default.factors.all().delete()
    r = c["other"].post(
        "/admin/game/scenarioconfig/",
        {"action": "standard_factors", "_selected_action": [default.pk]},
        follow=True,
    )
    assert "not yours to change" in r.content.decode()
    assert default.factors.count() == 0 and before > 0
