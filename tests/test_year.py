"""The coordinator's year: the activity log, the annual plan and the monthly snapshots."""

from __future__ import annotations

import pandas as pd
import pytest

from scgeo import InputError
from scgeo.analysis.activities import activity_summary, fiscal_months, month_range
from scgeo.io.activities import read_activities, read_plans
from scgeo.report.snapshots import (
    figures,
    resources_as_of,
    snapshots,
    take_snapshot,
    verify_snapshots,
)
from scgeo.report.year import add_activity, import_activities, meetings_for_proposals, progress, quick_entry_defaults
from scgeo.workspace import STORED_LAYERS

RESIDENT = "山田花子"


def test_months_and_fiscal_year():
    assert [d.day for d in month_range("2027-02")] == [1, 28]
    assert fiscal_months(2026)[0] == "2026-04" and fiscal_months(2026)[-1] == "2027-03"
    with pytest.raises(InputError, match="年-月"):
        month_range("11月")


def test_log_importer_drops_person_columns_and_resolves_words(sample_workspace):
    orgs = sample_workspace.read("organisations")
    rows = pd.DataFrame({
        "活動日": ["令和8年11月4日", "2026/11/05", "2026-11-06"],
        "時間": ["1.5", "２", "30"],
        "種類": ["立ち上げ支援", "会議", "謎の活動"],
        "層": ["第2層", "第1層", "第2層"],
        "相手先": ["社会福祉法人さくら市社会福祉協議会;G017", "G001、G999", ""],
        "利用者氏名": [RESIDENT, RESIDENT, RESIDENT],
        "相談者の電話": ["0000-00-0000"] * 3,
        "成果": ["サロン開設の相談", "情報共有", "?"],
    })
    result = read_activities(rows, organisations=orgs)
    assert any("利用者氏名" in m for m in result.messages)
    assert "利用者氏名" not in result.accepted.columns and "相談者の電話" not in result.accepted.columns
    assert result.accepted[["function", "type", "tier", "counterparts"]].values.tolist() == [
        ["resource_development", "startup_support", "2", "G001;G017"]]
    assert result.accepted["date"].iloc[0] == pd.Timestamp("2026-11-04")
    reasons = dict(zip(result.rejected["source_row"], result.rejected["reason"], strict=True))
    assert "G999" in reasons[2] and "謎の活動" in reasons[3] and "0〜24" in reasons[3]
    assert RESIDENT not in result.rejected.to_csv()


def test_no_resident_name_reaches_any_layer(sample_copy, tmp_path):
    log = tmp_path / "log.csv"
    pd.DataFrame({"日付": ["2026-10-01"], "種類": ["個別訪問"], "氏名": [RESIDENT], "対象者名": [RESIDENT],
                  "成果": ["見守りの必要を確認"]}).to_csv(log, index=False)
    result = import_activities(sample_copy, log, user="test")
    assert len(result.accepted) == 1
    for name in STORED_LAYERS:
        assert RESIDENT not in sample_copy.read(name).astype(str).to_csv(), name
    assert RESIDENT.encode() not in sample_copy.path.read_bytes()


def test_quick_entry_takes_defaults_from_the_last_entry(sample_copy):
    add_activity(sample_copy, {"date": "2026-10-03", "type": "団体支援", "tier": "第2層", "user": "第2層SC(第2圏域)",
                               "area_id": "LA2", "hours": 2}, user="test")
    defaults = quick_entry_defaults(sample_copy, user="第2層SC(第2圏域)")
    assert defaults | {"date": "2026-10-04"} == {"tier": "2", "user": "第2層SC(第2圏域)", "area_id": "LA2",
                                                  "function": "resource_development", "type": "group_support",
                                                  "hours": 2.0, "date": "2026-10-04"}
    with pytest.raises(InputError, match="区域ID"):
        add_activity(sample_copy, {"date": "2026-10-03", "type": "会議", "area_id": "NOWHERE"})


def test_minutes_of_a_meeting_become_an_activity(sample_copy):
    meeting = sample_copy.read("council_meetings").iloc[-1]
    row = add_activity(sample_copy, {"meeting_id": meeting["meeting_id"], "outcome": "次回は移動支援を協議",
                                     "hours": 2}, user="test")
    assert row["date"] == meeting["date"] and row["type"] == "council" and row["function"] == "council"
    assert row["counterparts"] == meeting["attendees"] and row["area_id"] == "LA3"
    with pytest.raises(InputError, match="記録にありません"):
        add_activity(sample_copy, {"meeting_id": "M999"})


def test_activity_summary_equals_brute_force(sample_workspace):
    log = sample_workspace.read("activities")
    start, end = month_range("2026-07")
    table = activity_summary(log, start=start, end=end)
    month = [r for r in log.itertuples() if start <= r.date <= end]
    for row in table[table["count"] > 0].itertuples():
        mine = [r for r in month if r.function == row.function and r.type == row.type]
        assert row.count == len(mine)
        assert row.hours == pytest.approx(sum(r.hours for r in mine if r.hours == r.hours))
    assert table["count"].sum() == len(month)
    assert set(table["function"]) >= {"council", "other"}  # every function listed, even with no activity


def test_log_feeds_tie_proposals(sample_workspace):
    meetings = meetings_for_proposals(sample_workspace)
    log = sample_workspace.read("activities")
    multi = log[(log["counterparts"].fillna("").str.count(";") >= 1) & log["meeting_id"].isna()]
    assert set(multi["activity_id"]) <= set(meetings["meeting_id"])
    assert not set(log["meeting_id"].dropna()) & set(meetings.loc[meetings["meeting_id"].str.startswith("A"),
                                                                  "meeting_id"])


def test_sample_snapshots_are_stored_and_verified(sample_workspace):
    table = snapshots(sample_workspace)
    assert table["snapshot_id"].tolist() == [f"M2026-0{m}" for m in range(3, 10)]
    assert verify_snapshots(sample_workspace)["ok"].all()
    assert table["scgeo_version"].notna().all() and table["settings"].str.contains("walk_speed_m_per_min").all()


def test_snapshot_figures_equal_independent_recomputation(sample_workspace):
    f = figures(sample_workspace, ["M2026-09"])
    resources = sample_workspace.read("resources")
    live = resources[resources["status"] != "planned"]
    city = f[(f["table"] == "resource") & (f["level"] == "municipality")]
    assert sorted(city["key"]) == sorted(live["resource_id"])
    assert (city["metric"] == "status:active").sum() == (live["status"] == "active").sum()
    confirmations = sample_workspace.confirmations()
    september = confirmations[(confirmations["confirmed_on"] >= "2026-09-01")
                              & (confirmations["confirmed_on"] <= "2026-09-30")]
    assert f.loc[f["table"] == "confirmed", "value"].sum() == len(september)
    needs = sample_workspace.read("needs")
    opened = needs[(needs["recorded_date"] >= "2026-09-01") & (needs["recorded_date"] <= "2026-09-30")]
    city_needs = f[(f["table"] == "needs") & (f["level"] == "municipality") & (f["metric"] == "opened")]
    assert city_needs["value"].sum() == len(opened)
    log = sample_workspace.read("activities")
    sept = log[(log["date"] >= "2026-09-01") & (log["date"] <= "2026-09-30")]
    counts = f[(f["table"] == "activities") & (f["metric"] == "count")]
    assert counts["value"].sum() == len(sept)


def test_snapshots_never_change_after_writing(sample_copy):
    before = figures(sample_copy).sort_values("figure_id").reset_index(drop=True)
    sid = take_snapshot(sample_copy, as_of="2026-10-15", user="test")
    assert sid == "D2026-10-15-1"
    add_activity(sample_copy, {"date": "2026-10-16", "type": "会議"}, user="test")
    with pytest.raises(InputError, match="既にあります"):
        take_snapshot(sample_copy, month="2026-09")
    for call in (lambda: sample_copy.update_feature("snapshots", "M2026-09", {"note": "x"}),
                 lambda: sample_copy.delete_feature("snapshot_figures", "M2026-09:0")):
        with pytest.raises(InputError, match="変更できません"):
            call()
    after = figures(sample_copy)
    kept = after[after["snapshot_id"] != sid].sort_values("figure_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before)
    assert verify_snapshots(sample_copy)["ok"].all()


def test_resources_as_of_undoes_later_changes():
    resources = pd.DataFrame({"resource_id": ["R1", "R2", "R3"], "status": ["active", "closed", "active"]})
    changes = pd.DataFrame({"resource_id": ["R1", "R2"], "date": ["2026-06-15", "2026-08-31"],
                            "status_before": ["", "active"], "status_after": ["active", "closed"]})
    assert resources_as_of(resources, changes, "2026-05-31").values.tolist() == [["R2", "active"], ["R3", "active"]]
    assert resources_as_of(resources, changes, "2026-09-30").equals(resources)


def test_plan_indicators_are_computed_from_snapshots_and_log(sample_workspace):
    table = progress(sample_workspace, fy=2026, through="2026-09").set_index("goal_id")
    f = figures(sample_workspace)
    # resources created in 南中学校区: kayoi_no_ba live in September's snapshot and not in March's
    def live(sid):
        rows = f[(f["snapshot_id"] == sid) & (f["table"] == "resource") & (f["level"] == "jhs_district")
                 & (f["area_id"] == "J05") & (f["key2"] == "kayoi_no_ba")
                 & f["metric"].isin(["status:active", "status:paused"])]
        return set(rows["key"])
    assert table.loc["P00001", "result"] == len(live("M2026-09") - live("M2026-03")) == 2
    log = sample_workspace.read("activities")
    fy = log[(log["date"] >= "2026-04-01") & (log["date"] <= "2026-09-30")]
    assert table.loc["P00002", "result"] == (fy["type"] == "training").sum()
    assert table.loc["P00005", "result"] == (fy["type"] == "agency_coordination").sum()
    city_salon = f[(f["snapshot_id"] == "M2026-09") & (f["table"] == "coverage") & (f["level"] == "municipality")
                   & (f["key"] == "salon") & (f["metric"] == "coverage_pct")]
    assert table.loc["P00003", "result"] == city_salon["value"].iloc[0]
    assert table.loc["P00008", "result"] == 620 and not table.loc["P00008", "computed"]
    assert table.loc["P00001", "achieved"]


def test_plan_importer_needs_a_category_for_resource_indicators():
    rows = pd.DataFrame({"年度": [2026, 2026], "機能": ["資源開発", "協議体"], "目標": ["サロンを増やす", "年6回"],
                         "指標": ["カバー率", "協議体の開催回数"], "目標値": [75, 6]})
    result = read_plans(rows)
    assert result.accepted["indicator"].tolist() == ["council_meetings"]
    assert "種別が必要" in result.rejected["reason"].iloc[0]


def test_cli_log_plan_snapshot(sample_copy, tmp_path, capsys):
    from scgeo.cli import main

    ws = str(sample_copy.path)
    assert main(["log", "add", ws, "--type", "個別訪問", "--hours", "1", "--date", "2026-10-05",
                 "--outcome", "見守りの確認"]) == 0
    assert "A00" in capsys.readouterr().out
    log = tmp_path / "log.xlsx"
    pd.DataFrame({"日付": ["2026-10-06", "2026-10-07"], "種類": ["会議", "不明"], "氏名": [RESIDENT] * 2}).to_excel(
        log, index=False)
    assert main(["log", "import", ws, str(log)]) == 0
    out = capsys.readouterr().out
    assert "取込 1 件、除外 1 件" in out and "氏名" in out and "internal" in out
    assert main(["log", "list", ws, "--month", "2026-10"]) == 0
    assert "活動記録 2 件" in capsys.readouterr().out
    assert main(["plan", "list", ws, "--fy", "2026", "--month", "2026-09"]) == 0
    assert "P00001" in capsys.readouterr().out
    assert main(["snapshot", ws, "--month", "2026-09"]) == 2
    assert "既にあります" in capsys.readouterr().err
    assert main(["snapshot", ws, "--list", "--verify"]) == 0
    assert "検査 OK" in capsys.readouterr().out
