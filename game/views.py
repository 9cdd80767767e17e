"""HTTP views: joining, the player page, the host dashboard, the debrief, exports and health."""

from __future__ import annotations

import io
import json
import re
import time

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from game import access, chart_tables, charts, export, lifecycle, privacy, shells, wire
from game import debrief as debrief_presenters
from game import host as host_services
from game.engine import scoring
from game.i18n import request_language
from game.joinurl import join_info
from game.models import GameSession, ScenarioConfig, normalise_code
from game.scenario_io import ensure_default
from game.services import eventlog, seating, snapshots
from game.services.errors import ServiceError
from game.services.seating import JoinError
from game.throttle import Window, client_address


class JoinForm(forms.Form):
    code = forms.CharField(max_length=20, label=gettext_lazy("Session code"), required=False)
    name = forms.CharField(max_length=200, label=gettext_lazy("Your name"), required=False)
    rejoin = forms.CharField(max_length=20, label=gettext_lazy("Your rejoin code"), required=False)


@require_GET
def join_page(request: HttpRequest) -> HttpResponse:
    code = normalise_code(request.GET.get("code", ""))
    rejoin = _my_sessions(request)
    intro = _join_intro(code, request_language(request))

    def context(mark):
        return {
            "form": JoinForm(initial={"code": mark("code") if code else ""}),
            "rejoin": rejoin,
            "intro": intro,
        }

    if rejoin:  # a returning student's own seats: not a page to keep
        return render(request, "game/join.html", context(lambda _name: code))
    # Kept per language, whether a code was given and the words the page shows about its
    # scenario (shells.py): the code itself is one of the request's values, so a stream of
    # made-up codes shares one kept page.
    return shells.page(
        request,
        "game/join.html",
        context,
        {"code": code},
        variant=(bool(code), tuple(sorted(intro.items())) if intro else None),
    )


_intros: dict[tuple[str, str | None], tuple[float, dict | None]] = {}
INTRO_SECONDS = 5.0


def _join_intro(code: str, lang: str | None = None) -> dict | None:
    """What the join page says about the game when the link names a session that can be joined:
    its scenario's title, the first sentences of its description and its moral (students see
    these anyway once seated). Without a code, or for an unknown or ended one, the page speaks of
    no scenario in particular.

    Kept a few seconds per code: a lecture hall opens the same link hundreds of times a minute,
    and the words change only when the instructor retitles or ends the session (the form itself
    checks the code when it is sent)."""
    if not code:
        return None
    now = time.monotonic()
    key = (code, lang)
    hit = _intros.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    if len(_intros) > 1000:
        _intros.clear()
    intro = _intro_of(code, lang)
    _intros[key] = (now + INTRO_SECONDS, intro)
    return intro


def _intro_of(code: str, lang: str | None) -> dict | None:
    # Without its scenario snapshot (large, parsed anew on every read): the engine's scenario is
    # built once per process (GameSession.engine_scenario).
    session = (
        GameSession.objects.filter(code=code)
        .exclude(status=GameSession.ENDED)
        .only("pk", "created_at", "title")
        .first()
    )
    if session is None:
        return None
    scenario = session.engine_scenario(lang)
    return {
        "title": snapshots.display_title(session, scenario),
        "lede": _first_sentences(scenario.description, 2),
        "moral": scenario.moral,
    }


def _first_sentences(text: str, n: int) -> str:
    parts = re.split(r"(?<=[.!?])\s+", (text or "").strip())
    return " ".join(parts[:n])


def _my_sessions(request: HttpRequest) -> list[dict]:
    tokens = request.session.get("players", {})
    out = []
    for code, token in tokens.items():
        p = eventlog.player_row(code, token)
        if p is not None and p.session_status != GameSession.ENDED:
            out.append({"code": code, "name": p.name})
    return out


def _join_windows() -> tuple[Window, Window]:
    g = settings.GAME
    return (
        Window("join", int(g["JOINS_PER_MINUTE"]), 60),
        Window("join-bad-code", int(g["BAD_CODES_PER_10_MINUTES"]), 600),
    )


@require_POST
def join_submit(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST)
    if not form.is_valid():
        return render(request, "game/join.html", {"form": form, "rejoin": _my_sessions(request)}, status=400)
    code = normalise_code(form.cleaned_data.get("code", ""))
    name = form.cleaned_data.get("name", "")
    rejoin_code = form.cleaned_data.get("rejoin", "")
    # The same browser coming back to a session it already joined returns to its seat.
    tokens = request.session.get("players", {})
    existing = eventlog.player_row(code, tokens.get(code)) if code else None
    if existing is not None and not rejoin_code.strip():
        return redirect("play", code=code)
    # Throttled per address: every attempt, and (much more tightly) codes that name no session,
    # so codes cannot be guessed by trying them.
    address = client_address(request) or "unknown"
    attempts, bad_codes = _join_windows()
    for window in (bad_codes, attempts):
        if window.blocked(address):
            form.add_error(
                None,
                ngettext(
                    "Too many attempts to join from your network: wait %(seconds)d second, then try again.",
                    "Too many attempts to join from your network: wait %(seconds)d seconds, then try again.",
                    window.retry_after(),
                )
                % {"seconds": window.retry_after()},
            )
            resp = render(
                request, "game/join.html", {"form": form, "rejoin": _my_sessions(request)}, status=429
            )
            resp["Retry-After"] = str(window.retry_after())
            return resp
    attempts.hit(address)
    # A student the instructor removed cannot come back from this browser under another name.
    if code and seating.removed_player(code, tokens.get(code)) is not None:
        form.add_error(
            "code", gettext("Your instructor removed you from this session. Ask them if you may come back.")
        )
        return render(request, "game/join.html", {"form": form, "rejoin": _my_sessions(request)}, status=403)
    taken = False
    try:
        # On another device the name and the personal rejoin code give the seat back.
        player = seating.rejoin(code, name, rejoin_code) if rejoin_code.strip() else seating.join(code, name)
    except JoinError as e:
        if e.field in ("code", "rejoin"):  # a wrong session code or rejoin code: guessing is throttled
            bad_codes.hit(address)
        form.add_error(e.field if e.field in form.fields else None, e.message)
        taken = e.taken
        context = {"form": form, "rejoin": _my_sessions(request), "open_rejoin": taken or e.field == "rejoin"}
        return render(request, "game/join.html", context, status=400)
    tokens = dict(tokens)
    tokens[player.session.code] = str(player.token)
    request.session["players"] = tokens
    return redirect("play", code=player.session.code)


@never_cache
@require_GET
def play(request: HttpRequest, code: str) -> HttpResponse:
    code = normalise_code(code)
    player = eventlog.player_row(code, request.session.get("players", {}).get(code))
    if player is None:
        return redirect(f"{reverse('join')}?code={code}")
    # The page's socket asks for the scenario's words in the language this page was served in.
    content_lang = request_language(request)
    return shells.page(
        request,
        "game/play.html",
        lambda mark: {
            "player": {"name": mark("name"), "rejoin_code": mark("rejoin")},
            "code": mark("code"),
            "content_lang": content_lang,
        },
        {"name": player.name, "rejoin": player.rejoin_code, "code": code},
        variant=content_lang,
    )


@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    """What the sockets use (``game.lifecycle.health``). A worker answers ``/healthz`` before
    Django sees the request (so on any host name); this view serves Django's test client."""
    status, body = await lifecycle.health()
    return JsonResponse(body, status=status)


# --- host ----------------------------------------------------------------------------------


class ScenarioChoiceField(forms.ModelChoiceField):
    """A scenario by its title and its number of roles: a table seats one student per role."""

    def label_from_instance(self, obj: ScenarioConfig) -> str:
        n = getattr(obj, "n_roles", None)
        if n is None:
            n = obj.roles.count()
        return ngettext("%(title)s (%(n)d role a table)", "%(title)s (%(n)d roles a table)", n) % {
            "title": obj.title,
            "n": n,
        }


class NewSessionForm(forms.Form):
    scenario = ScenarioChoiceField(
        queryset=ScenarioConfig.objects.annotate(n_roles=Count("roles")), empty_label=None
    )
    tables = forms.IntegerField(
        min_value=0,
        max_value=seating.MAX_TABLES,
        initial=0,
        help_text=gettext_lazy(
            "0 opens tables as students join (a table for each full set of the scenario's roles)."
        ),
    )
    title = forms.CharField(
        max_length=200, required=False, help_text=gettext_lazy("Optional, e.g. 'IR 201, Tuesday'.")
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scenario"].queryset = access.scenarios_for(user).annotate(n_roles=Count("roles"))


def instructor_required(view):
    """Staff only (others are sent to the login page), and only instructors: a staff account
    without the instructor permission gets a 403 that says why."""

    @staff_member_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not access.is_instructor(request.user):
            raise PermissionDenied(
                "This account is not an instructor's: ask a department administrator to add it to "
                "the Instructor group."
            )
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@instructor_required
@require_http_methods(["GET", "POST"])
def host_index(request: HttpRequest) -> HttpResponse:
    ensure_default()
    form = NewSessionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            session = seating.create_session(
                form.cleaned_data["scenario"],
                form.cleaned_data["tables"],
                request.user,
                title=form.cleaned_data["title"],
            )
        except ServiceError as e:
            form.add_error("scenario", e.message)
        else:
            return redirect("host_session", code=session.code)
    # Students still in the session: removed students and bots are not counted.
    sessions = (
        access.sessions_for(request.user)
        .select_related("scenario", "created_by")
        .prefetch_related("co_instructors")
        .annotate(
            n_tables=Count("tables", distinct=True),
            n_students=Count(
                "players", filter=Q(players__removed=False, players__is_bot=False), distinct=True
            ),
        )
        .order_by("-created_at")[:100]
    )
    return render(
        request,
        "game/host_index.html",
        {
            "form": form,
            "sessions": sessions,
            "join": join_info(request),
            "is_admin": access.is_admin(request.user),
        },
    )


def _host_session(request: HttpRequest, code: str) -> GameSession:
    """The session with this code among those this user may run; anyone else is told that no
    session has that code (404), whether or not one exists."""
    session = host_services.session_by_code(code, among=access.sessions_for(request.user))
    if session is None:
        raise Http404("No session of yours has that code.")
    return session


@instructor_required
@require_GET
def host_session(request: HttpRequest, code: str) -> HttpResponse:
    session = _host_session(request, code)
    join = join_info(request, session.code, via=request.GET.get("via", ""))
    url = join.url
    can_manage = access.can_manage(request.user, session)
    co = list(session.co_instructors.order_by("username"))
    candidates = []
    if can_manage:
        excluded = {u.pk for u in co} | {session.created_by_id}
        candidates = [u for u in access.instructors() if u.pk not in excluded]
    return render(
        request,
        "game/host.html",
        {
            "session": session,
            "join": join,
            "join_url": url,
            "qr_svg": _qr_svg(url),
            "can_manage": can_manage,
            "co_instructors": co,
            "candidates": candidates,
            "removed_players": [p for p in session.players.all() if p.removed and not p.is_bot],
            "content_lang": request_language(request),
        },
    )


def _qr_svg(url: str) -> SafeString:
    """The join address as a QR code: segno's SVG of squares (it writes no text of ours into it:
    no title, no description), the one markup a page inserts as it is besides the charts'."""
    qr = segno.make(url, error="m")
    buf = io.BytesIO()
    qr.save(
        buf,
        kind="svg",
        scale=6,
        border=2,
        dark="#111",
        light="#fff",
        xmldecl=False,
        svgns=True,
        omitsize=True,
    )
    return mark_safe(buf.getvalue().decode())


@instructor_required
@require_GET
def projector(request: HttpRequest, code: str) -> HttpResponse:
    """What the class sees on the big screen, at a URL of its own: how to join, then the clock,
    the phase and what it allows, the news, and at the end the way on to the debrief. Never a
    control, never a table's proposals or chat."""
    session = _host_session(request, code)
    join = join_info(request, session.code, via=request.GET.get("via", ""))
    return render(
        request,
        "game/projector.html",
        {
            "session": session,
            "scenario": session.engine_scenario(request_language(request)),
            "join": join,
            "join_url": join.url,
            "qr_svg": _qr_svg(join.url),
            "content_lang": request_language(request),
        },
    )


@instructor_required
@require_GET
def host_transcript(request: HttpRequest, code: str, table: int) -> HttpResponse:
    session = _host_session(request, code)
    t = get_object_or_404(session.tables, number=table)
    scenario = session.engine_scenario(request_language(request))
    events = host_services.transcript(session, t.pk)
    # A counter to another role's proposal is also that role's rejection of it: say which.
    authors: dict[int, str] = {}
    role_names = {r.key: r.name for r in scenario.roles}
    for e in events:
        # The scenario's words (news, phases, the outcome's story, a bot's lines) in the
        # instructor's language; the event itself is not changed.
        e.data = wire.localize_event({"kind": e.kind, "data": e.data}, scenario)["data"]
        e.role_name = role_names.get((e.data or {}).get("role"), "") if isinstance(e.data, dict) else ""
        if e.kind == "proposal.made":
            prop = e.data.get("proposal") or {}
            authors[prop.get("id")] = prop.get("author")
            e.counters_other = bool(prop.get("replaces")) and authors.get(prop.get("replaces")) != prop.get(
                "author"
            )
    return render(
        request,
        "game/transcript.html",
        {
            "session": session,
            "table": t,
            "events": events,
            "roles": {r.key: r for r in scenario.roles},
            "scenario": scenario,
            "session_title": snapshots.display_title(session, scenario),
        },
    )


def _lesson_rows(scenario) -> list[dict]:
    """For each role, what its own maximum and the compromise score it (every package, no news)."""
    try:
        les = scoring.lesson(scenario)
    except ValueError:
        return []
    out = []
    for r in scenario.roles:
        row = les["roles"].get(r.key)
        if row:
            out.append(
                {
                    "key": r.key,
                    "name": r.name,
                    "greedy": round(row["greedy"]["total"], 1),
                    "greedy_hold": round(100 * row["greedy"]["p_hold"]),
                    "greedy_peace": round(100 * row["greedy"]["expected_peace"]),
                    "compromise": round(row["compromise"]["total"], 1),
                    "no_deal": r.no_deal_value,
                    "mediator": r.mediator,
                }
            )
    return out


@instructor_required
@require_GET
def debrief(request: HttpRequest, code: str) -> HttpResponse:
    session = _host_session(request, code)
    lang = request_language(request)
    scenario = session.engine_scenario(lang)
    res = host_services.results(session, lang)
    role_svgs = charts.role_charts(res, scenario)
    for rc in role_svgs:
        rc["table"] = chart_tables.role_table(res, scenario, rc["role"])
    return render(
        request,
        "game/debrief.html",
        {
            "session": session,
            "session_title": snapshots.display_title(session, scenario),
            "scenario": scenario,
            "results": res,
            "scatter_svg": charts.scatter(res, scenario),
            "scatter_table": chart_tables.scatter_table(res, scenario),
            "role_svgs": role_svgs,
            "curves_svg": charts.curves(res, scenario),
            "curves_table": chart_tables.curves_table(res, scenario),
            "causes_svg": charts.causes(res),
            "causes_table": chart_tables.causes_table(res),
            "tables": debrief_presenters.table_cards(res, scenario),
            "lesson_rows": _lesson_rows(scenario),
        },
    )


def _export_options(request: HttpRequest) -> dict[str, bool]:
    """The research export is anonymised and leaves private channels out unless the instructor
    chooses otherwise (``?private=1``, ``?names=1``)."""
    yes = ("1", "on", "yes", "true")
    return {
        "private": request.GET.get("private", "").lower() in yes,
        "names": request.GET.get("names", "").lower() in yes,
    }


def _export_name(session: GameSession, ext: str, opts: dict[str, bool]) -> str:
    tags = [t for t, on in (("private", opts["private"]), ("names", opts["names"])) if on]
    return f"session-{session.code}{'-' + '-'.join(tags) if tags else ''}.{ext}"


@instructor_required
@require_GET
def export_json(request: HttpRequest, code: str) -> HttpResponse:
    session = _host_session(request, code)
    opts = _export_options(request)
    resp = HttpResponse(
        json.dumps(export.session_export(session, **opts), ensure_ascii=False, indent=1),
        content_type="application/json; charset=utf-8",
    )
    resp["Content-Disposition"] = f'attachment; filename="{_export_name(session, "json", opts)}"'
    return resp


@instructor_required
@require_GET
def export_csv(request: HttpRequest, code: str) -> HttpResponse:
    session = _host_session(request, code)
    opts = _export_options(request)
    resp = HttpResponse(export.session_csv(session, **opts), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{_export_name(session, "csv", opts)}"'
    return resp


@instructor_required
@require_GET
def export_grades(request: HttpRequest, code: str) -> HttpResponse:
    """For grading, not research: one row per student, with their name, table, role and scores."""
    session = _host_session(request, code)
    resp = HttpResponse(export.grades_csv(session), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="grades-{session.code}.csv"'
    return resp


@instructor_required
@require_POST
def host_control(request: HttpRequest, code: str) -> HttpResponse:
    """A plain-form fallback for the dashboard's controls (works without JavaScript)."""
    session = _host_session(request, code)
    msg = {"type": request.POST.get("type", "")}
    for field in ("seconds", "player", "table", "to"):
        if request.POST.get(field):
            try:
                msg[field] = int(request.POST[field])
            except ValueError:
                messages.error(request, gettext("%(field)s must be a number.") % {"field": field})
                return redirect("host_session", code=session.code)
    if request.POST.get("news"):
        msg["news"] = request.POST["news"]
    if request.POST.getlist("tables"):
        try:
            msg["tables"] = [int(t) for t in request.POST.getlist("tables")]
        except ValueError:
            messages.error(request, gettext("tables must be table ids."))
            return redirect("host_session", code=session.code)
    if "on" in request.POST:
        msg["on"] = request.POST["on"] not in ("0", "false", "off", "")
    if request.POST.get("role"):
        msg["role"] = request.POST["role"]
    if request.POST.get("confirm") in ("1", "on", "yes"):
        msg["confirm"] = True
    try:
        host_services.host_action(session.pk, msg)
    except ServiceError as e:
        messages.error(request, e.message)
    return redirect("host_session", code=session.code)


@instructor_required
@require_POST
def host_co_instructors(request: HttpRequest, code: str) -> HttpResponse:
    """The owner (or an administrator) adds or removes a co-instructor. A removed co-instructor's
    dashboard socket closes within seconds (the host socket re-checks access)."""
    session = _host_session(request, code)
    if not access.can_manage(request.user, session):
        raise PermissionDenied("Only the session's owner or an administrator chooses its co-instructors.")
    User = get_user_model()
    action = request.POST.get("action")
    raw = request.POST.get("user", "")
    try:
        user_id = int(raw)
    except ValueError:
        messages.error(request, gettext("Choose an instructor from the list."))
        return redirect("host_session", code=session.code)
    if action == "add":
        user = access.instructors().filter(pk=user_id).first()
        if user is None or user.pk == session.created_by_id:
            messages.error(request, gettext("Choose an instructor from the list (not the session's owner)."))
        else:
            session.co_instructors.add(user)
            messages.success(
                request, gettext("%(user)s can now see and run this session.") % {"user": user.get_username()}
            )
    elif action == "remove":
        user = User.objects.filter(pk=user_id).first()
        if user is None or not session.co_instructors.filter(pk=user_id).exists():
            messages.error(request, gettext("That person is not a co-instructor of this session."))
        else:
            session.co_instructors.remove(user)
            messages.success(
                request,
                gettext("%(user)s no longer has access to this session.") % {"user": user.get_username()},
            )
    else:
        messages.error(request, gettext("Say whether to add or remove a co-instructor."))
    return redirect("host_session", code=session.code)


@instructor_required
@require_POST
def host_anonymise(request: HttpRequest, code: str) -> HttpResponse:
    """Replace the students' names by role and table and remove private channels, keeping the
    results (game/privacy.py). The owner or an administrator, on an ended session, once."""
    session = _host_session(request, code)
    if not access.can_manage(request.user, session):
        raise PermissionDenied("Only the session's owner or an administrator can anonymise it.")
    if request.POST.get("confirm") != "yes":
        messages.error(request, gettext("Tick the box to confirm: anonymising cannot be undone."))
        return redirect("host_session", code=session.code)
    try:
        done = privacy.anonymise_session(session.pk)
    except ServiceError as e:
        messages.error(request, e.message)
    else:
        names = ngettext(
            "%(n)d name replaced by role and table", "%(n)d names replaced by role and table", done["players"]
        ) % {"n": done["players"]}
        removed = ngettext(
            "%(n)d private message removed",
            "%(n)d private messages removed",
            done["private_messages_removed"],
        ) % {"n": done["private_messages_removed"]}
        messages.success(
            request,
            gettext("Anonymised: %(names)s, %(removed)s. Results are kept.")
            % {"names": names, "removed": removed},
        )
    return redirect("host_session", code=session.code)
