"""The sample town's year (2026年度, April to September): the annual plan, the activity log, and the
changes of resources in the year (which opened, which closed), from which the demo takes the
month-end snapshots. Coordinators are named by their post (第1層SC, 第2層SC(第1圏域) …), never by
a person's name; residents appear only as the pseudonymous ids of their needs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from scgeo.sample._areas import Town

__all__ = ["YEAR_FILES", "YEAR_MONTHS", "make_year"]

YEAR_FILES = {
    "activities": "activities/activities.csv",
    "plans": "activities/plans.csv",
    "resource_changes": "activities/resource_changes.csv",
}
#: The months of the sample year with a month-end snapshot (March: the state at the start of the year).
YEAR_MONTHS = ("2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09")
_FY = 2026
_USERS = {"LA1": "第2層SC(第1圏域)", "LA2": "第2層SC(第2圏域)", "LA3": "第2層SC(第3圏域)", None: "第1層SC"}
# (type, function, counterpart kinds, outcome templates)
_ROUTINE = (
    ("home_visit", "needs_assessment", (), ("一人暮らしの方の生活の様子を確認。買い物の困りごとを把握",
                                            "民生委員と同行訪問。見守りの必要を確認",
                                            "相談のあった世帯を訪問し、必要な支援を整理")),
    ("meeting", "networking", ("houkatsu", "shakyo", "minsei"), ("包括・地区社協と地域の課題を共有",
                                                                 "民生委員定例会で地域資源マップを紹介")),
    ("group_support", "resource_development", ("roujin_club", "jichikai", "volunteer"),
     ("サロンの運営の相談。担い手の交代について助言", "通いの場の体操メニューを紹介", "会計・保険の手続きを支援")),
    ("agency_coordination", "networking", ("houkatsu", "government", "npo", "business"),
     ("移動販売の停留所について事業者と調整", "高齢福祉課と次年度の事業を打合せ", "配食事業者と見守りの連携を確認")),
    ("survey", "needs_assessment", ("jichikai",), ("町内の集会所の利用状況を調査", "地域資源の確認(電話)")),
    ("outreach", "networking", ("jichikai", "roujin_club"),
     ("自治会の総会で支え合い活動を紹介", "広報紙に通いの場の記事")),
    ("matching", "matching", ("volunteer", "npo"), ("ごみ出し支援のボランティアにつないだ", "サロンへの参加につないだ",
                                                     "移動支援の団体を紹介")),
)


def _area_of(town: Town, resources: pd.DataFrame) -> pd.DataFrame:
    points = shapely.points(resources[["x", "y"]].to_numpy())
    blocks = town.blocks
    tree = shapely.STRtree(blocks.geometry.to_numpy())
    hit_points, hit_blocks = tree.query(points, predicate="within")
    first = pd.Series(hit_blocks, index=hit_points).groupby(level=0).first()
    rows = blocks.iloc[first.reindex(range(len(resources))).fillna(0).astype(int).to_numpy()]
    return pd.DataFrame({"jhs_id": rows["jhs_id"].to_numpy(), "la_id": rows["la_id"].to_numpy()},
                        index=resources.index)


def _pick(frame: pd.DataFrame, mask: pd.Series, n: int, rng: np.random.Generator) -> list[str]:
    ids = sorted(frame.loc[mask, "resource_id"])
    return [str(x) for x in rng.choice(ids, size=min(n, len(ids)), replace=False)] if ids else []


def _changes(town, resources, rng) -> pd.DataFrame:
    where = _area_of(town, resources)
    active = resources["status"] == "active"
    kayoi = active & (resources["category"] == "kayoi_no_ba")
    kayoi_south = _pick(resources, kayoi & (where["jhs_id"] == "J05"), 2, rng)
    salon_la3 = _pick(resources, active & (resources["category"] == "salon") & (where["la_id"] == "LA3")
                      & ~resources["resource_id"].isin(kayoi_south), 1, rng)
    closed = _pick(resources, resources["status"] == "closed", 1, rng)
    # another seed's town may lack one of them: its year then has fewer changes
    planned = [(kayoi_south[:1], "2026-06-15", ""), (salon_la3[:1], "2026-07-10", ""),
               (kayoi_south[1:2], "2026-09-08", ""), (closed[:1], "2026-08-31", "active")]
    rows = [(ids[0], day, before, "closed" if before else "active") for ids, day, before in planned if ids]
    return pd.DataFrame(rows, columns=["resource_id", "date", "status_before", "status_after"])


# 成果と課題 as a coordinator writes them at the half-year (the manual goal has them in its row).
_REVIEW = {
    "P00001": ("南台・寿町で体操の通いの場が2か所立ち上がった(6月・9月)。会場は集会所、担い手は老人クラブ",
               "南沢など山あいの地区は会場と担い手が見つからず、移動支援との組み合わせを検討"),
    "P00002": ("5月・9月に生活支援サポーター養成講座を開催。修了者が見守り・ごみ出しの担い手に",
               "3回目は2月に予定。修了者が活動につながる仕組み(登録・紹介)が課題"),
    "P00003": ("第3圏域にサロンが1か所増え、市全体のカバー率がわずかに上がった",
               "南中学校区・西中学校区は徒歩15分の外に住む高齢者が多く、新しい会場が必要"),
    "P00004": ("地区社協と自治会の協力で新しいサロンが開設", "担い手の高齢化で休止が心配な会がある"),
    "P00005": ("移動販売の停留所、配食と見守りの連携を事業者と調整",
               "商店・銀行など福祉以外の機関との調整はまだ少ない"),
    "P00006": ("隔月で開催し、サロンの担い手不足・移動支援を協議", "参加する団体が固定しがち。若い世代の参加が課題"),
    "P00007": ("ごみ出し支援・サロンへの参加などのつなぎが増えた", "つないだ後の継続の確認(3か月後)が十分でない"),
}


def _plans() -> pd.DataFrame:
    rows = [
        ("P00001", "J05", "resource_development", "南中学校区で通いの場を2か所創出", "resources_created",
         "kayoi_no_ba", "", "", "", 2, "か所", "", "", ""),
        ("P00002", "", "resource_development", "担い手養成講座を年3回開催", "activities", "", "training", "", "",
         3, "回", "", "", ""),
        ("P00003", "", "resource_development", "サロンのカバー率(徒歩15分、65歳以上)を60%→75%", "coverage_pct",
         "salon", "", 15, 60, 75, "%", "", "", ""),
        ("P00004", "LA3", "resource_development", "第3圏域のサロンを増やす(活動中の数)", "resources_total",
         "salon", "", "", "", 8, "か所", "", "", ""),
        ("P00005", "", "networking", "関係機関との調整を年30回", "activities", "", "agency_coordination", "", "",
         30, "回", "", "", ""),
        ("P00006", "LA1", "council", "第1圏域の協議体を年6回開催", "council_meetings", "", "", "", "", 6, "回",
         "", "", ""),
        ("P00007", "", "matching", "ニーズと取組のマッチングを年150件", "needs_matched", "", "", "", "", 150, "件",
         "", "", ""),
        ("P00008", "", "networking", "地域資源マップ(冊子)を1,000部配布", "manual", "", "", "", "", 1000, "部", 620,
         "自治会の回覧と包括の窓口で配布。問い合わせが増えた", "若い世代・男性への周知がまだ弱い"),
    ]
    columns = ["goal_id", "area_id", "function", "goal", "indicator", "category", "activity_type", "minutes",
               "baseline", "target", "unit", "result_manual", "achievements", "issues"]
    frame = pd.DataFrame(rows, columns=columns)
    for goal_id, (achievements, issues) in _REVIEW.items():
        frame.loc[frame["goal_id"] == goal_id, ["achievements", "issues"]] = [achievements, issues]
    frame.insert(1, "fy", _FY)
    return frame


def _activities(tables: dict[str, pd.DataFrame], needs: pd.DataFrame, changes: pd.DataFrame,
                rng: np.random.Generator) -> pd.DataFrame:
    orgs = tables["organisations"]
    jhs_la = {"J01": "LA1", "J02": "LA1", "J03": "LA2", "J04": "LA2", "J05": "LA3", "J06": "LA3"}

    def la_of(area):
        if not isinstance(area, str) or not area:
            return None
        return area if area.startswith("LA") else jhs_la.get(area[:3], None)

    org_la = orgs["area_id"].map(lambda a: la_of(a) if isinstance(a, str) and not a.startswith("99") else None)
    rows: list[dict] = []
    councils = tables["councils"].set_index("council_id")
    meetings = tables["council_meetings"]
    for m in meetings[pd.to_datetime(meetings["date"]) >= pd.Timestamp(f"{_FY}-04-01")].itertuples():
        area = councils.loc[m.council_id, "area_id"]
        la = area if str(area).startswith("LA") else None
        rows.append({"date": m.date, "hours": 2.0, "tier": "2" if la else "1", "user": _USERS[la], "area_id": area,
                     "function": "council", "type": "council", "counterparts": m.attendees, "meeting_id": m.meeting_id,
                     "participants": len(m.attendees.split(";")) + int(rng.integers(2, 6)),
                     "outcome": f"協議体: {m.agenda}"})
    for k, day in enumerate(("2026-05-20", "2026-09-16")):
        la = ("LA1", "LA3")[k]
        rows.append({"date": day, "hours": 3.0, "tier": "2", "user": _USERS[la], "area_id": la,
                     "function": "resource_development", "type": "training",
                     "counterparts": "G001;" + ("G065" if la == "LA1" else "G067"),
                     "participants": int(rng.integers(12, 25)), "outcome": "担い手養成講座(生活支援サポーター)を開催"})
    for change in changes[changes["status_before"] == ""].itertuples():
        day = pd.Timestamp(change.date)
        for weeks in (8, 4, 0):
            rows.append({"date": (day - pd.Timedelta(weeks=weeks)).date().isoformat(), "hours": 1.5, "tier": "2",
                         "user": _USERS["LA3"], "area_id": "LA3", "function": "resource_development",
                         "type": "startup_support", "counterparts": "G033", "resource_ids": change.resource_id,
                         "outcome": ("立ち上げの相談(会場・担い手)", "試行の開催を支援", "開設。第1回に参加")[
                             (8, 4, 0).index(weeks)]})
    matched = needs[(needs["status"].isin(["matched", "resolved"])) & needs["status_date"].notna()]
    matched = matched[pd.to_datetime(matched["status_date"]) >= pd.Timestamp(f"{_FY}-04-01")]
    months = pd.period_range(f"{_FY}-04", "2026-09", freq="M")
    for month in months:
        days = pd.date_range(month.start_time, month.end_time, freq="B")
        for la in ("LA1", "LA2", "LA3", None):
            for _ in range(int(rng.integers(5, 9)) if la else int(rng.integers(3, 6))):
                kind, function, kinds, outcomes = _ROUTINE[int(rng.integers(len(_ROUTINE)))]
                if la is None and kind in ("home_visit", "matching"):
                    kind, function, kinds, outcomes = _ROUTINE[3]
                pool = orgs[orgs["kind"].isin(kinds) & ((org_la == la) | org_la.isna())]["org_id"].tolist()
                n = min(len(pool), int(rng.integers(1, 4)) if kinds else 0)
                chosen = sorted(rng.choice(pool, size=n, replace=False).tolist()) if n else []
                need_ids = ""
                if kind == "matching":
                    here = matched[pd.to_datetime(matched["status_date"]).dt.to_period("M") == month]
                    need_ids = ";".join(sorted(here["need_id"].head(int(rng.integers(1, 3))))) if len(here) else ""
                rows.append({"date": days[int(rng.integers(len(days)))].date().isoformat(),
                             "hours": float(rng.choice([0.5, 1.0, 1.0, 1.5, 2.0, 3.0])), "tier": "2" if la else "1",
                             "user": _USERS[la], "area_id": la or "", "function": function, "type": kind,
                             "counterparts": ";".join(chosen), "need_ids": need_ids,
                             "outcome": str(outcomes[int(rng.integers(len(outcomes)))])})
    frame = pd.DataFrame(rows)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date.astype(str)
    frame = frame.sort_values(["date", "user", "type"], kind="stable").reset_index(drop=True)
    frame.insert(0, "activity_id", [f"A{i:05d}" for i in range(1, len(frame) + 1)])
    columns = ["activity_id", "date", "hours", "tier", "user", "area_id", "function", "type", "counterparts",
               "resource_ids", "need_ids", "scenario_ids", "meeting_id", "participants", "outcome", "source"]
    for col in columns:
        if col not in frame:
            frame[col] = ""
    frame["source"] = "さくら市 SC活動記録(2026年度)"
    frame["participants"] = frame["participants"].map(lambda v: "" if pd.isna(v) or v == "" else str(int(v)))
    return frame[columns].fillna("")


def make_year(town: Town, resources: pd.DataFrame, needs: pd.DataFrame, tables: dict[str, pd.DataFrame],
              rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The sample year's tables: ``plans``, ``activities`` and ``resource_changes`` (see module doc)."""
    changes = _changes(town, resources, rng)
    return {"plans": _plans(), "activities": _activities(tables, needs, changes, rng), "resource_changes": changes}
