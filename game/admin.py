"""The Django admin, where instructors configure scenarios.

Each form refuses what it can check by itself (duplicate keys, a missing point, no phase that
allows an agreement, an issue with fewer than two options); the scenario page also lists every
problem the engine finds across pages, and a session cannot be opened on a scenario that has any.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy

from game import access, admin_translations, scenario_io
from game.admin_a11y import LabelledRowsInline
from game.admin_authoring import FactorForm, add_standard_factors, grid_view
from game.models import (
    Event,
    GameSession,
    GameTable,
    Player,
    ScenarioConfig,
    ScenarioFactor,
    ScenarioIssue,
    ScenarioNews,
    ScenarioOption,
    ScenarioPhase,
    ScenarioRole,
)

# --- formsets that refuse inconsistent input -----------------------------------------------


class KeyedFormSet(forms.BaseInlineFormSet):
    """Refuses two rows with the same key in one list."""

    duplicate = gettext_lazy("Two rows have the key %(key)s: give each row its own key.")

    def validate_unique(self):
        """Replaced by the clearer key check in clean()."""

    def live_forms(self):
        return [
            f
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE", False) and f.cleaned_data.get("key")
        ]

    def clean(self):
        super().clean()
        seen: dict[str, int] = {}
        for f in self.live_forms():
            key = f.cleaned_data["key"]
            if key in seen:
                raise ValidationError(str(self.duplicate) % {"key": repr(key)})
            seen[key] = 1


class RoleFormSet(KeyedFormSet):
    duplicate = gettext_lazy("Two roles have the key %(key)s: give each role its own key.")


class IssueFormSet(KeyedFormSet):
    duplicate = gettext_lazy("Two issues have the key %(key)s: give each issue its own key.")


class NewsFormSet(KeyedFormSet):
    duplicate = gettext_lazy("Two news items have the key %(key)s: give each news item its own key.")


class FactorFormSet(KeyedFormSet):
    duplicate = gettext_lazy("Two factors have the key %(key)s: give each factor its own key.")


class PhaseFormSet(KeyedFormSet):
    duplicate = gettext_lazy("Two phases have the key %(key)s: give each phase its own key.")

    def clean(self):
        super().clean()
        live = self.live_forms()
        if not live:
            raise ValidationError(gettext("Add at least one phase."))
        if not any(f.cleaned_data.get("agreement") for f in live):
            raise ValidationError(
                gettext(
                    "No phase allows an agreement: tick 'agreement' on at least one phase (usually the last, "
                    "the leaders' meeting)."
                )
            )


class OptionFormSet(KeyedFormSet):
    duplicate = gettext_lazy("Two options have the key %(key)s: give each option its own key.")

    def clean(self):
        super().clean()
        if len(self.live_forms()) < 2:
            raise ValidationError(
                gettext("An issue needs at least two options to negotiate: add another option.")
            )


# --- scenario pages ------------------------------------------------------------------------


def _scenario_of(obj) -> ScenarioConfig | None:
    if obj is None:
        return None
    return obj if isinstance(obj, ScenarioConfig) else getattr(obj, "scenario", None)


class TranslatedLabels:
    """Form labels of the scenario's fields in the reader's language. The model fields keep their
    automatic names (a verbose name would be a migration); the admin's forms read them from here."""

    LABELS = {
        "agreement": gettext_lazy("Agreement"),
        "baseline_decay": gettext_lazy("Baseline decay"),
        "baseline_hazard": gettext_lazy("Baseline hazard"),
        "body": gettext_lazy("Body"),
        "brief": gettext_lazy("Brief"),
        "colour": gettext_lazy("Colour"),
        "commits": gettext_lazy("Commits"),
        "context_label": gettext_lazy("Context label"),
        "context_log_hr": gettext_lazy("Context log hr"),
        "description": gettext_lazy("Description"),
        "duration_seconds": gettext_lazy("Duration seconds"),
        "excludes": gettext_lazy("Excludes"),
        "factor_effects": gettext_lazy("Factor effects"),
        "headline": gettext_lazy("Headline"),
        "horizon_years": gettext_lazy("Horizon years"),
        "key": gettext_lazy("Key"),
        "label": gettext_lazy("Label"),
        "loadings": gettext_lazy("Loadings"),
        "mediator": gettext_lazy("Mediator"),
        "moral": gettext_lazy("Moral"),
        "name": gettext_lazy("Name"),
        "necessary_signatory": gettext_lazy("Necessary signatory"),
        "no_deal_text": gettext_lazy("No deal text"),
        "no_deal_value": gettext_lazy("No deal value"),
        "no_deal_values": gettext_lazy("No deal values"),
        "order": gettext_lazy("Order"),
        "owner": gettext_lazy("Owner"),
        "params": gettext_lazy("Params"),
        "peace_value": gettext_lazy("Peace value"),
        "relapse_share": gettext_lazy("Relapse share"),
        "scenario": gettext_lazy("Scenario"),
        "shared": gettext_lazy("Shared"),
        "slug": gettext_lazy("Slug"),
        "summary": gettext_lazy("Summary"),
        "title": gettext_lazy("Title"),
        "value_effects": gettext_lazy("Value effects"),
        "voice": gettext_lazy("Voice"),
        "issue": gettext_lazy("Issue"),
        "sides": gettext_lazy("Sides"),
    }

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        label = self.LABELS.get(db_field.name)
        if field is not None and label is not None and field.label == capfirst(db_field.verbose_name):
            field.label = label
        return field


class OwnedScenarioInline:
    """A scenario's rows are editable only where the scenario is: by its owner and administrators
    (another instructor sees a shared scenario read-only)."""

    def _editable(self, request, obj) -> bool:
        scenario = _scenario_of(obj)
        return scenario is None or access.can_edit_scenario(request.user, scenario)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(request, obj)


class RoleInline(TranslatedLabels, OwnedScenarioInline, admin.StackedInline):
    model = ScenarioRole
    formset = RoleFormSet
    extra = 0
    fields = (
        ("order", "key", "name", "colour"),
        ("no_deal_value", "necessary_signatory", "mediator"),
        "description",
        "brief",
        "voice",
    )
    classes = ("collapse",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "key" and field is not None:
            # The model's help text names a role of the default scenario; an author of another
            # conflict reads a neutral example.
            field.help_text = gettext_lazy(
                "Stable key: lower-case letters, digits and underscores, e.g. 'north'."
            )
        return field


class IssueInline(LabelledRowsInline, TranslatedLabels, OwnedScenarioInline, admin.TabularInline):
    model = ScenarioIssue
    formset = IssueFormSet
    extra = 0
    fields = ("order", "key", "name", "description", "options_link")
    readonly_fields = ("options_link",)

    @admin.display(description=gettext_lazy("Options and points"))
    def options_link(self, obj):
        if not obj.pk:
            return gettext("Save first, then edit the options")
        url = reverse("admin:game_scenarioissue_change", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a>', url, gettext("Edit %(n)s options") % {"n": obj.options.count()}
        )


class PhaseInline(LabelledRowsInline, TranslatedLabels, OwnedScenarioInline, admin.TabularInline):
    model = ScenarioPhase
    formset = PhaseFormSet
    extra = 0
    fields = ("order", "key", "name", "duration_seconds", "agreement")


class NewsInline(TranslatedLabels, OwnedScenarioInline, admin.StackedInline):
    model = ScenarioNews
    formset = NewsFormSet
    extra = 0
    fields = (("order", "key"), "headline", "body", "factor_effects", "value_effects")
    classes = ("collapse",)


class FactorInline(TranslatedLabels, OwnedScenarioInline, admin.StackedInline):
    """Factors with a typed field per parameter (game/admin_authoring.py), no JSON to write."""

    model = ScenarioFactor
    formset = FactorFormSet
    form = FactorForm
    extra = 0
    fields = (
        ("order", "key", "label"),
        ("beta", "centre", "combine"),
        ("default", "base", "lo", "hi"),
        ("time", "time_rate", "time_start"),
        ("side", "moderator"),
        "accepted_by",
        "coupling",
        "explanation_up",
        "explanation_down",
        "source",
    )
    classes = ("collapse",)


class ScenarioConfigForm(forms.ModelForm):
    """The scenario page, with the model's two sides chosen among the scenario's roles."""

    implementer = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Implementer"),
        help_text=gettext_lazy(
            "The role that must carry out the concessions: the side that gives up territory, forces or claims."
        ),
    )
    challenger = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Challenger"),
        help_text=gettext_lazy("The role able to restart the war if the terms leave it dissatisfied."),
    )

    class Meta:
        model = ScenarioConfig
        fields = (
            "slug",
            "title",
            "description",
            "moral",
            "horizon_years",
            "baseline_hazard",
            "baseline_decay",
            "context_log_hr",
            "context_label",
            "peace_value",
            "relapse_share",
            "no_deal_text",
            "no_deal_values",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        roles = list(self.instance.roles.all()) if self.instance and self.instance.pk else []
        choices = [("", gettext("(none)"))] + [(r.key, r.name) for r in roles]
        sides = dict(getattr(self.instance, "sides", None) or {})
        for side in ("implementer", "challenger"):
            self.fields[side].choices = choices
            self.fields[side].initial = sides.get(side, "")

    def save(self, commit=True):
        obj = super().save(commit=False)
        obj.sides = {
            s: self.cleaned_data[s] for s in ("implementer", "challenger") if self.cleaned_data.get(s)
        }
        if commit:
            obj.save()
        return obj


class ScenarioImportForm(forms.Form):
    file = forms.FileField(help_text=gettext_lazy("A scenario JSON file, as written by 'Export'."))


# Help texts that, on the model, quote the default scenario: an author of another conflict reads
# examples of no conflict in particular.
NEUTRAL_HELP = {
    "moral": gettext_lazy("The lesson the debrief and the outcome close on, in this scenario's own words."),
    "no_deal_text": gettext_lazy(
        "What no agreement means here, for students, as a sentence (e.g. 'No agreement: the "
        "fighting goes on.' or 'No agreement: the ceasefire line stays as it is.')."
    ),
    "no_deal_values": gettext_lazy(
        "If no agreement leaves a ceasefire that can itself break, its factor values "
        "({factor key: value}): no deal then gets its own survival curve. Leave empty when no "
        "deal means the fighting goes on."
    ),
}


@admin.register(ScenarioConfig)
class ScenarioConfigAdmin(TranslatedLabels, admin.ModelAdmin):
    form = ScenarioConfigForm

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in NEUTRAL_HELP:
            field.help_text = NEUTRAL_HELP[db_field.name]
        return field

    list_display = (
        "title_column",
        "slug_column",
        "owner_column",
        "shared_column",
        "role_count",
        "issue_count",
        "playable",
        "updated_column",
        "export_link",
    )

    # The list's columns under headings in the reader's language (a model field's heading is its
    # automatic verbose name, which stays English without a migration).
    @admin.display(description=gettext_lazy("Title"), ordering="title")
    def title_column(self, obj):
        return obj.title

    @admin.display(description=gettext_lazy("Slug"), ordering="slug")
    def slug_column(self, obj):
        return obj.slug

    @admin.display(description=gettext_lazy("Owner"), ordering="owner__username")
    def owner_column(self, obj):
        return obj.owner or "-"

    @admin.display(description=gettext_lazy("Shared"), boolean=True, ordering="shared")
    def shared_column(self, obj):
        return obj.shared

    @admin.display(description=gettext_lazy("Updated"), ordering="updated_at")
    def updated_column(self, obj):
        return obj.updated_at

    list_filter = ("shared",)
    search_fields = ("title", "slug", "description")
    readonly_fields = ("problems_list", "translations_overview")
    fieldsets = (
        (None, {"fields": ("problems_list", "slug", "title", "description", "moral", "shared")}),
        (
            gettext_lazy("Translations"),
            {
                "fields": ("translations_overview",),
                "description": gettext_lazy(
                    "The fields on this page are the scenario's English, which every language falls back "
                    "on; each language's texts are edited on a page of their own, each beside its English."
                ),
            },
        ),
        (
            gettext_lazy("Durability model"),
            {
                "fields": (
                    "horizon_years",
                    "baseline_hazard",
                    "baseline_decay",
                    "context_log_hr",
                    "context_label",
                    ("implementer", "challenger"),
                    "no_deal_text",
                    "no_deal_values",
                ),
                "description": gettext_lazy("How the survival curve is computed; see docs/durability.md."),
            },
        ),
        (
            gettext_lazy("Score"),
            {
                "fields": ("peace_value", "relapse_share"),
                "description": gettext_lazy(
                    "total = 100/(100 + peace value) x [D x (tactical + peace value) + (1 - D) x relapse "
                    "share x tactical]: a year at peace pays what was won plus the peace itself, a year "
                    "after a collapse a small share of what was won. See docs/durability.md."
                ),
            },
        ),
    )
    inlines = [RoleInline, IssueInline, PhaseInline, NewsInline, FactorInline]
    actions = ["duplicate", "check_problems", "standard_factors"]

    # -- ownership: instructors see their own and shared scenarios, and change only their own --
    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=access.scenarios_for(request.user).values("pk"))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or access.can_edit_scenario(request.user, obj)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or access.can_edit_scenario(request.user, obj)
        )

    def get_fieldsets(self, request, obj=None):
        sets = super().get_fieldsets(request, obj)
        if access.is_admin(request.user):
            first = dict(sets[0][1])
            first["fields"] = (*first["fields"], "owner")
            sets = ((sets[0][0], first), *sets[1:])
        return sets

    def save_model(self, request, obj, form, change):
        if not change and not access.is_admin(request.user):
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def _side(self, obj, side):
        key = (obj.sides or {}).get(side) if obj else None
        role = obj.roles.filter(key=key).first() if key else None
        return role.name if role else (key or gettext("(none)"))

    # Shown when the page is read-only (another instructor's view of a shared scenario), where the
    # form's side choosers are not there to show the sides.
    @admin.display(description=gettext_lazy("Implementer"))
    def implementer(self, obj):
        return self._side(obj, "implementer")

    @admin.display(description=gettext_lazy("Challenger"))
    def challenger(self, obj):
        return self._side(obj, "challenger")

    @admin.display(description=gettext_lazy("Roles"))
    def role_count(self, obj):
        return obj.roles.count()

    @admin.display(description=gettext_lazy("Issues"))
    def issue_count(self, obj):
        return obj.issues.count()

    @admin.display(description=gettext_lazy("Playable"), boolean=True)
    def playable(self, obj):
        return not obj.problems()

    @admin.display(description=gettext_lazy("Tools"))
    def export_link(self, obj):
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:game_scenario_export", args=[obj.pk]),
            gettext("Export JSON"),
            reverse("scenario_balance", args=[obj.slug]),
            gettext("Balance report (bots)"),
        )

    @admin.display(description=gettext_lazy("Languages"))
    def translations_overview(self, obj):
        if obj is None or not obj.pk:
            return gettext("Save the scenario first, then translate it.")
        rows = admin_translations.overview(obj)
        if not rows:
            return gettext("Fix the problems above first: the scenario cannot be read yet.")
        return format_html(
            '<table class="translations-overview"><thead><tr><th scope="col">{}</th>'
            '<th scope="col">{}</th><th scope="col">{}</th>'
            '<th scope="col">{}</th><th scope="col"></th></tr></thead><tbody>{}</tbody></table>',
            gettext("Language"),
            gettext("Translated"),
            gettext("Still in English"),
            gettext("To review"),
            format_html_join(
                "",
                '<tr><th scope="row">{} ({})</th><td>{}</td><td>{}</td><td>{}</td>'
                '<td><a href="{}">{}</a></td></tr>',
                (
                    (
                        r["name"],
                        r["lang"],
                        gettext("%(n)s of %(total)s") % {"n": r["translated"], "total": r["total"]},
                        r["missing"],
                        r["mismatches"],
                        reverse("admin:game_scenario_translate", args=[obj.pk, r["lang"]]),
                        gettext("Edit the %(language)s texts") % {"language": r["name"]},
                    )
                    for r in rows
                ),
            ),
        )

    @admin.display(description=gettext_lazy("Problems to fix"))
    def problems_list(self, obj):
        if obj is None or not obj.pk:
            return "—"
        problems = obj.problems()
        if not problems:
            return gettext("None: this scenario can be played.")
        return format_html(
            '<ul class="errorlist">{}</ul>', format_html_join("", "<li>{}</li>", ((p,) for p in problems))
        )

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="game_scenario_import"),
            path(
                "<int:pk>/export/", self.admin_site.admin_view(self.export_view), name="game_scenario_export"
            ),
            path("<int:pk>/grid/", self.admin_site.admin_view(self.grid_view), name="game_scenario_grid"),
            path(
                "<int:pk>/translate/<str:lang>/",
                self.admin_site.admin_view(self.translate_view),
                name="game_scenario_translate",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = ScenarioImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8")
                # The importer owns what it creates, and may replace only a scenario they may edit.
                config = scenario_io.import_text(
                    text,
                    owner=None if access.is_admin(request.user) else request.user,
                    may_replace=lambda existing: access.can_edit_scenario(request.user, existing),
                )
                for note in scenario_io.migration_notes(json.loads(text)):
                    messages.info(
                        request, gettext("Migrated from an older file format: %(note)s") % {"note": note}
                    )
            except UnicodeDecodeError:
                form.add_error("file", gettext("The file is not UTF-8 text."))
            except scenario_io.ScenarioFileError as e:
                form.add_error("file", str(e))
            else:
                messages.success(request, gettext("Imported scenario %(slug)s.") % {"slug": config.slug})
                return redirect("admin:game_scenarioconfig_change", config.pk)
        ctx = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": gettext("Import a scenario file"),
        }
        return render(request, "admin/game/scenario_import.html", ctx)

    def export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The whole scenario, confidential briefs included: for those who may view it (its
        owner, every instructor if shared, administrators). Anyone else: 403 without the view
        permission, 404 for a scenario they cannot see, as for an unknown id."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        config = self.get_queryset(request).filter(pk=pk).first()
        if config is None:
            raise Http404(gettext("No scenario of yours has that id."))
        resp = HttpResponse(scenario_io.export_text(config), content_type="application/json; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="{config.slug}.json"'
        return resp

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id and request.method == "GET":
            obj = self.get_object(request, object_id)
            if obj is not None:
                for p in obj.problems():
                    messages.warning(request, p)
                if not access.can_edit_scenario(request.user, obj):
                    messages.info(
                        request,
                        gettext(
                            "A shared scenario: you can read it and open sessions on it. To change it, "
                            "copy it (tick it in the list, then 'Duplicate') and edit your copy."
                        ),
                    )
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.action(
        description=gettext_lazy("Duplicate the selected scenarios (to vary a copy)"), permissions=["add"]
    )
    def duplicate(self, request, queryset):
        owner = request.user
        for config in queryset:
            data = config.to_dict()
            n = 2
            while ScenarioConfig.objects.filter(slug=f"{config.slug}-copy{n if n > 2 else ''}").exists():
                n += 1
            data["slug"] = f"{config.slug}-copy{n if n > 2 else ''}"
            data["title"] = gettext("%(title)s (copy)") % {"title": config.title}
            with transaction.atomic():
                try:
                    copy = scenario_io.import_dict(data, owner=owner)
                except scenario_io.ScenarioFileError:
                    copy = _copy_unchecked(config, data["slug"], data["title"], owner)
            self.message_user(
                request, gettext("Created %(slug)s, yours to edit.") % {"slug": copy.slug}, messages.SUCCESS
            )

    def grid_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        config = ScenarioConfig.objects.filter(pk=pk).first()
        if config is None or not self.has_change_permission(request, config):
            raise Http404(gettext("No such scenario."))
        return grid_view(self.admin_site, request, config)

    def translate_view(self, request: HttpRequest, pk: int, lang: str) -> HttpResponse:
        config = ScenarioConfig.objects.filter(pk=pk).first()
        if config is None or not self.has_change_permission(request, config):
            raise Http404("No such scenario.")
        return admin_translations.translate_view(self.admin_site, request, config, lang)

    # An item whose key changes keeps its translations; a removed item's go with it.
    _PREFIXES = {
        ScenarioRole: "roles",
        ScenarioIssue: "issues",
        ScenarioPhase: "phases",
        ScenarioNews: "news",
    }

    def save_formset(self, request, form, formset, change):
        renames = []
        prefix = self._PREFIXES.get(formset.model) or (
            "model/factors" if formset.model is ScenarioFactor else None
        )
        if prefix and change:
            for f in formset.forms:
                old = f.initial.get("key")
                if (
                    old
                    and "key" in f.changed_data
                    and f.cleaned_data.get("key")
                    and not f.cleaned_data.get("DELETE")
                ):
                    renames.append((f"{prefix}/{old}/", f"{prefix}/{f.cleaned_data['key']}/"))
        super().save_formset(request, form, formset, change)
        if renames:
            config = form.instance
            for a, b in renames:
                config.translations = admin_translations.rename(config.translations, a, b)
            config.save(update_fields=["translations"])

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        admin_translations.prune(form.instance)

    @admin.action(description=gettext_lazy("Add the standard durability factors (a template to adapt)"))
    def standard_factors(self, request, queryset):
        for config in queryset:
            if not access.can_edit_scenario(request.user, config):
                self.message_user(
                    request,
                    gettext(
                        "%(slug)s: not yours to change (a shared scenario); copy it with 'Duplicate' first."
                    )
                    % {"slug": config.slug},
                    messages.ERROR,
                )
                continue
            added = add_standard_factors(config)
            if added:
                self.message_user(
                    request,
                    gettext(
                        "%(slug)s: added %(factors)s. Set each option's loadings on "
                        "'Options, points and the model', and the sides on the scenario's page."
                    )
                    % {"slug": config.slug, "factors": ", ".join(added)},
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    gettext("%(slug)s: it already has every standard factor.") % {"slug": config.slug},
                    messages.INFO,
                )

    @admin.action(description=gettext_lazy("Check the selected scenarios for problems"))
    def check_problems(self, request, queryset):
        for config in queryset:
            problems = config.problems()
            if problems:
                self.message_user(
                    request, f"{config.slug}: " + " ".join(str(p) for p in problems), messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    gettext("%(slug)s: no problems, ready to play.") % {"slug": config.slug},
                    messages.SUCCESS,
                )


def _copy_unchecked(config: ScenarioConfig, slug: str, title: str, owner=None) -> ScenarioConfig:
    """Copy a scenario that is still being written (and so does not pass validation yet)."""
    roles, issues = list(config.roles.all()), list(config.issues.prefetch_related("options"))
    phases, news, factors = list(config.phases.all()), list(config.news.all()), list(config.factors.all())
    config.pk, config.slug, config.title = None, slug, title
    config.owner, config.shared = owner, False
    config.save()
    for group in (roles, phases, news, factors):
        for row in group:
            row.pk, row.scenario = None, config
            row.save()
    for issue in issues:
        options = list(issue.options.all())
        issue.pk, issue.scenario = None, config
        issue.save()
        for o in options:
            o.pk, o.issue = None, issue
            o.save()
    return config


# --- issue page: options with a points column per role -------------------------------------


class OptionForm(forms.ModelForm):
    """An option with a points column per role; the per-role fields are declared by
    ``option_form_for`` for the roles of the issue's scenario."""

    roles: list[ScenarioRole] = []

    class Meta:
        model = ScenarioOption
        fields = ("order", "key", "label", "summary", "loadings")
        widgets = {"summary": forms.Textarea(attrs={"rows": 2, "cols": 40})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            for r in self.roles:
                self.fields[f"points_{r.key}"].initial = self.instance.points.get(r.key)
            self.fields["commits"].initial = list(self.instance.commits)
            self.fields["excludes"].initial = list(self.instance.excludes or [])

    def clean_loadings(self):
        value = self.cleaned_data.get("loadings") or {}
        if not isinstance(value, dict) or not all(isinstance(v, int | float) for v in value.values()):
            raise ValidationError(gettext('Write loadings as {"factor_key": number, ...}.'))
        return value

    def save(self, commit=True):
        obj = super().save(commit=False)
        obj.points = {r.key: self.cleaned_data[f"points_{r.key}"] for r in self.roles}
        obj.commits = list(self.cleaned_data.get("commits") or [])
        obj.excludes = list(self.cleaned_data.get("excludes") or [])
        if commit:
            obj.save()
        return obj


def option_form_for(roles: list[ScenarioRole], others: list[tuple[str, str]] = ()) -> type[OptionForm]:
    attrs: dict = {"roles": roles}
    for r in roles:
        attrs[f"points_{r.key}"] = forms.FloatField(
            label=gettext("Points: %(role)s") % {"role": r.name},
            required=True,
            error_messages={"required": gettext("Give this option points for %(role)s.") % {"role": r.name}},
        )
    attrs["commits"] = forms.MultipleChoiceField(
        choices=[(r.key, r.name) for r in roles],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Roles that must sign any agreement containing this option."),
    )
    attrs["excludes"] = forms.MultipleChoiceField(
        choices=list(others),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Options of the other issues this one contradicts: a package holding both is refused "
            "(e.g. a ban on foreign troops and a foreign reassurance force)."
        ),
    )
    return type("ScenarioOptionForm", (OptionForm,), attrs)


def other_options(issue: ScenarioIssue | None) -> list[tuple[str, str]]:
    """The options of the scenario's other issues, as (issue/option, label) choices."""
    if issue is None:
        return []
    out = []
    for other in issue.scenario.issues.exclude(pk=issue.pk).prefetch_related("options"):
        for o in other.options.all():
            out.append((f"{other.key}/{o.key}", f"{other.name}: {o.label}"))
    return out


class OptionInline(TranslatedLabels, OwnedScenarioInline, admin.StackedInline):
    model = ScenarioOption
    formset = OptionFormSet
    form = OptionForm
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        roles = list(obj.scenario.roles.all()) if obj is not None else []
        kwargs["form"] = option_form_for(roles, other_options(obj))
        kwargs["fields"] = [
            "order",
            "key",
            "label",
            "summary",
            "loadings",
            *[f"points_{r.key}" for r in roles],
            "commits",
            "excludes",
        ]
        return super().get_formset(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        roles = list(obj.scenario.roles.all()) if obj is not None else []
        return [
            "order",
            "key",
            "label",
            "summary",
            *[f"points_{r.key}" for r in roles],
            "commits",
            "excludes",
            "loadings",
        ]


@admin.register(ScenarioIssue)
class ScenarioIssueAdmin(TranslatedLabels, admin.ModelAdmin):
    list_display = ("name", "key", "scenario", "order", "option_count")
    list_filter = (("scenario", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "key", "description")
    ordering = ("scenario", "order")
    fields = ("scenario", "order", "key", "name", "description")
    inlines = [OptionInline]

    @admin.display(description=gettext_lazy("Options"))
    def option_count(self, obj):
        return obj.options.count()

    def get_readonly_fields(self, request, obj=None):
        return ("scenario",) if obj is not None else ()

    def get_queryset(self, request):
        visible = access.scenarios_for(request.user).values("pk")
        return super().get_queryset(request).filter(scenario__in=visible)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or access.can_edit_scenario(request.user, obj.scenario)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or access.can_edit_scenario(request.user, obj.scenario)
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "scenario" and not access.is_admin(request.user):
            kwargs["queryset"] = ScenarioConfig.objects.filter(owner=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # An issue whose key changes keeps its (and its options') translations.
        old = form.initial.get("key")
        super().save_model(request, obj, form, change)
        if change and old and "key" in form.changed_data:
            config = obj.scenario
            config.translations = admin_translations.rename(
                config.translations, f"issues/{old}/", f"issues/{obj.key}/"
            )
            config.save(update_fields=["translations"])

    def save_formset(self, request, form, formset, change):
        renames = []
        if change:
            for f in formset.forms:
                old = f.initial.get("key")
                if (
                    old
                    and "key" in f.changed_data
                    and f.cleaned_data.get("key")
                    and not f.cleaned_data.get("DELETE")
                ):
                    base = f"issues/{form.instance.key}/options/"
                    renames.append((f"{base}{old}/", f"{base}{f.cleaned_data['key']}/"))
        super().save_formset(request, form, formset, change)
        config = form.instance.scenario
        for a, b in renames:
            config.translations = admin_translations.rename(config.translations, a, b)
        if renames:
            config.save(update_fields=["translations"])
        admin_translations.prune(config)


# --- sessions (read-mostly; the live dashboard is at /host/) ---------------------------------


class PlayerInline(LabelledRowsInline, admin.TabularInline):
    model = Player
    extra = 0
    fields = ("name", "table", "role", "is_bot", "stand_in", "removed")
    readonly_fields = ("name",)


@admin.register(GameSession)
class GameSessionAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "title",
        "scenario",
        "status",
        "created_by",
        "table_count",
        "created_at",
        "dashboard",
    )
    list_filter = ("status", "scenario")
    search_fields = ("code", "title")
    filter_horizontal = ("co_instructors",)
    readonly_fields = (
        "code",
        "scenario",
        "scenario_data",
        "seed",
        "created_at",
        "started_at",
        "ended_at",
        "anonymised_at",
    )
    inlines = [PlayerInline]

    @admin.display(description=gettext_lazy("Dashboard"))
    def dashboard(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("host_session", args=[obj.code]), gettext("Open"))


@admin.register(GameTable)
class GameTableAdmin(admin.ModelAdmin):
    list_display = ("__str__", "seq", "last_activity")
    list_filter = ("session__status",)
    readonly_fields = ("state", "outcome")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("table", "seq", "kind", "audience", "at")
    list_filter = ("kind",)
    search_fields = ("table__session__code",)
    readonly_fields = ("table", "seq", "kind", "data", "audience", "at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
