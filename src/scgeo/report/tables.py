"""Tables meant for people: whole numbers of people, and Japanese column headers on request.

The API and the docs keep exact values and the English column names (``pop_65plus``); files
written for people round numbers of people to whole persons (the population behind them is an
estimate spread over streets, so ``10245.6`` people is false precision) and, with
``headers="ja"``, carry Japanese headers (``65歳以上人口``).

Examples
--------
>>> import pandas as pd
>>> for_people(pd.DataFrame({"area_name": ["北中学校区"], "pop_65plus": [10245.6]}), headers="ja")
      区域名  65歳以上人口
0  北中学校区     10246
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.schema import AREA_LEVEL_LABELS

__all__ = ["HEADERS", "JA_HEADERS", "for_people", "people_columns"]

HEADERS = ("en", "ja")

# Japanese headers of every column the report writers put into files.
JA_HEADERS = {
    # coverage (gaps.csv)
    "level": "区域の種類", "level_label": "区域の種類", "area_id": "区域ID", "area_name": "区域名",
    "category": "種別コード", "category_label": "種別", "minutes": "徒歩(分)", "method": "計算方法",
    "pop_65plus": "65歳以上人口", "covered_65plus": "カバーされている65歳以上人口", "coverage_pct": "カバー率(%)",
    "covered_65plus_unconfirmed": "確認が古い資源だけでカバーされている65歳以上人口",
    "covered_65plus_effective": "重み付きでカバーされている65歳以上人口", "coverage_effective_pct": "実効カバー率(%)",
    "weights": "実効カバー率の重み",
    "pop_75plus": "75歳以上人口", "covered_75plus": "カバーされている75歳以上人口",
    "n_resources": "資源数", "n_resources_unconfirmed": "確認が古い資源数",
    "resources_per_1000_65plus": "65歳以上千人あたりの資源数", "needs_open": "未対応ニーズ",
    "needs_uncovered": "資源が届かない未対応ニーズ", "status": "判定", "注意": "注意",
    "basis": "人口の数え方", "method_note": "距離の測り方",
    # matches.csv
    "need_id": "ニーズID", "resource_ids": "候補の資源ID", "assigned_resource_id": "割り当てた資源ID",
    "assigned_minutes": "割り当て先までの徒歩(分)", "reason": "理由",
    # blank zones
    "pop_total": "人口", "area_km2": "面積(km²)",
    # rejected rows of an import
    "source_row": "行番号", "source_file": "ファイル",
}


_METHODS = {"network": "歩行ネットワーク", "straight_line×1.3": "直線距離×1.3(道のりの近似)"}


def people_columns(frame: pd.DataFrame) -> list[str]:
    """Columns counting people (``pop_*``, ``covered_*``): rounded to whole persons for people."""
    return [c for c in frame.columns if str(c).startswith(("pop_", "covered_"))
            and pd.api.types.is_numeric_dtype(frame[c])]


def for_people(frame: pd.DataFrame, *, headers: str = "en") -> pd.DataFrame:
    """``frame`` as written for people: whole persons, and Japanese headers with ``headers="ja"``.

    Rounding is half-to-even per cell (``numpy.round``) into a nullable integer column, so an
    unknown population stays empty instead of becoming 0. ``headers`` is ``en`` (the API's
    names, for programs) or ``ja``.
    """
    if headers not in HEADERS:
        raise InputError(f"列見出しは en か ja です(指定: {headers})。")
    out = frame.copy()
    for column in people_columns(out):
        out[column] = pd.array(np.round(out[column].to_numpy(dtype=float)), dtype="Float64").astype("Int64")
    if headers == "ja":
        if "category_label" in out:
            out = out.drop(columns="category")  # the label says it; codes are for programs
        if "level" in out:
            out["level"] = out["level"].map(lambda v: AREA_LEVEL_LABELS.get(v, v))
        if "method" in out:
            out["method"] = out["method"].map(lambda v: _METHODS.get(v, v))
        out = out.rename(columns={c: JA_HEADERS[c] for c in out.columns if c in JA_HEADERS})
    return out
