"""The performance hooks that lean on other projects' private APIs still fit those APIs.

Each hook lives in one small module that names the upstream version it was written against; the
dependency is pinned to a tested range in pyproject.toml. An upgrade that renames a private
method, changes its signature, or stops calling it where the hook relies on it fails here with the
hook's module named, instead of silently losing the hook (a slower class) or breaking it (a
lock never released).
"""

from __future__ import annotations

import inspect
import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Hook:
    module: str  # where our hook lives
    package: str  # the distribution whose private API it uses
    owner: str  # "module:Class" upstream
    method: str
    params: tuple[str, ...]  # the upstream signature the hook was written against
    caller: str  # "module:Class.method" upstream that must call it ...
    call: str  # ... with this text in its source
    overrides: bool = True  # the hook overrides the method (else it calls it, as upstream does)


HOOKS = [
    Hook(
        "game/layers.py",
        "channels",
        "channels.layers:InMemoryChannelLayer",
        "_clean_expired",
        ("self",),
        "channels.layers:InMemoryChannelLayer.receive",
        "self._clean_expired()",
    ),
    Hook(
        "game/socketdb.py",
        "asgiref",
        "asgiref.sync:SyncToAsync",
        "thread_handler",
        ("self", "loop", "exc_info", "task_context", "func", "args", "kwargs"),
        "asgiref.sync:SyncToAsync.__call__",
        "self.thread_handler",
    ),
    # negotiation/httpthreads.py runs a request as ASGIHandler.handle does, on a thread of its
    # own: it calls the handler's undocumented steps in the same order.
    *(
        Hook(
            "negotiation/httpthreads.py",
            "django",
            "django.core.handlers.asgi:ASGIHandler",
            method,
            params,
            "django.core.handlers.asgi:ASGIHandler."
            + {"chunk_bytes": "send_response", "load_middleware": "__init__"}.get(method, "handle"),
            call,
            overrides=False,
        )
        for method, params, call in [
            ("read_body", ("self", "receive"), "self.read_body(receive)"),
            ("create_request", ("self", "scope", "body_file"), "self.create_request(scope, body_file)"),
            ("chunk_bytes", ("data",), "self.chunk_bytes("),  # in send_response
            ("load_middleware", ("self", "is_async"), "self.load_middleware(is_async="),
        ]
    ),
    Hook(
        "negotiation/httpthreads.py",
        "django",
        "django.db.backends.base.base:BaseDatabaseWrapper",
        "close_if_unusable_or_obsolete",
        ("self",),
        "django.db.backends.base.base:BaseDatabaseWrapper.close_if_unusable_or_obsolete",
        "self.close_at",  # the attribute the threads clear to keep their connection
        overrides=False,
    ),
    Hook(
        "negotiation/sqlite3/base.py",
        "django",
        "django.db.backends.sqlite3.base:DatabaseWrapper",
        "_start_transaction_under_autocommit",
        ("self",),
        "django.db.backends.base.base:BaseDatabaseWrapper.set_autocommit",
        "self._start_transaction_under_autocommit()",
    ),
    Hook(
        "negotiation/sqlite3/base.py",
        "django",
        "django.db.backends.sqlite3.base:DatabaseWrapper",
        "_commit",
        ("self",),
        "django.db.backends.base.base:BaseDatabaseWrapper.commit",
        "self._commit()",
    ),
    Hook(
        "negotiation/sqlite3/base.py",
        "django",
        "django.db.backends.sqlite3.base:DatabaseWrapper",
        "_rollback",
        ("self",),
        "django.db.backends.base.base:BaseDatabaseWrapper.rollback",
        "self._rollback()",
    ),
    Hook(
        "negotiation/sqlite3/base.py",
        "django",
        "django.db.backends.sqlite3.base:DatabaseWrapper",
        "_close",
        ("self",),
        "django.db.backends.base.base:BaseDatabaseWrapper.close",
        "self._close()",
    ),
]


def _resolve(path: str):
    module, _, attr = path.partition(":")
    obj = __import__(module, fromlist=["_"])
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _why(hook: Hook, what: str) -> str:
    return (
        f"{hook.package} {metadata.version(hook.package)} changed a private API that {hook.module} "
        f"hooks ({hook.owner}.{hook.method}): {what}. Re-read the upstream code, adapt the hook "
        f"and the version it names, and the range in pyproject.toml."
    )


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: f"{h.package}-{h.method}")
def test_the_private_method_a_hook_overrides_still_exists_with_its_signature(hook):
    owner = _resolve(hook.owner)
    method = getattr(owner, hook.method, None)
    assert method is not None, _why(hook, "the method is gone")
    params = tuple(inspect.signature(method).parameters)
    assert params == hook.params, _why(hook, f"its parameters are now {params}, not {hook.params}")


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: f"{h.package}-{h.method}")
def test_upstream_still_calls_the_hooked_method_where_the_hook_relies_on_it(hook):
    source = inspect.getsource(_resolve(hook.caller))
    assert hook.call in source, _why(hook, f"{hook.caller} no longer calls {hook.call!r}")


def test_an_atomic_block_on_sqlite_still_begins_through_the_hooked_start():
    from django.db.transaction import Atomic

    assert "force_begin_transaction_with_broken_autocommit=True" in inspect.getsource(Atomic.__enter__), (
        "Django's Atomic no longer begins a transaction through _start_transaction_under_autocommit: "
        "the write lock of negotiation/sqlite3/base.py would never be taken"
    )


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: f"{h.package}-{h.method}")
def test_our_hook_overrides_the_method_it_says_it_does(hook):
    ours = {
        "game/layers.py": "game.layers:InMemoryChannelLayer",
        "game/socketdb.py": "game.socketdb:SocketDB",
        "negotiation/sqlite3/base.py": "negotiation.sqlite3.base:DatabaseWrapper",
        "negotiation/httpthreads.py": "negotiation.httpthreads:PooledASGIHandler",
    }[hook.module]
    cls = _resolve(ours)
    text = (ROOT / hook.module).read_text()
    if hook.overrides:
        assert issubclass(cls, _resolve(hook.owner))
        assert hook.method in vars(cls), f"{ours} no longer overrides {hook.method}: drop it from HOOKS"
    else:
        used = hook.method in text or hook.call.removeprefix("self.") in text
        assert used, f"{hook.module} no longer uses {hook.method}: drop it from HOOKS"
    # the module names the upstream version it was written against
    assert re.search(rf"written\s+against\s+{hook.package}\s+\d+\.\d+", text, re.I), hook.module


def _range(package: str) -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next((d for d in deps if re.match(rf"{package}\b", d, re.I)), None)
    assert spec, f"{package} is not pinned in pyproject.toml"
    return spec


@pytest.mark.parametrize("package", sorted({h.package for h in HOOKS}))
def test_every_hooked_dependency_is_pinned_to_a_range_with_an_upper_bound_it_is_installed_in(package):
    spec = _range(package)
    upper = re.search(r"<\s*([\d.]+)", spec)
    lower = re.search(r">=\s*([\d.]+)", spec)
    assert upper and lower, f"{spec}: a hooked dependency needs a tested range (>=x,<y)"

    def v(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", text)[:3])

    installed = v(metadata.version(package))
    assert v(lower.group(1)) <= installed < v(upper.group(1)), f"{package} {installed} outside {spec}"


def test_the_hooks_are_the_ones_in_use():
    """The embedded configuration routes through the hooked classes, so these checks test what runs."""
    from channels.layers import get_channel_layer
    from django.db import connections

    from game.layers import InMemoryChannelLayer
    from negotiation.sqlite3.base import DatabaseWrapper

    assert isinstance(connections["default"], DatabaseWrapper), type(connections["default"])
    assert isinstance(get_channel_layer(), InMemoryChannelLayer), type(get_channel_layer())


@pytest.mark.django_db(transaction=True)
async def test_a_sockets_database_call_runs_through_the_hooked_thread_handler():
    import threading

    from game import socketdb

    def where() -> bool:
        return threading.get_ident() in socketdb._busy  # set only by SocketDB.thread_handler

    assert await socketdb.db(where)() is True
