"""Server-rendered SVG charts for the outcome and the debrief (filled in by the debrief work)."""

from __future__ import annotations


def scatter(results, scenario) -> str:
    return ""


def role_charts(results, scenario) -> list:
    return []


def curves(results, scenario) -> str:
    return ""


def causes(results) -> str:
    return ""


def table_cards(results, scenario) -> list:
    return results["tables"]
