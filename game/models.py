"""Persistence: scenarios (edited in the admin), sessions, tables, players and the event log.

Scenarios are stored in rows an instructor can edit; ``ScenarioConfig.to_engine()`` turns them
into the engine's frozen ``Scenario``. A session keeps a snapshot of its scenario as it was at
creation, so editing a scenario never changes a class that is already running.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy, pgettext_lazy

from game.engine import rules
from game.engine.scenario import COMBINE_KINDS, TIME_KINDS, Scenario
from game.engine.scenario import FORMAT as SCENARIO_FORMAT

key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,39}$",
    "Use lower-case letters, digits and underscores, starting with a letter (at most 40).",
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


REJOIN_CODE_LENGTH = 5


def new_rejoin_code() -> str:
    """A player's personal rejoin code: typed with their name on another device, it gives back
    their seat. Not unique by itself: a rejoin matches the name and the code together."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(REJOIN_CODE_LENGTH))


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper() if not ch.isspace() and ch != "-")


class ScenarioConfig(models.Model):
    slug = models.SlugField(
        unique=True, help_text=gettext_lazy("Short name used in URLs, files and commands.")
    )
    title = models.CharField(max_length=200, help_text=gettext_lazy("The title students see."))
    description = models.TextField(
        blank=True, help_text=gettext_lazy("Public introduction shown to every student.")
    )
    moral = models.CharField(
        max_length=300,
        blank=True,
        help_text=gettext_lazy(
            "The lesson the debrief closes on, in this scenario's words (e.g. 'Tactically, the parties may win…')."
        ),
    )
    horizon_years = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=gettext_lazy("How many years after the deal the durability model simulates."),
    )
    baseline_hazard = models.FloatField(
        default=0.12,
        validators=[MinValueValidator(0.001), MaxValueValidator(0.99)],
        help_text=gettext_lazy(
            "Yearly risk of relapse into war in year 1 for an average historical settlement."
        ),
    )
    baseline_decay = models.FloatField(
        default=0.85,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text=gettext_lazy(
            "Each later year's baseline risk is this fraction of the year before (risk is highest early)."
        ),
    )
    context_log_hr = models.FloatField(
        default=0.0,
        help_text=gettext_lazy(
            "Fixed context no one negotiates (log hazard ratio; 0.34 multiplies the risk by 1.4)."
        ),
    )
    context_label = models.CharField(
        max_length=300,
        blank=True,
        help_text=gettext_lazy("Plain words for the fixed context, shown in the debrief."),
    )
    sides = models.JSONField(
        default=dict,
        blank=True,
        help_text=gettext_lazy(
            "Which role fills each side of the durability model: "
            '{"implementer": role key (the side that must implement the concessions), '
            '"challenger": role key (the side able to restart the war)}.'
        ),
    )
    peace_value = models.FloatField(
        default=50.0,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
        help_text=gettext_lazy(
            "Score: what a year at peace is worth to every party, on top of its tactical points."
        ),
    )
    relapse_share = models.FloatField(
        default=0.1,
        validators=[MinValueValidator(0), MaxValueValidator(0.99)],
        help_text=gettext_lazy(
            "Score: the share of its tactical points a party keeps in a year after the deal collapsed."
        ),
    )
    no_deal_text = models.CharField(
        max_length=300,
        blank=True,
        help_text=gettext_lazy(
            "What no agreement means here, for students (e.g. 'No agreement: the war goes on.')."
        ),
    )
    no_deal_values = models.JSONField(
        default=dict,
        blank=True,
        help_text=gettext_lazy(
            "If no deal is itself a ceasefire that can break (a frozen line), its factor values "
            "{factor key: value}; leave empty when no deal means the war goes on."
        ),
    )
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text=gettext_lazy(
            "The scenario's texts in other languages, {language: {path: text}}; English (the fields "
            "themselves) is the fallback of every text left out. Edited on the scenario's "
            "'Translations' pages."
        ),
    )
    shipped_digest = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text=gettext_lazy("For a shipped scenario: the digest of the file it was loaded from."),
    )
    content_digest = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text=gettext_lazy("The digest of the scenario as loaded, to tell whether it was edited since."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scenarios",
        help_text=gettext_lazy(
            "The instructor who may edit it (none: the department's; only administrators edit it)."
        ),
    )
    shared = models.BooleanField(
        default=False,
        help_text=gettext_lazy(
            "Shared with all instructors: they may read it, open sessions on it and copy it, not edit it."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("scenario")
        verbose_name_plural = gettext_lazy("scenarios")
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.title} ({self.slug})"

    def to_engine(self) -> Scenario:
        return Scenario.from_dict(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        roles = list(self.roles.all())
        return {
            "format": SCENARIO_FORMAT,
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "moral": self.moral,
            "necessary_signatories": [r.key for r in roles if r.necessary_signatory],
            "roles": [
                {
                    "key": r.key,
                    "name": r.name,
                    "colour": r.colour,
                    "description": r.description,
                    "brief": r.brief,
                    "no_deal_value": r.no_deal_value,
                    "mediator": r.mediator,
                    "voice": dict(r.voice or {}),
                }
                for r in roles
            ],
            "issues": [
                {
                    "key": i.key,
                    "name": i.name,
                    "description": i.description,
                    "options": [
                        {
                            "key": o.key,
                            "label": o.label,
                            "summary": o.summary,
                            "points": dict(o.points),
                            "commits": list(o.commits),
                            "loadings": dict(o.loadings),
                            "excludes": list(o.excludes or []),
                        }
                        for o in i.options.all()
                    ],
                }
                for i in self.issues.prefetch_related("options")
            ],
            "phases": [
                {
                    "key": p.key,
                    "name": p.name,
                    "duration_seconds": p.duration_seconds,
                    "agreement": p.agreement,
                }
                for p in self.phases.all()
            ],
            "news": [
                {
                    "key": n.key,
                    "headline": n.headline,
                    "body": n.body,
                    "factor_effects": dict(n.factor_effects),
                    "value_effects": {r: dict(v) for r, v in n.value_effects.items()},
                }
                for n in self.news.all()
            ],
            "model": {
                "horizon_years": self.horizon_years,
                "baseline_hazard": self.baseline_hazard,
                "baseline_decay": self.baseline_decay,
                "context_log_hr": self.context_log_hr,
                "context_label": self.context_label,
                "sides": dict(self.sides or {}),
                "peace_value": self.peace_value,
                "relapse_share": self.relapse_share,
                "no_deal_text": self.no_deal_text,
                "no_deal_values": dict(self.no_deal_values or {}),
                "factors": [f.to_dict() for f in self.factors.all()],
            },
            **(
                {"translations": {k: dict(v) for k, v in self.translations.items() if v}}
                if any((self.translations or {}).values())
                else {}
            ),
        }

    def problems(self) -> list[str]:
        """Everything that makes the scenario unplayable, each saying what to fix. A row that
        cannot even be read (a mistyped factor field, text where a number belongs) is one
        such problem, never an exception."""
        from game.engine.scenario import ScenarioError, validate

        try:
            return validate(self.to_engine())
        except ScenarioError as e:
            return [str(e)]


class ScenarioRole(models.Model):
    scenario = models.ForeignKey(ScenarioConfig, on_delete=models.CASCADE, related_name="roles")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.CharField(
        max_length=40, validators=[key_validator], help_text=gettext_lazy("Stable key, e.g. 'ukraine'.")
    )
    name = models.CharField(max_length=80)
    colour = models.CharField(
        max_length=7,
        default="#555555",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour like #1f5fbf.")],
        help_text=gettext_lazy("One colour for this role everywhere: badges, chat, charts."),
    )
    description = models.TextField(
        blank=True, help_text=gettext_lazy("Public: what every student knows about this role.")
    )
    brief = models.TextField(
        blank=True,
        help_text=gettext_lazy("Confidential brief in Markdown, shown only to this role's players."),
    )
    no_deal_value = models.FloatField(
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=gettext_lazy("The role's total score (0-100) if the table reaches no agreement."),
    )
    mediator = models.BooleanField(
        default=False,
        help_text=gettext_lazy(
            "A mediator is not a party to the war: it signs only what commits it, and the debrief "
            "never crowns it for what the parties won."
        ),
    )
    voice = models.JSONField(
        default=dict,
        blank=True,
        help_text=gettext_lazy(
            "Optional: the bot's phrases in this role's voice, {kind: [phrases]} with kinds opening, "
            "propose, counter, accept, reject, reject_alone (docs/authoring.md)."
        ),
    )
    necessary_signatory = models.BooleanField(
        default=False, help_text=gettext_lazy("Must this role sign every agreement (whatever the options)?")
    )

    class Meta:
        verbose_name = gettext_lazy("role")
        verbose_name_plural = gettext_lazy("roles")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["scenario", "key"], name="unique_role_key")]

    def __str__(self) -> str:
        return self.name


class ScenarioIssue(models.Model):
    scenario = models.ForeignKey(ScenarioConfig, on_delete=models.CASCADE, related_name="issues")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.CharField(max_length=40, validators=[key_validator])
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = gettext_lazy("issue")
        verbose_name_plural = gettext_lazy("issues")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["scenario", "key"], name="unique_issue_key")]

    def __str__(self) -> str:
        return f"{self.scenario.slug}: {self.name}"


class ScenarioOption(models.Model):
    issue = models.ForeignKey(ScenarioIssue, on_delete=models.CASCADE, related_name="options")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.CharField(max_length=40, validators=[key_validator])
    label = models.CharField(
        max_length=120, help_text=gettext_lazy("Short name of the option, as students see it.")
    )
    summary = models.TextField(
        blank=True, help_text=gettext_lazy("One to three sentences: what this option means.")
    )
    points = models.JSONField(
        default=dict, blank=True, help_text=gettext_lazy("Points for each role: {role key: number}.")
    )
    commits = models.JSONField(
        default=list,
        blank=True,
        help_text=gettext_lazy("Roles that must sign any agreement containing this option."),
    )
    loadings = models.JSONField(
        default=dict,
        blank=True,
        help_text=gettext_lazy("How this option moves the durability factors: {factor key: value}."),
    )
    excludes = models.JSONField(
        default=list,
        blank=True,
        help_text=gettext_lazy("Options of other issues this one cannot be combined with, as issue/option."),
    )

    class Meta:
        verbose_name = gettext_lazy("option")
        verbose_name_plural = gettext_lazy("options")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["issue", "key"], name="unique_option_key")]

    def __str__(self) -> str:
        return f"{self.issue.key}/{self.key}"


class ScenarioPhase(models.Model):
    scenario = models.ForeignKey(ScenarioConfig, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.CharField(max_length=40, validators=[key_validator])
    name = models.CharField(max_length=80)
    duration_seconds = models.PositiveIntegerField(
        default=900,
        validators=[MinValueValidator(1)],
        help_text=gettext_lazy("Default length of the phase in seconds."),
    )
    agreement = models.BooleanField(
        default=False, help_text=gettext_lazy("Can an agreement be concluded in this phase?")
    )

    class Meta:
        verbose_name = gettext_lazy("phase")
        verbose_name_plural = gettext_lazy("phases")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["scenario", "key"], name="unique_phase_key")]

    def __str__(self) -> str:
        return self.name


class ScenarioNews(models.Model):
    scenario = models.ForeignKey(ScenarioConfig, on_delete=models.CASCADE, related_name="news")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.CharField(max_length=40, validators=[key_validator])
    headline = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    factor_effects = models.JSONField(
        default=dict, blank=True, help_text=gettext_lazy("Added to durability factors: {factor key: amount}.")
    )
    value_effects = models.JSONField(
        default=dict,
        blank=True,
        help_text=gettext_lazy('Changes to role values: {role key: {"issue/option": change in points}}.'),
    )

    class Meta:
        verbose_name = gettext_lazy("news item")
        verbose_name_plural = gettext_lazy("news items")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["scenario", "key"], name="unique_news_key")]

    def __str__(self) -> str:
        return self.headline


class ScenarioFactor(models.Model):
    scenario = models.ForeignKey(ScenarioConfig, on_delete=models.CASCADE, related_name="factors")
    order = models.PositiveSmallIntegerField(default=0)
    key = models.CharField(max_length=40, validators=[key_validator])
    label = models.CharField(max_length=160)
    params = models.JSONField(
        default=dict,
        blank=True,
        help_text=gettext_lazy(
            "The factor's model parameters (beta, centre, combine, time, ...); see docs/durability.md."
        ),
    )

    class Meta:
        verbose_name = gettext_lazy("durability factor")
        verbose_name_plural = gettext_lazy("durability factors")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["scenario", "key"], name="unique_factor_key")]

    def __str__(self) -> str:
        return self.label

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, **self.params}


FACTOR_COMBINE_KINDS = COMBINE_KINDS
FACTOR_TIME_KINDS = TIME_KINDS


# --- Sessions ----------------------------------------------------------------------------


class GameSession(models.Model):
    LOBBY, RUNNING, ENDED = "lobby", "running", "ended"
    STATUS = [
        (LOBBY, pgettext_lazy("session status", "Lobby")),
        (RUNNING, pgettext_lazy("session status", "Running")),
        (ENDED, pgettext_lazy("session status", "Ended")),
    ]

    code = models.CharField(max_length=CODE_LENGTH, db_index=True)
    scenario = models.ForeignKey(ScenarioConfig, on_delete=models.PROTECT, related_name="sessions")
    scenario_data = models.JSONField(
        help_text=gettext_lazy("The scenario as it was when the session opened.")
    )
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=STATUS, default=LOBBY)
    table_count = models.PositiveSmallIntegerField(
        default=0,
        help_text=gettext_lazy("Tables opened up front; 0 means as many as the players who join need."),
    )
    seed = models.BigIntegerField(default=0)
    phase_index = models.PositiveSmallIntegerField(default=0)
    phase_ends_at = models.DateTimeField(null=True, blank=True)
    paused_remaining = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=gettext_lazy("owner"),
        help_text=gettext_lazy(
            "The instructor who opened the session (none: only department administrators see it)."
        ),
    )
    co_instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="co_hosted_sessions",
        help_text=gettext_lazy(
            "Instructors the owner added (a teaching assistant): they see and run the session too."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=gettext_lazy("When names were replaced by role and table and private chats removed."),
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [("host_sessions", "Can open and run game sessions at /host/")]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~Q(status="ended"), name="unique_code_among_open_sessions"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_status_display()})"

    def engine_scenario(self, lang: str | None = None) -> Scenario:
        """The engine's scenario for this session, built once per process; with ``lang``, the
        same scenario with its texts in that language (``Scenario.localized``: English for any
        text the translation leaves out, and for an unknown language).

        The snapshot never changes after a session opens, so its id and creation time are a safe key,
        and a caller that deferred ``scenario_data`` only pays for it on the first call. Each
        language's scenario is built once and kept with the English one, so the engine's caches
        (keyed by the scenario object) serve every later request in that language.
        """
        key = (self.pk, self.created_at)
        sc = _scenario_cache.get(key)
        if sc is None:
            if len(_scenario_cache) > 256:
                _scenario_cache.clear()
            sc = _scenario_cache[key] = Scenario.from_dict(self.scenario_data)
        return sc.localized(lang) if lang else sc


_scenario_cache: dict[tuple, Scenario] = {}


def cached_scenario_for(session_id: int, stamp: Any) -> Scenario | None:
    """``scenario_for`` without a query: None unless this process has built it already."""
    return _scenario_cache.get(("raw", session_id, stamp))


def scenario_for(session_id: int, stamp: Any, lang: str | None = None) -> Scenario:
    """The engine's scenario of a session known by id and creation time, as read by raw SQL (the
    database's own representation of ``created_at``): no query once cached in this process. With
    ``lang``, its texts in that language (see ``GameSession.engine_scenario``)."""
    key = ("raw", session_id, stamp)
    sc = _scenario_cache.get(key)
    if sc is None:
        sc = (
            GameSession.objects.only("pk", "created_at", "scenario_data").get(pk=session_id).engine_scenario()
        )
        if len(_scenario_cache) > 256:
            _scenario_cache.clear()
        _scenario_cache[key] = sc
    return sc.localized(lang) if lang else sc


class GameTable(models.Model):
    session = models.ForeignKey(GameSession, on_delete=models.CASCADE, related_name="tables")
    number = models.PositiveSmallIntegerField()
    state = models.JSONField(default=dict)
    seq = models.PositiveIntegerField(
        default=0, help_text=gettext_lazy("The seq of the table's latest event.")
    )
    outcome = models.JSONField(null=True, blank=True)
    last_activity = models.DateTimeField(null=True, blank=True)
    WAITING, LIVE, ENDED = "waiting", "live", "ended"
    stage = models.CharField(
        max_length=8,
        choices=[
            (WAITING, gettext_lazy("Not started")),
            (LIVE, gettext_lazy("In play")),
            (ENDED, pgettext_lazy("table stage", "Ended")),
        ],
        default=WAITING,
        help_text=gettext_lazy(
            "Mirrors the state's started/ended flags, so a chat line needs no state parsing."
        ),
    )

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["session", "number"], name="unique_table_number")]

    def __str__(self) -> str:
        return f"{self.session.code} table {self.number}"

    def engine_state(self) -> rules.TableState:
        return rules.TableState.from_dict(self.state) if self.state else rules.TableState()

    def set_state(self, state: rules.TableState) -> None:
        """Store the engine's state and the stage that mirrors it (save both fields)."""
        self.state = state.to_dict()
        self.stage = stage_of(state)


def stage_of(state: rules.TableState) -> str:
    if state.ended:
        return GameTable.ENDED
    return GameTable.LIVE if state.started else GameTable.WAITING


class Player(models.Model):
    session = models.ForeignKey(GameSession, on_delete=models.CASCADE, related_name="players")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=40)
    rejoin_code = models.CharField(
        max_length=8,
        default=new_rejoin_code,
        help_text=gettext_lazy(
            "Shown on the student's own page: with their name it gives the seat back on another device."
        ),
    )
    table = models.ForeignKey(
        GameTable, null=True, blank=True, on_delete=models.SET_NULL, related_name="players"
    )
    role = models.CharField(max_length=40, blank=True)
    is_bot = models.BooleanField(default=False)
    stand_in = models.BooleanField(
        default=False, help_text=gettext_lazy("A bot plays this seat while its student is away.")
    )
    removed = models.BooleanField(default=False)
    name_key = models.CharField(
        max_length=200,
        default="",
        editable=False,
        help_text=gettext_lazy(
            "The name's confusable skeleton, case folded (game/names.py): two names that look alike share it."
        ),
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    presence = models.BooleanField(
        default=False, help_text=gettext_lazy("The connection state last announced to the table.")
    )
    presence_at = models.DateTimeField(
        null=True, blank=True, help_text=gettext_lazy("When it was announced.")
    )

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "name_key"], name="unique_player_name_key_per_session")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.name_key:  # every player has one, whoever creates the row
            from game.names import name_key

            self.name_key = name_key(self.name)
        super().save(*args, **kwargs)


class Event(models.Model):
    """One entry of a table's log. ``audience`` says who may read it:
    ``table`` (every seat), ``channel:<a>+<b>`` (the two roles of a private channel),
    ``role:<key>`` (one role), or ``host`` (the instructor only)."""

    table = models.ForeignKey(GameTable, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=40)
    data = models.JSONField()
    audience = models.CharField(max_length=90, default="table")
    at = models.DateTimeField()

    class Meta:
        ordering = ["table", "seq"]
        constraints = [models.UniqueConstraint(fields=["table", "seq"], name="unique_event_seq")]

    def __str__(self) -> str:
        return f"{self.table} #{self.seq} {self.kind}"

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "event",
            "seq": self.seq,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "data": self.data,
        }


class ClientRef(models.Model):
    """The answer already given to a client's ``ref``, so a repeat is applied once."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="refs")
    ref = models.CharField(max_length=64)
    answer = models.JSONField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["player", "ref"], name="unique_client_ref")]

    def __str__(self) -> str:
        return f"{self.player_id}:{self.ref}"


class HostRef(models.Model):
    """The answer already given to a host socket's ``ref`` in a session, so that a dashboard
    that sends an action again (after ``unavailable`` or a reconnect) has it applied once."""

    session = models.ForeignKey(GameSession, on_delete=models.CASCADE, related_name="host_refs")
    ref = models.CharField(max_length=64)
    answer = models.JSONField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "ref"], name="unique_host_ref")]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.ref}"


class Connection(models.Model):
    """One open socket of a player. A worker that dies leaves rows behind; they stop counting
    once ``seen_at`` is older than two sync periods, so presence heals by itself."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="sockets")
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.channel_name
