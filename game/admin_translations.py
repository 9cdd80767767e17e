"""Translating a scenario in the admin: one page per language, every text beside its English.

A scenario's translations are one field of the scenario, ``{language: {path: text}}`` (the file
format's ``translations``; see docs/authoring.md, "Translating a scenario"). This page edits one
language's texts. Saving refuses a translation the game could not use or that loses what the
game fills in (its {placeholders}), naming the item and the language; what a reviewer should
look at but the game can live with (numbers, headings, list items that differ from the English)
is listed as a warning after saving. A text left blank is read in English.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy

from game.engine import translation
from game.engine.scenario import (
    _PLACEHOLDER,
    LANGUAGE_NAMES,
    TRANSLATED_LANGUAGES,
    VOICE_KINDS,
    Scenario,
    ScenarioError,
)
from game.models import ScenarioConfig

# Texts up to this long get a one-line box; longer ones (briefs, summaries) a text area.
SHORT_TEXT = 120

SECTIONS = (
    ("scenario", gettext_lazy("The scenario")),
    ("roles", gettext_lazy("Roles, briefs and the bots' voices")),
    ("issues", gettext_lazy("Issues and options")),
    ("phases", gettext_lazy("Phases")),
    ("news", gettext_lazy("News")),
    ("model", gettext_lazy("The durability model")),
)

_FIELD_NAMES = {
    "name": pgettext_lazy("a scenario text", "name"),
    "description": pgettext_lazy("a scenario text", "description"),
    "brief": pgettext_lazy("a scenario text", "confidential brief"),
    "label": pgettext_lazy("a scenario text", "label"),
    "summary": pgettext_lazy("a scenario text", "summary"),
    "headline": pgettext_lazy("a scenario text", "headline"),
    "body": pgettext_lazy("a scenario text", "text"),
    "explanation_up": pgettext_lazy("a scenario text", "why it raises the risk"),
    "explanation_down": pgettext_lazy("a scenario text", "why it lowers the risk"),
    "context_label": pgettext_lazy("a scenario text", "the fixed context, in words"),
    "no_deal_text": pgettext_lazy("a scenario text", "what no agreement means"),
    "title": pgettext_lazy("a scenario text", "title"),
    "moral": pgettext_lazy("a scenario text", "moral"),
}


def _field(key: str) -> str:
    return str(_FIELD_NAMES.get(key, key))


def language_name(lang: str) -> str:
    """A language's own name ('Українська'), as in the interface's language menu."""
    return LANGUAGE_NAMES[lang]


def describe(scenario: Scenario, path: str) -> str:
    """A path in words, naming the item by its English name: 'Role “Russia”: brief'."""
    parts = path.split("/")
    if len(parts) == 1:
        return gettext("Scenario: %(field)s") % {"field": _field(parts[0])}
    if parts[0] == "roles":
        r = scenario.role(parts[1])
        name = r.name if r else parts[1]
        if parts[2] == "voice":
            # Translators: %(kind)s is the bot's moment as the scenario file names it (opening,
            # propose, counter, accept, reject, reject alone): keep it as it is.
            return gettext("Role “%(name)s”: the bot's %(kind)s line %(n)s") % {
                "name": name,
                "kind": parts[3].replace("_", " "),
                "n": int(parts[4]) + 1,
            }
        return gettext("Role “%(name)s”: %(field)s") % {"name": name, "field": _field(parts[2])}
    if parts[0] == "issues":
        i = scenario.issue(parts[1])
        if len(parts) >= 5:
            o = i.option(parts[3]) if i else None
            return gettext("Option “%(label)s” (%(issue)s): %(field)s") % {
                "label": o.label if o else parts[3],
                "issue": parts[1],
                "field": _field(parts[4]),
            }
        return gettext("Issue “%(name)s”: %(field)s") % {
            "name": i.name if i else parts[1],
            "field": _field(parts[2]),
        }
    if parts[0] == "phases":
        p = scenario.phase(parts[1])
        return gettext("Phase “%(name)s”: name") % {"name": p.name if p else parts[1]}
    if parts[0] == "news":
        n = scenario.news_item(parts[1])
        return gettext("News “%(headline)s”: %(field)s") % {
            "headline": n.headline if n else parts[1],
            "field": _field(parts[2]),
        }
    if parts[0] == "model" and len(parts) == 2:
        return gettext("Model: %(field)s") % {"field": _field(parts[1])}
    if parts[0] == "model":
        f = next((f for f in scenario.model.factors if f.key == parts[2]), None)
        return gettext("Factor “%(label)s”: %(field)s") % {
            "label": scenario.say(f.label) if f else parts[2],
            "field": _field(parts[3]),
        }
    return path


def section_of(path: str) -> str:
    head = path.split("/")[0]
    return head if head in ("roles", "issues", "phases", "news", "model") else "scenario"


def check_text(scenario: Scenario, path: str, english: str, text: str) -> list[str]:
    """Why the game cannot use this translation of ``english`` (empty: it can)."""
    problems = []
    want, got = set(_PLACEHOLDER.findall(english)), set(_PLACEHOLDER.findall(text))
    if want != got:
        missing = ", ".join("{" + p + "}" for p in sorted(want - got))
        extra = ", ".join("{" + p + "}" for p in sorted(got - want))
        text_ = gettext("use the same {placeholders} as the English")
        if missing:
            text_ += gettext("; missing %(placeholders)s") % {"placeholders": missing}
        if extra:
            text_ += gettext("; unknown %(placeholders)s") % {"placeholders": extra}
        problems.append(text_ + gettext(" (the game fills them in: keep them as they are, in braces)"))
    parts = path.split("/")
    if parts[0] == "roles" and len(parts) == 5 and parts[2] == "voice":
        fields = VOICE_KINDS.get(parts[3], ())
        try:
            text.format(**{f: "x" for f in fields})
        except (KeyError, IndexError, ValueError):
            problems.append(gettext("a brace that is not a placeholder: write a literal brace as {{ or }}"))
    return problems


def form_for(scenario: Scenario, lang: str, current: dict[str, str]) -> type[forms.Form]:
    """A form with a field per text of the scenario, initially its current translation."""
    attrs: dict[str, Any] = {}
    for path, english in scenario.texts().items():
        long = len(english) > SHORT_TEXT or "\n" in english
        widget = (
            forms.Textarea(
                attrs={"rows": min(30, max(3, english.count("\n") + len(english) // 90 + 1)), "lang": lang}
            )
            if long
            else forms.TextInput(attrs={"size": 80, "lang": lang})
        )
        attrs[path] = forms.CharField(
            label=describe(scenario, path),
            required=False,
            initial=current.get(path, ""),
            widget=widget,
            strip=False,
        )

    def clean(self):
        data = self.cleaned_data
        english = scenario.texts()
        for path, text in list(data.items()):
            if text and text.strip():
                for problem in check_text(scenario, path, english[path], text):
                    self.add_error(
                        path,
                        gettext("%(language)s (%(code)s), %(where)s: %(problem)s.")
                        % {
                            "language": language_name(lang),
                            "code": lang,
                            "where": describe(scenario, path),
                            "problem": problem,
                        },
                    )
        return data

    attrs["clean"] = clean
    return type("TranslationForm", (forms.Form,), attrs)


def overview(config: ScenarioConfig) -> list[dict[str, Any]]:
    """Per language: how many texts it translates, how many are still English, how many differ
    from their English in numbers or structure."""
    try:
        scenario = config.to_engine()
    except ScenarioError:
        return []
    out = []
    for lang, rep in translation.report(scenario).items():
        out.append(
            {
                "lang": lang,
                "name": LANGUAGE_NAMES[lang],
                "translated": rep.translated,
                "total": rep.total,
                "missing": len(rep.missing),
                "mismatches": len(rep.mismatches),
            }
        )
    return out


def translate_view(admin_site: Any, request: HttpRequest, config: ScenarioConfig, lang: str) -> HttpResponse:
    if lang not in TRANSLATED_LANGUAGES:
        raise Http404(gettext("The game offers no such language."))
    try:
        scenario = config.to_engine()
    except ScenarioError as e:
        messages.error(request, gettext("Fix the scenario before translating it: %(error)s") % {"error": e})
        return redirect("admin:game_scenarioconfig_change", config.pk)
    current = dict((config.translations or {}).get(lang) or {})
    Form = form_for(scenario, lang, current)
    form = Form(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            table = {p: t for p, t in form.cleaned_data.items() if t and t.strip()}
            translations = dict(config.translations or {})
            if table:
                translations[lang] = table
            else:
                translations.pop(lang, None)
            config.translations = translations
            config.save(update_fields=["translations", "updated_at"])
            rep = translation.report(config.to_engine(), (lang,))[lang]
            values = {
                "language": language_name(lang),
                "code": lang,
                "translated": rep.translated,
                "total": rep.total,
                "missing": len(rep.missing),
            }
            if rep.missing:
                saved = ngettext(
                    "Saved the %(language)s (%(code)s) texts: %(translated)s of %(total)s translated, "
                    "%(missing)s still read in English.",
                    "Saved the %(language)s (%(code)s) texts: %(translated)s of %(total)s translated, "
                    "%(missing)s still read in English.",
                    len(rep.missing),
                )
            else:
                saved = gettext(
                    "Saved the %(language)s (%(code)s) texts: %(translated)s of %(total)s translated."
                )
            messages.success(request, saved % values)
            for m in rep.mismatches[:20]:
                path, _, what = m.partition(": ")
                messages.warning(
                    request,
                    gettext("%(language)s (%(code)s), %(where)s: %(problem)s.")
                    % {
                        "language": language_name(lang),
                        "code": lang,
                        "where": describe(scenario, path),
                        "problem": what,
                    },
                )
            return redirect(request.path)
        status = 400
    english = scenario.texts()
    sections: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in SECTIONS}
    for path in english:
        sections[section_of(path)].append({"field": form[path], "english": english[path], "path": path})
    rep = translation.report(scenario, (lang,))[lang]
    ctx = {
        **admin_site.each_context(request),
        "title": gettext("%(language)s texts: %(title)s")
        % {"language": language_name(lang), "title": config.title},
        "config": config,
        "lang": lang,
        "lang_name": language_name(lang),
        "languages": [(code, language_name(code)) for code in TRANSLATED_LANGUAGES],
        "form": form,
        "sections": [(key, label, sections[key]) for key, label in SECTIONS if sections[key]],
        "report": rep,
        "mismatches": [
            {"where": describe(scenario, m.partition(": ")[0]), "what": m.partition(": ")[2]}
            for m in rep.mismatches
        ],
        "opts": ScenarioConfig._meta,
    }
    return render(request, "admin/game/scenario_translate.html", ctx, status=status)


# --- keeping translations with their items -------------------------------------------------------


def rename(
    translations: dict[str, dict[str, str]], prefix_old: str, prefix_new: str
) -> dict[str, dict[str, str]]:
    """The translations with every path under ``prefix_old`` (e.g. ``roles/usa/``) moved to
    ``prefix_new``: an item whose key changed keeps its translations."""
    out = {}
    for lang, table in (translations or {}).items():
        out[lang] = {
            (prefix_new + p[len(prefix_old) :] if p.startswith(prefix_old) else p): t
            for p, t in table.items()
        }
    return out


def prune(config: ScenarioConfig) -> None:
    """Drop translations of texts the scenario no longer has (an item removed, a voice line
    deleted), so a removed item's leftovers never block the scenario. Saved if anything went."""
    if not config.translations:
        return
    try:
        slots = {p for p, _ in config.to_engine()._slots()}
    except ScenarioError:
        return  # the scenario cannot be read now; keep everything until it can
    kept = {
        lang: {p: t for p, t in table.items() if p in slots} for lang, table in config.translations.items()
    }
    kept = {lang: table for lang, table in kept.items() if table}
    if kept != config.translations:
        config.translations = kept
        config.save(update_fields=["translations"])
