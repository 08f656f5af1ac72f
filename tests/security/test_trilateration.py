"""Per-need distances locate people: they stay in internal outputs, which public outputs never name."""

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

PUBLIC_SUFFIXES = (".csv", ".json", ".geojson", ".html", ".pdf")
DISTANCE_KEYS = re.compile(r"minutes|_m$|分|距離|distance", re.I)


def public_files(out_dir):
    return sorted(p for p in out_dir.rglob("*") if p.is_file() and "internal" not in p.relative_to(out_dir).parts
                  and p.suffix.lower() in PUBLIC_SUFFIXES)


def text_of(path) -> str:
    if path.suffix.lower() == ".pdf":
        if shutil.which("pdftotext") is None:
            pytest.skip("pdftotext (poppler-utils) がありません")
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return path.read_text(encoding="utf-8-sig")


def test_no_public_output_holds_per_need_distances_or_ids(demo_outputs, sample_workspace):
    out_dir = demo_outputs["workspace"].parent
    files = public_files(out_dir)
    names = {p.name for p in files}
    assert {"resource_map.html", "gaps.csv", "needs_by_area.csv", "print_map.pdf"} <= names
    need_ids = set(sample_workspace.read("needs")["need_id"])
    pattern = re.compile("|".join(map(re.escape, sorted(need_ids, key=len, reverse=True))))
    for path in files:
        text = text_of(path)
        assert not pattern.search(text), f"{path.name} にニーズIDがあります"
        assert "internal/" not in text and "内部資料" not in text and "matches" not in text, path.name
        if path.suffix.lower() == ".csv":
            table = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
            assert not [c for c in table.columns if DISTANCE_KEYS.search(c) and "need" in c.lower()]
            assert "resource_ids" not in table.columns and "need_id" not in table.columns
        if path.suffix.lower() in (".geojson", ".json"):
            data = json.loads(text)
            features = data.get("features", []) if isinstance(data, dict) else []
            for feature in features:
                keys = set(feature.get("properties") or {})
                assert "need_id" not in keys and "resource_ids" not in keys
