"""Privacy-safe aggregation of needs (ニーズ), which are 要配慮個人情報 under 個人情報保護法.

Needs leave the workspace only as counts by unit × category (町丁目, 校区, 圏域, JIS mesh or
hexagon), with counts ``1 .. suppress_below - 1`` hidden (primary suppression) and further cells
hidden so that no hidden count can be worked out from the totals (complementary suppression).
Tables leave the workspace through :func:`publish_needs`, which audits each new table against
every table already published (the ledger in the workspace) with an integer program and hides
more cells until no hidden count can be recovered. Individual needs are written only with an
explicit internal mode, and then say so on their face. See ``docs/privacy.md``.

Examples
--------
>>> import pandas as pd
>>> mask = suppress(pd.DataFrame({"salon": [3, 9], "watching": [8, 7]}, index=["A", "B"]), 5)
>>> int(mask.to_numpy().sum())
4
"""

from scgeo.privacy._aggregate import PUBLIC_MARK, SUPPRESSED_TEXT, AggregateResult, aggregate_needs
from scgeo.privacy._audit import AuditResult, PrivacyError, audit_releases
from scgeo.privacy._export import export_needs, write_aggregate
from scgeo.privacy._internal import (
    INTERNAL_DIR,
    INTERNAL_MARK,
    internal_folder,
    internal_path,
    rejected_needs,
    write_internal_table,
)
from scgeo.privacy._ledger import Release, read_ledger, record_release
from scgeo.privacy._merge import merge_units
from scgeo.privacy._publish import protect, publish_needs, release_of, suppress
from scgeo.privacy._suppress import TOTAL, Suppression, suppression_plan, with_totals
from scgeo.privacy._units import OUTSIDE, unit_system_key

__all__ = [
    "INTERNAL_DIR",
    "INTERNAL_MARK",
    "OUTSIDE",
    "PUBLIC_MARK",
    "SUPPRESSED_TEXT",
    "TOTAL",
    "AggregateResult",
    "AuditResult",
    "PrivacyError",
    "Release",
    "Suppression",
    "aggregate_needs",
    "audit_releases",
    "export_needs",
    "internal_folder",
    "internal_path",
    "merge_units",
    "protect",
    "publish_needs",
    "read_ledger",
    "record_release",
    "rejected_needs",
    "release_of",
    "suppress",
    "suppression_plan",
    "unit_system_key",
    "with_totals",
    "write_aggregate",
    "write_internal_table",
]
