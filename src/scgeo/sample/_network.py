"""The sample town's network of organisations (ネットワーク構築): who runs what, who works with whom.

Organisations of the kinds a coordinator meets (自治会, 老人クラブ, 民生委員・児童委員協議会, 地区社協,
包括, NPO, ボランティア団体, 商店・銀行, 学校, 市の課 …), the 協議体 of both tiers with their meetings,
ties with dates (some ended, so that change between two dates shows), a few organisations with no
tie at all (isolates), and 担い手 as counts. Operators are written back onto resources as
``operator_id``. Everything comes from the generator it is given, so the same seed gives the same
bytes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scgeo.sample._areas import Town

__all__ = ["NETWORK_FILES", "make_network_tables"]

NETWORK_FILES = {
    "organisations": "organisations/organisations.csv",
    "ties": "organisations/ties.csv",
    "councils": "organisations/councils.csv",
    "council_meetings": "organisations/council_meetings.csv",
    "helpers": "organisations/helpers.csv",
}
_FIRST_DAY = dt.date(2022, 4, 1)
_LAST_DAY = dt.date(2026, 9, 30)
_CITY_WIDE = (
    ("社会福祉法人さくら市社会福祉協議会", "shakyo"),
    ("さくら市 高齢福祉課", "government"),
    ("さくら市シルバー人材センター", "employment"),
    ("ハローワークさくら", "employment"),
    ("さくら市子育て支援センター", "childcare"),
    ("さくら信用金庫 本店", "bank"),
    ("さくら中央銀行 駅前支店", "bank"),
    ("さくら郵便局", "business"),
    ("スーパーさくら 本町店", "business"),
    ("移動スーパー とくしま号さくら", "business"),
    ("さくら新聞販売所", "business"),
    ("NPO法人 ささえあいさくら", "npo"),
    ("NPO法人 おでかけ応援団", "npo"),
    ("生活協同組合コープさくら", "cooperative"),
    ("さくら市医師会", "medical"),
    ("さくら中央病院", "medical"),
)
_VOLUNTEER_GROUPS = (
    "ふれあいボランティアの会",
    "お助け隊",
    "傾聴ボランティアこころ",
    "体操サポーター会",
    "ごみ出しお手伝い隊",
    "送迎ボランティアみちづれ",
)
_HELPER_ACTIVITIES = ("garbage", "watching", "mobility", "housework", "shopping")
_OPERATED_BY = {
    "salon": ("jichikai", "roujin_club", "volunteer"),
    "kayoi_no_ba": ("jichikai", "roujin_club"),
    "shared_meal": ("volunteer", "npo"),
    "meal_delivery": ("npo", "shakyo"),
    "watching": ("minsei", "jichikai"),
    "shopping": ("business",),
    "mobility": ("npo", "volunteer"),
    "housework": ("volunteer", "npo"),
    "garbage": ("volunteer", "jichikai"),
}


def _day(rng: np.random.Generator, start: dt.date = _FIRST_DAY, end: dt.date = _LAST_DAY) -> str:
    span = (end - start).days
    return (start + dt.timedelta(days=int(rng.integers(0, span + 1)))).isoformat()


def make_network_tables(
    town: Town, resources: pd.DataFrame, lonlat, rng: np.random.Generator
) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """Organisations, ties, councils, meetings and 担い手 counts; and each resource's operator.

    Parameters
    ----------
    town
        The sample town (blocks and districts, metres).
    resources
        The sample resources (``resource_id``, ``category``, ``provider_type``, ``x``, ``y``).
    lonlat
        Function turning an (n, 2) array of metric coordinates into (n, 2) lon/lat.
    rng
        The generator of this part of the sample.

    Returns
    -------
    tuple
        ``({layer name: frame}, operator_id per resource)``.
    """
    orgs: list[dict] = []

    def add(name, kind, area_id=None, xy=None, contact=None, notes=None):
        org_id = f"G{len(orgs) + 1:03d}"
        lon, lat = lonlat(np.asarray([xy]))[0] if xy is not None else (None, None)
        orgs.append(
            {
                "org_id": org_id,
                "name": name,
                "kind": kind,
                "area_id": area_id,
                "address": None,
                "contact": contact,
                "status": "active",
                "lat": None if lat is None else f"{lat:.7f}",
                "lon": None if lon is None else f"{lon:.7f}",
                "notes": notes,
                "source": "さくら市 関係団体名簿(2026年度)",
            }
        )
        return org_id

    blocks = town.blocks.sort_values("area_id").reset_index(drop=True)
    centres = blocks.geometry.representative_point()
    districts = town.districts.sort_values("area_id")
    living = districts[districts["level"] == "living_area"]
    jhs = districts[districts["level"] == "jhs_district"]
    es = districts[districts["level"] == "es_district"]

    def centre_of(area_id, column):
        members = blocks.index[blocks[column] == area_id]
        pick = members[int(rng.integers(0, len(members)))]
        p = centres.iloc[pick]
        return (p.x, p.y), blocks.loc[pick, "area_id"]

    for row in _CITY_WIDE:
        p = centres.iloc[int(rng.integers(0, len(blocks)))]
        add(row[0], row[1], xy=(p.x, p.y), contact=f"0000-{rng.integers(10, 99)}-{rng.integers(1000, 9999)}")
    by_area: dict[str, list[str]] = {}
    for la in living.itertuples():
        xy, _ = centre_of(la.area_id, "la_id")
        by_area.setdefault(la.area_id, []).append(add(f"{la.name}地域包括支援センター", "houkatsu", la.area_id, xy))
    for j in jhs.itertuples():
        xy, _ = centre_of(j.area_id, "jhs_id")
        short = j.name.removesuffix("中学校区")
        by_area.setdefault(j.parent_id, []).extend(
            [
                add(f"{short}地区民生委員児童委員協議会", "minsei", j.area_id),
                add(f"{short}地区社会福祉協議会", "shakyo", j.area_id),
                add(f"{short}中学校", "school", j.area_id, xy),
            ]
        )
    la_of_jhs = dict(zip(jhs["area_id"], jhs["parent_id"], strict=True))
    la_of_es = {e.area_id: la_of_jhs[e.parent_id] for e in es.itertuples()}
    for e in es.itertuples():
        short = e.name.removesuffix("小学校区")
        by_area[la_of_es[e.area_id]].append(add(f"{short}老人クラブ", "roujin_club", e.area_id))
    for b in blocks[blocks["name"].str.endswith(("一丁目", "町", "台"))].itertuples():
        p = centres.iloc[b.Index]
        by_area[la_of_es[b.es_id]].append(add(f"{b.name}自治会", "jichikai", b.area_id, (p.x, p.y)))
    for i, name in enumerate(_VOLUNTEER_GROUPS):
        la = living["area_id"].iloc[i % len(living)]
        by_area[la].append(add(name, "volunteer", la))
    organisations = pd.DataFrame(orgs)
    kind_of = dict(zip(organisations["org_id"], organisations["kind"], strict=True))
    la_of_org = {o: la for la, members in by_area.items() for o in members}

    # operators: the first kind of the category's list present in the resource's 圏域
    block_la = dict(zip(blocks["area_id"], blocks["la_id"], strict=True))
    block_of = _block_of(town, resources)
    operator = pd.Series(None, index=resources.index, dtype=object)
    for pos, res in enumerate(resources.itertuples()):
        kinds = _OPERATED_BY.get(res.category)
        if not kinds or rng.random() < 0.35:
            continue
        la = block_la.get(block_of[pos])
        pool = [o for o in organisations["org_id"] if kind_of[o] in kinds and (la_of_org.get(o) in (la, None))]
        if pool:
            operator.iloc[pos] = pool[int(rng.integers(0, len(pool)))]

    councils = pd.DataFrame(
        [
            {
                "council_id": "K1",
                "name": "さくら市生活支援体制整備推進協議体(第1層)",
                "tier": "1",
                "area_id": "99201",
                "notes": "年4回開催",
            }
        ]
        + [
            {
                "council_id": f"K2{i + 1}",
                "name": f"{la.name} 支え合い推進会議(第2層)",
                "tier": "2",
                "area_id": la.area_id,
                "notes": "隔月開催",
            }
            for i, la in enumerate(living.itertuples())
        ]
    )
    ties: list[dict] = []

    def tie(kind, s_type, s_id, t_type, t_id, strength=None, started=None, ended=None, notes=None):
        ties.append(
            {
                "tie_id": f"T{len(ties) + 1:04d}",
                "kind": kind,
                "source_type": s_type,
                "source_id": s_id,
                "target_type": t_type,
                "target_id": t_id,
                "strength": strength,
                "started": started or _day(rng),
                "ended": ended,
                "status": "accepted",
                "origin": "さくら市 関係団体名簿(2026年度)",
                "notes": notes,
            }
        )

    for pos in np.flatnonzero(operator.notna().to_numpy()):
        tie(
            "operates",
            "organisation",
            operator.iloc[pos],
            "resource",
            resources["resource_id"].iloc[pos],
            "strong",
            _day(rng, _FIRST_DAY, dt.date(2025, 3, 31)),
        )
    city = organisations["org_id"].iloc[: len(_CITY_WIDE)].tolist()
    members_1 = [city[0], city[1], city[2], city[11], city[12], city[13]] + [m[0] for m in by_area.values()]
    for org in members_1:
        tie("member", "organisation", org, "council", "K1", "medium", "2022-06-01")
    meetings: list[dict] = []
    isolates = {city[6], city[10]}  # a bank and the newspaper shop: no tie yet
    for i, members in enumerate(by_area.values()):
        council = f"K2{i + 1}"
        local = [m for m in members if kind_of[m] != "school"]
        chosen = [m for m in local if rng.random() < 0.7] + [city[0]]
        for org in chosen:
            tie(
                "member", "organisation", org, "council", council, "medium", _day(rng, _FIRST_DAY, dt.date(2023, 3, 31))
            )
        houkatsu = members[0]
        tie(
            "partner", "organisation", houkatsu, "organisation", city[0], "strong", "2022-04-01", notes="定例の情報共有"
        )
        for org in members:
            if kind_of[org] == "shakyo":
                tie("partner", "organisation", houkatsu, "organisation", org, "strong", notes="地区の情報共有")
            if kind_of[org] == "school" and rng.random() < 0.6:
                tie("partner", "organisation", org, "organisation", houkatsu, "weak", notes="福祉教育・見守り")
        for org in local[1:]:
            if rng.random() < 0.6:
                strength = ("weak", "medium", "strong")[int(rng.integers(0, 3))]
                ended = _day(rng, dt.date(2025, 10, 1), _LAST_DAY) if rng.random() < 0.08 else None
                tie(
                    "partner",
                    "organisation",
                    houkatsu if rng.random() < 0.5 else local[int(rng.integers(1, len(local)))],
                    "organisation",
                    org,
                    strength,
                    ended=ended,
                )
        for org in local:
            if kind_of[org] == "minsei":
                tie("referral", "organisation", org, "organisation", houkatsu, "strong", notes="気になる高齢者の連絡")
            if kind_of[org] == "volunteer":
                tie("support", "coordinator", "sc", "organisation", org, "medium", notes="立ち上げ・運営の相談")
        guests = [c for c in city[3:10] if c not in isolates]
        for k in range(10):
            day = dt.date(2025, 4, 20) + dt.timedelta(days=61 * k + int(rng.integers(0, 7)))
            if day > _LAST_DAY:
                break
            present = [m for m in chosen if rng.random() < 0.8]
            if rng.random() < 0.5:
                present.append(guests[int(rng.integers(0, len(guests)))])
            meetings.append(
                {
                    "meeting_id": f"M{len(meetings) + 1:03d}",
                    "council_id": council,
                    "date": day.isoformat(),
                    "attendees": ";".join(sorted(set(present))),
                    "agenda": _AGENDA[k % len(_AGENDA)],
                    "notes": None,
                }
            )
    for a, b, strength in (
        (city[0], city[1], "strong"),
        (city[0], city[2], "medium"),
        (city[1], city[11], "medium"),
        (city[11], city[12], "weak"),
        (city[0], city[13], "medium"),
        (city[8], city[9], "weak"),
        (city[14], city[15], "strong"),
        (city[3], city[2], "weak"),
    ):
        tie("partner", "organisation", a, "organisation", b, strength, _day(rng, _FIRST_DAY, dt.date(2024, 3, 31)))
    tie(
        "partner",
        "organisation",
        city[5],
        "organisation",
        city[0],
        "weak",
        "2023-05-01",
        "2026-03-31",
        notes="見守り協定(2026年3月で終了)",
    )

    helpers = []
    for org in organisations["org_id"]:
        if kind_of[org] not in ("volunteer", "roujin_club", "jichikai") or rng.random() < 0.4:
            continue
        activity = _HELPER_ACTIVITIES[int(rng.integers(0, len(_HELPER_ACTIVITIES)))]
        trained = int(rng.integers(2, 15))
        helpers.append(
            {
                "helper_id": f"S{len(helpers) + 1:03d}",
                "org_id": org,
                "area_id": la_of_org.get(org),
                "activity": activity,
                "trained": trained,
                "active": int(rng.integers(1, trained + 1)),
                "as_of": "2026-09-30",
                "notes": None,
            }
        )
    tables = {
        "organisations": organisations,
        "ties": pd.DataFrame(ties),
        "councils": councils,
        "council_meetings": pd.DataFrame(meetings),
        "helpers": pd.DataFrame(helpers),
    }
    return tables, operator


_AGENDA = (
    "地域の困りごとの共有",
    "サロンの担い手不足",
    "移動支援の検討",
    "ごみ出し支援の仕組みづくり",
    "見守り活動の報告",
    "地域資源マップの更新",
)


def _block_of(town: Town, resources: pd.DataFrame) -> list[str | None]:
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(resources["x"], resources["y"]), crs=town.blocks.crs)
    joined = gpd.sjoin(pts, town.blocks[["area_id", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    return [None if pd.isna(v) else v for v in joined["area_id"]]
