"""Drives bots: for each table with bots, ask the policy what to do and do it via services."""

from __future__ import annotations


def step() -> int:
    return 0
