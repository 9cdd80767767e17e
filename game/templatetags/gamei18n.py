"""Template helpers for the interface's languages (docs/translations.md)."""

from __future__ import annotations

from django import template
from django.utils import formats
from django.utils.translation import gettext

from game import l10n

register = template.Library()


@register.simple_tag
def js_catalogue_url() -> str:
    """The address of the JavaScript catalogue of the page's language."""
    return l10n.catalogue_url()


@register.filter
def pct(value, digits: int = 0) -> str:
    """A percentage as the language writes it: 45%, 45 % (German, French, Russian), 12,5 %.
    ``value`` is already in per cent (45, not 0.45); None is a dash."""
    if value is None or value == "":
        return "\u2013"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    text = formats.number_format(round(number, int(digits)), int(digits))
    # Translators: a percentage; %(number)s is the number. Use your language's spacing
    # (a no-break space before % in German, French and Russian).
    return gettext("%(number)s%%") % {"number": text}
