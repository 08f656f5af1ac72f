"""Privacy-safe aggregation of needs (ニーズ), which are 要配慮個人情報 under 個人情報保護法.

Needs leave the workspace only as counts by unit × category (町丁目, 校区, 圏域, JIS mesh or
hexagon), with counts ``1 .. suppress_below - 1`` hidden (primary suppression) and further cells
hidden so that no hidden count can be worked out from the totals (complementary suppression).
Individual needs are written only with an explicit internal mode, and then say so on their face.
See ``docs/privacy.md``.

Examples
--------
>>> import pandas as pd
>>> mask = suppress(pd.DataFrame({"salon": [3, 9], "watching": [8, 7]}, index=["A", "B"]), 5)
>>> int(mask.to_numpy().sum())
4
"""

from scgeo.privacy._aggregate import PUBLIC_MARK, SUPPRESSED_TEXT, AggregateResult, aggregate_needs
from scgeo.privacy._export import INTERNAL_MARK, PrivacyError, export_needs, write_aggregate
from scgeo.privacy._merge import merge_units
from scgeo.privacy._suppress import TOTAL, Suppression, suppress, suppression_plan, with_totals
from scgeo.privacy._units import OUTSIDE

__all__ = [
    "INTERNAL_MARK",
    "OUTSIDE",
    "PUBLIC_MARK",
    "SUPPRESSED_TEXT",
    "TOTAL",
    "AggregateResult",
    "PrivacyError",
    "Suppression",
    "aggregate_needs",
    "export_needs",
    "merge_units",
    "suppress",
    "suppression_plan",
    "with_totals",
    "write_aggregate",
]
