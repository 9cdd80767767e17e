"""Checks a server makes before it answers anyone: rather refuse to start, naming the fix, than
answer every page with 500."""

from __future__ import annotations

import json
from pathlib import Path

COLLECT_FIX = (
    "run `make run` (it collects them), or `.venv/bin/python manage.py collectstatic --noinput` "
    "with the same environment as the server"
)


def static_problem() -> str | None:
    """Why the collected static files cannot serve the pages (None if they can, or if the
    storage needs no collection, as in development).

    With the manifest storage a template's ``{% static %}`` fails for any file missing from the
    manifest, and a file changed since the collection would be served in its old version."""
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return None
    manifest = Path(settings.STATIC_ROOT) / staticfiles_storage.manifest_name
    try:
        paths = json.loads(manifest.read_text(encoding="utf-8"))["paths"]
        collected_at = manifest.stat().st_mtime
    except FileNotFoundError:
        return f"The static files have not been collected (there is no {manifest}): {COLLECT_FIX}."
    except (OSError, ValueError, KeyError, TypeError) as e:
        return f"The static files' manifest {manifest} cannot be read ({e}): {COLLECT_FIX}."
    missing: list[str] = []
    changed: list[str] = []
    for finder in finders.get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            if path not in paths:
                missing.append(path)
            elif Path(storage.path(path)).stat().st_mtime > collected_at:
                changed.append(path)
    if missing:
        return (
            f"{len(missing)} static file(s) are missing from the collected files "
            f"(e.g. {missing[0]}): {COLLECT_FIX}."
        )
    if changed:
        return (
            f"{len(changed)} static file(s) changed since they were collected "
            f"(e.g. {changed[0]}): {COLLECT_FIX}."
        )
    return None


def warm_up() -> None:
    """Load, before the first request, what a class's first joins would otherwise load while forty
    students wait on them: the confusable-character table names are checked against (about 20 ms
    of parsing), the join and player pages' compiled templates, and every language's catalogue."""
    from django.conf import settings
    from django.template.loader import get_template
    from django.utils import translation

    from game import names

    names.name_key("warm-up")
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for template in ("game/join.html", "game/play.html"):
                get_template(template)
