"""The in-memory channel layer of the embedded configuration, without its per-receive sweep.

A hook on a private API: it overrides ``channels.layers.InMemoryChannelLayer._clean_expired``,
written against channels 4.3.2 (pinned to 4.3.x in pyproject.toml). tests/test_private_hooks.py
fails, naming this module, if an upgrade renames it or stops calling it from ``receive``.
"""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    """channels' layer runs ``_clean_expired()`` -- a walk over every channel and every group
    membership -- on each ``receive()``, that is once per delivered message: with 800 sockets that
    walk was half of the worker's time. Sweeping at most once a second keeps expiry (of messages
    nobody read, of memberships past ``group_expiry``) at a constant cost."""

    sweep_seconds = 1.0
    _next_sweep = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep_seconds
            super()._clean_expired()
