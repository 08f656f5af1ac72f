"""Per-need distances locate people: they stay in internal outputs, which public outputs never name."""

import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from scgeo.network import WalkNetwork
from scgeo.settings import get_settings

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


def locate(net, resources, table) -> np.ndarray:
    """Trilaterate each need from its walking minutes to its candidate resources; metres off."""
    speed = get_settings().walk_speed_m_per_min
    snaps = net.snap(resources.set_index("resource_id").geometry)
    index = {rid: k for k, rid in enumerate(resources["resource_id"])}
    wanted = sorted({r for ids in table["resource_ids"] for r in ids.split(";")})
    from_resource = {r: net.node_distance(snaps.subset(np.arange(len(index)) == index[r])) for r in wanted}
    nodes = net.nodes.geometry.to_numpy()
    guesses = []
    for ids, minutes in zip(table["resource_ids"], table["minutes"], strict=True):
        metres = np.array([float(m) for m in minutes.split(";")]) * speed
        stack = np.stack([from_resource[r] for r in ids.split(";")])
        error = ((stack - metres[:, None]) ** 2).sum(axis=0)
        guesses.append(nodes[int(np.argmin(error))])
    return np.asarray(guesses)


def test_internal_matches_would_locate_people_so_they_stay_internal(demo_outputs, sample_workspace):
    """Positive control: the internal file's minutes place needs on the street network."""
    path = demo_outputs["matches"]
    assert path.parent.name == "internal" and "内部資料" in path.name
    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str).dropna(subset=["minutes"])
    assert (table["注意"] == "内部資料 — 個人情報を含む").all()
    table = table[table["minutes"].str.count(";") >= 2].head(40)
    net = WalkNetwork.from_workspace(sample_workspace)
    resources = sample_workspace.read("resources")
    guesses = locate(net, resources, table)
    needs = sample_workspace.read("needs").set_index("need_id").loc[table["need_id"]].to_crs(net.crs)
    off = np.hypot(needs.geometry.x.to_numpy() - np.array([g.x for g in guesses]),
                   needs.geometry.y.to_numpy() - np.array([g.y for g in guesses]))
    assert (off < 100).mean() > 0.5  # the attack works: that is why the file is internal


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
