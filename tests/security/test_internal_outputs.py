"""Internal outputs (need ids, per-need minutes, rejected needs) are apart, marked, and trimmed."""

import pandas as pd

from scgeo.cli import main
from scgeo.privacy import INTERNAL_MARK, internal_folder

NEEDS_CSV = (
    "ニーズID,種別,記録日,状態,町丁目ID,緯度,経度,備考,要介護度,家族構成\n"
    "Z001,サロン,2026-04-01,未対応,,35.05,141.05,買い物が不便,要支援1,独居\n"
    "Z002,宇宙旅行,2026-04-02,未対応,,35.051,141.051,息子と不仲・認知症の疑い,要介護2,息子と同居\n"
    "Z003,配食,2026-04-03,未対応,,,,ひとり暮らしで食事が偏る,要介護1,独居\n"
)


def test_rejected_needs_keep_schema_columns_and_reason_only(sample_copy, tmp_path, capsys):
    source = tmp_path / "soudan.csv"
    source.write_text(NEEDS_CSV, encoding="utf-8")
    assert main(["import", str(sample_copy.path), str(source), "--layer", "needs"]) == 0
    out = capsys.readouterr().out
    path = internal_folder(sample_copy.path) / "soudan_rejected_内部資料.csv"
    assert str(path) in out and "内部資料 — 個人情報を含む" in out
    assert not (tmp_path / "soudan_rejected.csv").exists()  # not beside the user's data
    raw = path.read_text(encoding="utf-8-sig")
    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    assert list(table.columns) == ["注意", "ニーズID", "種別", "記録日", "状態", "町丁目ID", "source_row", "reason"]
    assert (table["注意"] == INTERNAL_MARK).all()
    assert table["ニーズID"].tolist() == ["Z002", "Z003"]
    for secret in ("息子と不仲", "認知症", "要介護2", "要介護1", "同居", "35.051", "141.051"):
        assert secret not in raw
    assert table["reason"].str.len().gt(0).all()


def test_rejected_needs_in_full_only_with_internal(sample_copy, tmp_path, capsys):
    source = tmp_path / "soudan.csv"
    source.write_text(NEEDS_CSV, encoding="utf-8")
    assert main(["import", str(sample_copy.path), str(source), "--layer", "needs", "--internal"]) == 0
    capsys.readouterr()
    path = internal_folder(sample_copy.path) / "soudan_rejected_内部資料.csv"
    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    assert {"備考", "要介護度", "緯度"} <= set(table.columns) and (table["注意"] == INTERNAL_MARK).all()


def test_match_writes_to_internal_by_default_marked_in_name_and_sheet(sample_copy, tmp_path, capsys):
    assert main(["match", str(sample_copy.path)]) == 0
    default = internal_folder(sample_copy.path) / "matches_内部資料.csv"
    assert default.is_file() and str(default) in capsys.readouterr().out
    assert pd.read_csv(default, encoding="utf-8-sig")["注意"].eq(INTERNAL_MARK).all()
    xlsx = tmp_path / "m.xlsx"
    assert main(["match", str(sample_copy.path), "--out", str(xlsx)]) == 0
    capsys.readouterr()
    book = pd.read_excel(tmp_path / "m_内部資料.xlsx", sheet_name=None)
    assert list(book) == [INTERNAL_MARK]
    assert book[INTERNAL_MARK]["注意"].eq(INTERNAL_MARK).all()


def test_demo_keeps_internal_files_apart(demo_outputs):
    out_dir = demo_outputs["workspace"].parent
    internal = [p for p in out_dir.rglob("*") if p.is_file() and "internal" in p.relative_to(out_dir).parts]
    assert internal and all("内部資料" in p.name for p in internal)
    public = [p for p in out_dir.iterdir() if p.is_file()]
    assert not [p for p in public if "matches" in p.name]
