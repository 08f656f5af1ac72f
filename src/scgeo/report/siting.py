"""資源開発 on a workspace: candidates, the siting run, and the proposed sites on disk."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from scgeo._errors import InputError
from scgeo.analysis.siting import CANDIDATE_COLUMNS, SitingResult, grid_candidates, plan_sites
from scgeo.network import WalkNetwork
from scgeo.schema import load_taxonomy
from scgeo.sheets import write_csv, write_xlsx

__all__ = ["resolve_category", "site_report", "siting_candidates", "write_sites"]


def resolve_category(value: str) -> str:
    """The category code for a code, label or alias (``InputError`` in Japanese when unknown)."""
    taxonomy = load_taxonomy()
    code = taxonomy.resolve_category(value)
    if code is None:
        raise InputError(f"種別「{value}」はありません。使える種別: "
                         + "、".join(f"{c.label} ({c.code})" for c in taxonomy.categories.values()))
    if taxonomy.categories[code].mode != "place":
        raise InputError(f"「{taxonomy.label(code)}」は人のところへ来る資源(配食・移動支援など)で、"
                         "歩いて行く場所の候補地選びには使えません。")
    return code


def siting_candidates(workspace, spec: str, *, network: WalkNetwork | None,
                      geocoder: object = None) -> gpd.GeoDataFrame:
    """Candidate sites from ``venues`` (the workspace's venue list), ``grid:N`` or a file.

    A file is a list of places (CSV/Excel: name, address, lat/lon, capacity in any of the
    headers :func:`scgeo.io.read_facility_list` recognises); rows without coordinates are
    geocoded from their address with ``geocoder`` (cached beside the workspace). The frame's
    ``attrs["rejected"]`` holds the rows that could not be used, with the reason.
    """
    spec = (spec or "").strip()
    if spec.startswith("grid:"):
        try:
            spacing = float(spec.split(":", 1)[1])
        except ValueError:
            raise InputError(f"--candidates grid:N の N は格子の間隔(m)です(指定: {spec})。") from None
        if network is None:
            raise InputError("格子の候補地には歩行ネットワークが必要です。")
        return grid_candidates(network, spacing_m=spacing, blocks=workspace.areas("town_block"))
    if spec == "venues":
        return _venue_candidates(workspace)
    path = Path(spec)
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx") and path.is_file():
        return _file_candidates(workspace, path, geocoder=geocoder)
    raise InputError(f"候補地「{spec}」は使えません。venues(会場の一覧)、grid:200 のような格子、"
                     "または候補地のファイル(CSV/Excel)を指定してください。")


def _file_candidates(workspace, path: Path, *, geocoder: object = None) -> gpd.GeoDataFrame:
    from scgeo.io import read_facility_list

    cache = None
    if geocoder is not None:
        from scgeo.geocode import workspace_cache

        cache = workspace_cache(workspace)
    # every row is a candidate whatever its kind: the category only fills rows no rule names
    result = read_facility_list(path, category="salon", geocoder=geocoder, id_prefix="C", geocode_cache=cache,
                                source=path.name)
    found = result.accepted
    if not len(found):
        reasons = "; ".join(result.rejected["reason"].astype(str).head(3)) if len(result.rejected) else ""
        raise InputError(f"候補地のファイル {path.name} から使える行がありません。{reasons}")
    out = gpd.GeoDataFrame({
        "candidate_id": found["resource_id"].astype(str).to_numpy(), "name": found["name"].to_numpy(),
        "kind": found["notes"].to_numpy(), "address": found["address"].to_numpy(),
        "capacity": pd.array(found["capacity"], dtype="Int64"), "source": path.name,
    }, geometry=found.geometry.to_numpy(), crs=found.crs)
    out.attrs["rejected"] = result.rejected
    return out


def _venue_candidates(workspace) -> gpd.GeoDataFrame:
    from scgeo.workspace import STORED_LAYERS

    if "venues" not in STORED_LAYERS or not workspace.count("venues"):
        raise InputError("ワークスペースに会場(公民館・集会所など)の一覧がありません。"
                         "会場を取り込むか、--candidates grid:200 を指定してください。")
    venues = workspace.read("venues")
    out = venues.rename(columns={"venue_id": "candidate_id"})
    out["source"] = out.get("source", pd.Series(None, index=out.index)).fillna("venues")
    return gpd.GeoDataFrame(out.reindex(columns=CANDIDATE_COLUMNS), geometry="geometry", crs=venues.crs)


def site_report(workspace, *, category: str, k_new: int = 3, minutes: float = 15.0, demand: str = "65plus",
                candidates: str | gpd.GeoDataFrame = "grid:200", model: str = "mclp", target_pct: float = 80.0,
                speed_m_per_min: float | None = None, include_planned: bool = False,
                use_capacity: bool = False, geocoder: object = None) -> SitingResult:
    """Run :func:`scgeo.analysis.siting.plan_sites` on a workspace (its walking network is required).

    ``candidates`` is ``grid:N``, ``venues``, a candidate file (see :func:`siting_candidates`;
    ``geocoder`` places rows without coordinates) or a frame of :data:`CANDIDATE_COLUMNS`.
    """
    if not workspace.count("network_edges"):
        raise InputError("候補地選びには歩行ネットワークが必要です。"
                         "`scgeo import … --layer network` で OpenStreetMap のファイルを取り込んでください。")
    if not workspace.count("population"):
        raise InputError("町丁目別人口がありません。先に `scgeo import … --layer town_blocks` で取り込んでください。")
    code = resolve_category(category)
    if not 1 <= k_new <= 200:
        raise InputError(f"新しい場所の数は 1〜200 で指定してください(指定: {k_new})。")
    if isinstance(candidates, str) and not (candidates.startswith("grid:") or candidates == "venues"
                                            or Path(candidates).is_file()):
        siting_candidates(workspace, candidates, network=None)  # raises the message for a bad spec
    network = WalkNetwork.from_workspace(workspace)
    cands = candidates if isinstance(candidates, gpd.GeoDataFrame) else \
        siting_candidates(workspace, candidates, network=network, geocoder=geocoder)
    result = plan_sites(network, workspace.town_blocks(), workspace.read("resources"), cands, category=code,
                        k_new=k_new, minutes=minutes, demand=demand, model=model, target_pct=target_pct,
                        speed_m_per_min=speed_m_per_min, areas=workspace.areas(), include_planned=include_planned,
                        use_capacity=use_capacity)
    result.summary["candidates"] = candidates if isinstance(candidates, str) else "frame"
    result.summary["n_candidates_rejected"] = len(cands.attrs.get("rejected", ()))
    result.candidates_rejected = cands.attrs.get("rejected")
    return result


def write_sites(sites: gpd.GeoDataFrame, path: str | Path, *, note: str | None = None) -> Path:
    """Write proposed sites as CSV (UTF-8 with BOM), Excel or GeoJSON (EPSG:4326), by suffix.

    Text cells that a spreadsheet would run as a formula are written with a leading quote.
    ``note`` (a fallback used, e.g. total population) goes into a ``note`` column.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = sites.copy()
    if note:
        table["note"] = note
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        table.to_crs(4326).to_file(path, driver="GeoJSON")
        return path
    flat = pd.DataFrame(table.drop(columns="geometry"))
    flat = flat.apply(lambda col: col.map(_safe_cell) if col.dtype == object else col)
    if suffix == ".csv":
        write_csv(flat, path)
    elif suffix == ".xlsx":
        write_xlsx(flat, path, sheet_name="候補地")
    else:
        raise InputError(f"出力の形式 {suffix} には対応していません (.csv, .xlsx, .geojson)。")
    return path


def _safe_cell(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
