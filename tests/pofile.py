"""A small reader of gettext .po files, enough for the catalogue tests (tests/test_i18n.py):
entries with their context, msgid, plural msgid, msgstr(s), flags and obsolete mark."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index -> text (0 for a singular)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())


def _unquote(text: str) -> str:
    return ast.literal_eval(text.strip()) if text.strip() else ""


def read(path: str | Path) -> list[Entry]:
    """Every entry of a .po file, the header (msgid "") first."""
    entries: list[Entry] = []
    cur: Entry | None = None
    target: tuple[str, int] | None = None
    flags: set[str] = set()
    obsolete = False

    def finish() -> None:
        nonlocal cur, target
        if cur is not None:
            entries.append(cur)
        cur, target = None, None

    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#~"):
            obsolete = True
            line = line[2:].strip()
        if not line:
            finish()
            flags, obsolete = set(), False
            continue
        if line.startswith("#,"):
            flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            if cur is None or target is None:
                raise ValueError(f"{path}: a continued string outside an entry: {raw!r}")
            name, index = target
            value = _unquote(line)
            if name == "msgstr":
                cur.msgstr[index] = cur.msgstr.get(index, "") + value
            else:
                setattr(cur, name, (getattr(cur, name) or "") + value)
            continue
        keyword, _, rest = line.partition(" ")
        if (
            keyword in ("msgctxt", "msgid")
            and cur is not None
            and (keyword == "msgctxt" or target is None or target[0] != "msgctxt")
        ):
            finish()
        if cur is None:
            cur = Entry(flags=flags, obsolete=obsolete)
            flags = set()
        if keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            cur.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        elif keyword == "msgstr":
            cur.msgstr[0] = _unquote(rest)
            target = ("msgstr", 0)
        elif keyword in ("msgid", "msgid_plural", "msgctxt"):
            setattr(cur, keyword, _unquote(rest))
            target = (keyword, 0)
        else:
            raise ValueError(f"{path}: cannot read {raw!r}")
    finish()
    return entries


def messages(path: str | Path) -> list[Entry]:
    """The catalogue's messages: neither the header nor obsolete entries."""
    return [e for e in read(path) if e.msgid and not e.obsolete]
