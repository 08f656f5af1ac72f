"""What an analysis stood on: the population basis and the distance method, said in Japanese.

Honest outputs name their fallbacks. Two of them reach every gap output:

- **population basis** — ``age`` (65+ counted from an age table), ``estimated`` (65+ =
  total × an aging rate, the workspace meta ``aging_rate``) or ``total`` (65+ unknown: the
  analysis runs on the total population). The workspace meta ``population_basis`` says which;
  without it the basis is inferred from the data (every ``pop_65plus`` null → ``total``);
- **distance method** — the walking network, or straight lines × the detour factor.

:func:`analysis_notes` gives the sentences every output prints (CLI, gaps.csv, app, maps, PDF).

Examples
--------
>>> population_basis_note("total")
'65歳以上人口が不明なため総人口で計算'
>>> method_note("straight_line×1.3")
'歩行ネットワークがないため直線距離×迂回係数1.3で計算'
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from scgeo.network import DEFAULT_DETOUR_FACTOR

__all__ = [
    "POPULATION_BASES",
    "analysis_notes",
    "apply_population_basis",
    "data_notes",
    "method_note",
    "population_basis",
    "population_basis_note",
]

POPULATION_BASES = ("age", "estimated", "total")


def population_basis(blocks: pd.DataFrame | None, meta: Mapping[str, object] | None = None
                     ) -> tuple[str, float | None]:
    """The population basis and the aging rate (for ``estimated``) of a workspace.

    Parameters
    ----------
    blocks
        Town blocks with population (``Workspace.town_blocks()``), used when ``meta`` does not say.
    meta
        The workspace meta: ``population_basis`` (``age`` / ``estimated`` / ``total``) and
        ``aging_rate`` (a share, 0.31, or a percentage, 31).

    Returns
    -------
    tuple of (str, float or None)
        The basis and the aging rate as a share (``None`` unless known).
    """
    meta = meta or {}
    rate = _rate(meta.get("aging_rate"))
    basis = str(meta.get("population_basis") or "").strip().lower()
    if basis in POPULATION_BASES:
        return basis, rate
    if blocks is not None and len(blocks) and "pop_65plus" in blocks and blocks["pop_65plus"].isna().all():
        return "total", None
    return "age", rate


def _rate(value: object) -> float | None:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return None
    if rate != rate or rate <= 0:
        return None
    return rate / 100 if rate > 1 else rate


def apply_population_basis(blocks: pd.DataFrame, basis: str) -> pd.DataFrame:
    """Town blocks ready for the analysis: with ``total``, ``pop_65plus`` is the total population.

    ``pop_75plus`` stays as it is (null when unknown); analyses report it as unknown.
    """
    if basis != "total":
        return blocks
    return blocks.assign(pop_65plus=blocks["pop_total"])


def population_basis_note(basis: str, aging_rate: float | None = None) -> str:
    """The sentence that says how 65+ was counted (``""`` when it came from an age table)."""
    if basis == "total":
        return "65歳以上人口が不明なため総人口で計算"
    if basis == "estimated":
        rate = f"{aging_rate:.1%}" if aging_rate else "高齢化率"
        return f"65歳以上人口は総人口×高齢化率{'' if not aging_rate else ' ' + rate}(推計)"
    return ""


def method_note(method: str | None) -> str:
    """The sentence that says how distances were measured."""
    if method == "network":
        return "歩行ネットワークで計算"
    return f"歩行ネットワークがないため直線距離×迂回係数{DEFAULT_DETOUR_FACTOR:g}で計算"


def analysis_notes(*, basis: str, aging_rate: float | None = None, has_network: bool) -> list[str]:
    """The fallback sentences for an output: only those that apply, population first.

    Examples
    --------
    >>> analysis_notes(basis="age", has_network=True)
    []
    >>> analysis_notes(basis="estimated", aging_rate=0.32, has_network=False)
    ['65歳以上人口は総人口×高齢化率 32.0%(推計)', '歩行ネットワークがないため直線距離×迂回係数1.3で計算']
    """
    notes = [population_basis_note(basis, aging_rate)]
    if not has_network:
        notes.append(method_note(None))
    return [n for n in notes if n]


def data_notes(blocks: pd.DataFrame | None, meta: Mapping[str, object] | None = None, *,
               has_network: bool) -> list[str]:
    """:func:`analysis_notes` for a workspace's data: town blocks, meta and whether it has a network.

    For maps and print pages that do not run an analysis themselves; without population
    (``blocks`` ``None`` or empty) nothing is said about 65+.
    """
    if blocks is None or not len(blocks) or "pop_total" not in blocks or blocks["pop_total"].isna().all():
        return analysis_notes(basis="age", has_network=has_network)
    basis, rate = population_basis(blocks, meta)
    return analysis_notes(basis=basis, aging_rate=rate, has_network=has_network)
