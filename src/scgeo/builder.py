"""Building a municipality's workspace from a recipe, in one transaction.

:func:`build` reads every input of a :class:`scgeo.io.recipe.Recipe` (boundaries of any level,
population tables, resource and venue lists, the walking network), puts them together
(municipality outline, town blocks from representative points when no boundary exists,
population joined to the town blocks) and writes the workspace once: into a scratch file that
replaces the target only when everything succeeded. A failed build leaves no file, or the
previous file byte-identical. The report says, per input, how many rows were read, accepted
and rejected, and what was assumed.

Population is stored as given: 65+ / 75+ stay empty when no age table tells them (unless the
recipe's ``aging_rate`` estimates 65+), and the workspace meta key ``population_basis`` says
which: ``age`` (from an age table), ``estimated`` (total × ``aging_rate``) or ``total``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo._errors import InputError, WorkspaceError
from scgeo._text import normalise_series
from scgeo.io.recipe import Recipe, RecipeInput
from scgeo.schema import AREA_LEVEL_LABELS, AREAS, ImportResult, validate
from scgeo.sheets import write_csv

__all__ = ["BuildReport", "InputReport", "build"]

_FINEST_FIRST = ("town_block", "community", "es_district", "jhs_district", "living_area")
_OUTSIDE_M = 2000.0


@dataclass
class InputReport:
    """What became of one input: ``rows`` = ``accepted`` + ``rejected``."""

    path: str
    role: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    warnings: list[str] = field(default_factory=list)
    level: str | None = None


@dataclass
class BuildReport:
    """The result of :func:`build` (``to_dict()`` is what ``scgeo build --json`` prints)."""

    workspace: str
    muni_code: str
    name: str
    inputs: list[InputReport] = field(default_factory=list)
    layers: dict[str, int] = field(default_factory=dict)
    population: dict = field(default_factory=dict)
    population_basis: str = "none"
    categories: dict = field(default_factory=dict)
    geocode: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    rejected_files: list[str] = field(default_factory=list)
    review_file: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class _State:
    recipe: Recipe
    report: BuildReport
    areas: dict[str, list[gpd.GeoDataFrame]] = field(default_factory=dict)
    blocks_from_points: bool = False
    outline: object = None
    population: list[tuple[InputReport, object]] = field(default_factory=list)
    population_frame: pd.DataFrame | None = None
    block_population: pd.DataFrame | None = None  # population carried by the boundary file itself
    resources: list[gpd.GeoDataFrame] = field(default_factory=list)
    venues: list[gpd.GeoDataFrame] = field(default_factory=list)
    network: tuple | None = None
    rejected: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    rejected_paths: list[Path] = field(default_factory=list)
    category_tables: list[pd.DataFrame] = field(default_factory=list)


def build(recipe: Recipe, path: str | Path, *, force: bool = False, log=None,
          rejected_dir: str | Path | None = None) -> BuildReport:
    """Build the workspace ``path`` from ``recipe`` in one transaction.

    Parameters
    ----------
    recipe
        From :func:`scgeo.io.recipe.make_recipe` or :func:`scgeo.io.recipe.read_recipe`.
    path
        The GeoPackage to write.
    force
        Replace an existing workspace (only once the new one is complete).
    log
        ``log(text)`` receives progress lines in Japanese.
    rejected_dir
        Where the rejected rows go (``<workspace>_rejected_<file>.csv``); default: ``rejected/``
        beside the workspace (never the user's data folder). Written only after the workspace was.

    Returns
    -------
    BuildReport
        Per input ``path``, ``role``, ``rows``, ``accepted``, ``rejected``, ``warnings``; layer
        counts, population totals and basis, categories mapped and rejected, review file.

    Raises
    ------
    WorkspaceError
        ``path`` exists and ``force`` is false.
    InputError
        An input cannot be read; nothing is written.
    """
    from scgeo.io.categories import read_review, review_path

    path = Path(path)
    log = log or (lambda text: None)
    started = time.perf_counter()
    if path.exists() and not force:
        raise WorkspaceError(f"{path} は既に存在します。上書きする場合は --force を付けてください。")
    from scgeo.municipalities import muni_name

    recipe.name = muni_name(recipe.muni_code, recipe.name)
    report = BuildReport(str(path), recipe.muni_code, recipe.name)
    state = _State(recipe, report)
    review_file = Path(recipe.options.get("categories") or review_path(path))
    review = read_review(review_file)
    if review:
        decided = sum(1 for v in review.values() if v.strip())
        report.notes.append(f"種別の対応表 {review_file.name} の {decided} 件"
                            f"(決めていない {len(review) - decided} 件)を使いました。")
    for item in recipe.by_role("boundary"):
        _boundary(state, item, log)
    _municipality(state)
    for item in recipe.by_role("population"):
        _population_input(state, item, log)
    _population(state)
    geocoder = _geocoder(recipe.options.get("geocode"))
    for number, item in enumerate(recipe.by_role("resources"), 1):
        _resources(state, item, number, review, geocoder, log)
    for item in recipe.by_role("venues"):
        _venues(state, item, log)
    for item in recipe.by_role("network"):
        _network(state, item, log)
    for item in recipe.inputs:
        if item.role in ("reference", "unknown"):
            report.inputs.append(InputReport(str(item.path), item.role,
                                             warnings=["取り込みませんでした(レシピの role が "
                                                       f"{item.role})"]))
    _write(state, path)
    _after(state, path, review_file, rejected_dir, log)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


# ---------------------------------------------------------------- boundaries


def _boundary(state: _State, item: RecipeInput, log) -> None:
    from scgeo import io

    opts, code = item.options, state.recipe.muni_code
    fmt = opts.get("format", "generic")
    filtered = code if "filter" in opts else None
    if fmt == "estat":
        result = io.read_estat_town_blocks(item.path, muni_code=code, encoding=opts.get("encoding"))
        if "pop_total" in result.accepted:  # JINKO: the total only
            state.block_population = result.accepted.set_index("area_id")[["pop_total"]]
    elif fmt == "ksj":
        result = io.read_ksj_school_districts(item.path, muni_code=filtered, level=opts.get("level"),
                                              encoding=opts.get("encoding"), layer=opts.get("layer"))
    elif fmt == "n03":
        result = io.read_ksj_municipality(item.path, muni_code=code, encoding=opts.get("encoding"),
                                          layer=opts.get("layer"))
    else:
        mapping = {k: opts[c] for k, c in (("name", "name_column"), ("area_id", "id_column")) if c in opts}
        mapping |= dict(opts.get("mapping", {}))
        if not opts.get("level"):
            raise InputError(f"レシピの {item.path.name} に level (区域の種類) がありません。")
        population = opts.get("population") if opts["level"] == "town_block" else None
        reader = io.read_town_blocks if isinstance(population, dict) else partial(io.read_areas, level=opts["level"])
        result = reader(item.path, crs=opts.get("crs"), mapping=mapping | (population or {}),
                        encoding=opts.get("encoding"), layer=opts.get("layer"), row_filter=opts.get("filter"),
                        expect=_expected(state))
        ids = result.accepted["area_id"].astype(str)
        if "id_column" in opts and len(ids) and ids.str.fullmatch(r"\d+").all():
            # plain numbers (1, 2, 3 …) repeat across a city's layers: say which layer they number
            prefix = {"jhs_district": "J", "es_district": "E", "living_area": "L", "community": "C",
                      "town_block": "T", "municipality": "M"}.get(opts["level"], "A")
            result.accepted["area_id"] = f"{prefix}-" + ids
        if isinstance(population, dict):
            state.block_population = result.accepted.set_index("area_id")[[*population]]
    accepted = result.accepted
    if fmt in ("estat", "ksj", "n03"):  # national files carry their CRS: check where they landed
        from scgeo.location import check_location

        check_location(accepted, _expected(state), what=item.path.name)
    level = str(accepted["level"].iloc[0]) if len(accepted) else opts.get("level")
    state.areas.setdefault(level or "", []).append(accepted)
    entry = _entry(item, result, level=level)
    state.report.inputs.append(entry)
    _reject(state, item.path, result.rejected)
    log(f"{item.path.name}: {AREA_LEVEL_LABELS.get(level, level)} {result.summary()}")


def _expected(state: _State):
    """Where the next boundary must lie: near the municipality's 役場, on the boundaries read so far."""
    from scgeo.location import Expected

    expected = Expected(state.recipe.muni_code, reference_label="この build で先に読んだ区域")
    for frames in state.areas.values():
        for frame in frames:
            expected = expected.including(frame)
    return expected


def _levels(state: _State) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for level, frames in state.areas.items():
        frames = [f for f in frames if len(f)]
        if frames:
            out[level] = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                          crs=frames[0].crs)
    return out


def _municipality(state: _State) -> None:
    levels = _levels(state)
    if "municipality" in levels:
        muni = levels["municipality"]
        state.outline = shapely.make_valid(muni.union_all())
        return
    candidates = [lv for lv in _FINEST_FIRST if lv in levels]
    if not candidates:
        return
    from scgeo.crs import to_metric

    unions = {lv: shapely.make_valid(levels[lv].union_all()) for lv in candidates}
    sizes = {lv: float(to_metric(gpd.GeoDataFrame(geometry=[g], crs=levels[lv].crs),
                                 muni_code=state.recipe.muni_code).area.iloc[0]) for lv, g in unions.items()}
    largest = max(sizes.values())
    chosen = next(lv for lv in candidates if sizes[lv] >= 0.9 * largest)
    state.outline = unions[chosen]
    _add_outline(state, f"市町村の境界 (N03) がないため、{AREA_LEVEL_LABELS[chosen]}(いちばん細かい、"
                        "市の全体を覆う区域)を合わせて市町村の範囲にしました。")


def _add_outline(state: _State, note: str) -> None:
    recipe = state.recipe
    muni = gpd.GeoDataFrame({"area_id": [recipe.muni_code], "name": [recipe.name or recipe.muni_code],
                             "level": ["municipality"]}, geometry=[state.outline], crs="EPSG:6668")
    result = validate(muni, AREAS)
    state.areas.setdefault("municipality", []).append(result.accepted)
    state.report.notes.append(note)


# ---------------------------------------------------------------- population


def _population_input(state: _State, item: RecipeInput, log) -> None:
    from scgeo.io.population import read_population

    opts = item.options
    if opts.get("format") == "mesh":
        entry = _entry(item, None)
        state.report.inputs.append(entry)
        state.population.append((entry, item))
        return
    table = read_population(item.path, options=opts, muni_code=state.recipe.muni_code)
    entry = InputReport(str(item.path), "population", rows=table.rows, warnings=list(table.messages))
    state.report.inputs.append(entry)
    if "town_block" not in state.areas and opts.get("points") and opts.get("make_blocks", True):
        _blocks_from_points(state, table, entry)
    state.population.append((entry, table))
    log(f"{item.path.name}: 人口の表 {table.rows} 行")


def _blocks_from_points(state: _State, table, entry: InputReport) -> None:
    from scgeo.io.estat import voronoi_cells

    points = table.points()
    if points is None or not len(points):
        return
    code = state.recipe.muni_code
    if state.outline is None:
        from scgeo.crs import metric_crs

        metric = metric_crs(points, muni_code=code)
        hull = shapely.concave_hull(shapely.MultiPoint(points.to_crs(metric).geometry.to_numpy()), ratio=0.3)
        outline = gpd.GeoSeries([hull.buffer(1000)], crs=metric).to_crs("EPSG:6668").iloc[0]
        state.outline = outline
        _add_outline(state, "市町村の境界も区域のファイルもないため、町丁目の代表点を囲む範囲(1 km の余白付き)を"
                            "市町村のおおよその範囲にしました。")
    cells = voronoi_cells(points, state.outline, muni_code=code)
    names = normalise_series(points["name"].astype(object))
    ids = (code + ":" + names.astype(str)) if table.key_kind == "name" else normalise_series(points["key"])
    frame = gpd.GeoDataFrame({"area_id": ids.to_numpy(), "name": names.to_numpy(),
                              "level": "town_block", "key": points["key"].to_numpy()},
                             geometry=cells.to_numpy(), crs="EPSG:6668")
    frame = frame.dissolve(by="area_id", aggfunc="first", as_index=False)
    frame["geometry"] = frame.geometry.map(lambda g: shapely.MultiPolygon(shapely.get_parts(g))
                                           if g.geom_type == "Polygon" else g)
    result = validate(frame.drop(columns="key"), AREAS)
    result.accepted["key"] = frame.set_index("area_id").loc[result.accepted["area_id"], "key"].to_numpy()
    state.areas["town_block"] = [result.accepted]
    state.blocks_from_points = True
    note = (f"町丁目の境界ファイルがないため、{Path(entry.path).name} の代表点 {len(points)} 点のボロノイ分割で"
            f"町丁目のおおよその境界 {len(result.accepted)} 区域を作りました(正確な境界ではありません)。")
    entry.warnings.append(note)
    state.report.notes.append(note)


def _population(state: _State) -> None:
    """Join the population tables to the town blocks; set the basis."""
    levels = _levels(state)
    blocks = levels.get("town_block")
    report = state.report
    if blocks is None or not len(blocks):
        for entry, _ in state.population:
            entry.rejected = entry.rows
            entry.warnings.append("町丁目の区域がないため、人口を結び付けられませんでした。")
        return
    if "key" not in blocks:
        blocks = blocks.assign(key=blocks["area_id"])
    from scgeo.io.population import name_key

    pop = pd.DataFrame({"area_id": blocks["area_id"], "pop_total": pd.NA, "pop_65plus": pd.NA,
                        "pop_75plus": pd.NA}).astype({c: "Int64" for c in ("pop_total", "pop_65plus", "pop_75plus")})
    if state.block_population is not None:
        for col in state.block_population:
            values = blocks["area_id"].map(state.block_population[col])
            pop[col] = pd.to_numeric(values).round().astype("Int64").to_numpy()
    by_name = name_key(blocks["name"]).to_numpy()
    filled: dict[str, str] = {}
    for entry, table in state.population:
        if isinstance(table, RecipeInput):
            _mesh(state, blocks, pop, entry, table)
            continue
        frame = table.frame[table.frame["key"].notna()]
        keys = blocks["key"].astype(str).to_numpy() if table.key_kind == "code" else by_name
        lookup = pd.Series(np.arange(len(blocks)), index=keys)
        lookup = lookup[~lookup.index.duplicated()]
        position = frame["key"].map(lookup)
        taken = position.duplicated() & position.notna()
        ok = position.notna() & ~taken
        rows = position[ok].astype(int).to_numpy()
        for col in ("pop_total", "pop_65plus", "pop_75plus"):
            values = frame.loc[ok, col]
            if values.notna().any():
                before = pop.iloc[rows, pop.columns.get_loc(col)]
                if filled.get(col) and before.notna().any():
                    entry.warnings.append(f"{filled[col]} の {col} を、この表の値で置き換えました。")
                pop.iloc[rows, pop.columns.get_loc(col)] = values.to_numpy()
                filled[col] = Path(entry.path).name
        entry.accepted = int(ok.sum())
        entry.rejected = entry.rows - entry.accepted
        if entry.rejected:
            unmatched = frame.loc[~ok, "name"].astype(str).head(5)
            entry.warnings.append(f"町丁目の区域に対応しない行 {entry.rejected} 件(例: {', '.join(unmatched)})")
            _reject(state, Path(entry.path), table.frame.loc[~table.frame.index.isin(frame.index[ok])]
                    .assign(reason="町丁目の区域に対応する行がありません"))
    rate = state.recipe.options.get("aging_rate")
    has_age = pop["pop_65plus"].notna().any()
    if has_age:
        basis = "age"
    elif rate and pop["pop_total"].notna().any():
        basis = "estimated"
        pop["pop_65plus"] = (pop["pop_total"].astype("Float64") * float(rate)).round().astype("Int64")
        report.notes.append(f"年齢別の人口がないため、65歳以上人口を総人口 × 高齢化率 {rate:.1%} で"
                            "推計しました(推計値)。")
    elif pop["pop_total"].notna().any():
        basis = "total"
        report.notes.append("年齢別の人口がないため、65歳以上・75歳以上人口は空欄です(総人口のみ)。")
    else:
        basis = "none"
    missing = pop["pop_total"].isna()
    if missing.any() and basis != "none":
        report.notes.append(f"人口が分からない町丁目 {int(missing.sum())} 件: "
                            + ", ".join(blocks.loc[missing.to_numpy(), "name"].astype(str).head(8)))
    report.population_basis = basis
    state.population_frame = pop if basis != "none" else None
    report.population = {c: (int(pop[c].sum()) if pop[c].notna().any() else None)
                         for c in ("pop_total", "pop_65plus", "pop_75plus")}


def _mesh(state: _State, blocks: gpd.GeoDataFrame, pop: pd.DataFrame, entry: InputReport,
          item: RecipeInput) -> None:
    from scgeo.io.mesh import interpolate_population, read_mesh_population, round_preserving_total

    meshes, messages = read_mesh_population(item.path)
    estimate = interpolate_population(meshes, blocks, muni_code=state.recipe.muni_code)
    for col in ("pop_total", "pop_65plus", "pop_75plus"):
        if col in estimate:
            pop[col] = np.asarray(round_preserving_total(estimate[col]), dtype="int64")
    lost = meshes["pop_total"].sum() - estimate["pop_total"].sum()
    entry.rows = entry.accepted = len(meshes)
    entry.warnings += [*messages, f"地域メッシュの人口を面積按分で町丁目に割り当てました"
                                  f"(町丁目の外に落ちた人口 {lost:,.0f} 人)。"]


# ---------------------------------------------------------------- resources, venues, network


def _geocoder(spec: str | None):
    if not spec:
        return None
    from scgeo.geocode import Gazetteer, GsiGeocoder, JageocoderGeocoder

    kind, _, arg = spec.partition(":")
    if kind == "gazetteer" and arg:
        return Gazetteer.from_files([p for p in arg.split(",") if p])
    if kind == "jageocoder" and arg:
        return JageocoderGeocoder(url=arg) if arg.startswith("http") else JageocoderGeocoder(db_dir=arg)
    if kind == "gsi":
        return GsiGeocoder(url=arg) if arg else GsiGeocoder()
    raise InputError(f"--geocode「{spec}」が分かりません。gazetteer:FILE、jageocoder:DIR、"
                     "jageocoder:URL、gsi のいずれかにしてください。")


def _resources(state: _State, item: RecipeInput, number: int, review: dict, geocoder, log) -> None:
    from scgeo import io

    opts = item.options
    config = state.recipe.options.get("facility_config")
    existing = set().union(*(set(f["resource_id"]) for f in state.resources)) if state.resources else set()
    fmt = opts.get("format", "list")
    if fmt in ("ksj_p14", "ksj_p04"):
        reader = io.read_ksj_facilities if fmt == "ksj_p14" else io.read_ksj_medical
        result = reader(item.path, within=state.outline, config=config)
    else:
        mapping = dict(opts.get("mapping", {}))
        if "name_column" in opts:
            mapping.setdefault("name", opts["name_column"])
        result = io.read_facility_list(
            item.path, category=opts.get("category"), config=config, mapping=mapping or None,
            sheet=opts.get("sheet"), encoding=opts.get("encoding"), geocoder=geocoder,
            id_prefix=f"R{number}-", existing_ids=existing, type_columns=opts.get("type_columns"),
            review=review, row_filter=opts.get("filter"), layer=opts.get("layer"))
        state.category_tables.append(result.details.get("categories", pd.DataFrame()))
    result = _inside(state, result, "社会資源")
    state.resources.append(result.accepted)
    state.report.inputs.append(_entry(item, result))
    _reject(state, item.path, result.rejected)
    log(f"{item.path.name}: 社会資源 {result.summary()}")


def _venues(state: _State, item: RecipeInput, log) -> None:
    from scgeo.io.venues import read_venues

    opts = item.options
    mapping = dict(opts.get("mapping", {}))
    if "name_column" in opts:
        mapping.setdefault("name", opts["name_column"])
    existing = set().union(*(set(f["venue_id"]) for f in state.venues)) if state.venues else set()
    result = read_venues(item.path, mapping=mapping or None, sheet=opts.get("sheet"),
                         encoding=opts.get("encoding"), existing_ids=existing,
                         row_filter=opts.get("filter"))
    result = _inside(state, result, "活動の場")
    _venue_areas(state, result.accepted)
    state.venues.append(result.accepted)
    state.report.inputs.append(_entry(item, result))
    _reject(state, item.path, result.rejected)
    log(f"{item.path.name}: 活動の場 {result.summary()}")


def _venue_areas(state: _State, venues: gpd.GeoDataFrame) -> None:
    """``area_id`` of each venue without one: the finest area it lies in (town block first)."""
    levels = _levels(state)
    level = next((lv for lv in _FINEST_FIRST if lv in levels), None)
    if level is None or not len(venues):
        return
    areas = levels[level][["area_id", "geometry"]].rename(columns={"area_id": "_area"})
    joined = gpd.sjoin(venues[["geometry"]], areas, how="left", predicate="within")
    found = joined[~joined.index.duplicated()]["_area"].reindex(venues.index)
    venues["area_id"] = venues["area_id"].where(venues["area_id"].notna(), found)


def _inside(state: _State, result: ImportResult, what: str) -> ImportResult:
    """Points farther than 2 km outside the municipality are rejected (a wider list's rows)."""
    accepted = result.accepted
    if state.outline is None or not len(accepted):
        return result
    from scgeo.crs import metric_crs

    metric = metric_crs(accepted, muni_code=state.recipe.muni_code)
    area = gpd.GeoSeries([state.outline], crs="EPSG:6668").to_crs(metric).buffer(_OUTSIDE_M).iloc[0]
    outside = ~accepted.to_crs(metric).within(area).to_numpy()
    if not outside.any():
        return result
    far = pd.DataFrame(accepted[outside].drop(columns="geometry")).assign(
        geometry=accepted.geometry[outside].to_wkt(),
        reason=f"市町村の範囲から {_OUTSIDE_M / 1000:.0f} km 以上離れた位置です")
    messages = [*result.messages, f"市町村の範囲の外の{what} {int(outside.sum())} 件を除外しました。"]
    return ImportResult(accepted[~outside].reset_index(drop=True),
                        pd.concat([result.rejected, far], ignore_index=True), messages, result.details)


def _network(state: _State, item: RecipeInput, log) -> None:
    from scgeo.io.osm import read_osm
    from scgeo.network import WalkNetwork

    if item.path.suffix.lower() == ".graphml":
        nodes, edges = WalkNetwork.from_graphml(item.path).to_frames()
        lines = None
    else:
        data = read_osm(item.path)
        nodes, edges, lines = data.nodes, data.edges, data.lines
    state.network = (nodes, edges, lines)
    state.report.inputs.append(InputReport(str(item.path), "network", rows=len(edges), accepted=len(edges)))
    log(f"{item.path.name}: 歩行ネットワーク 道 {len(edges)}")


def _reject(state: _State, path: Path, rejected: pd.DataFrame) -> None:
    state.rejected.append((path.stem, rejected))
    state.rejected_paths.append(path)


def _entry(item: RecipeInput, result: ImportResult | None, *, level: str | None = None) -> InputReport:
    if result is None:
        return InputReport(str(item.path), item.role, level=level)
    accepted, rejected = len(result.accepted), len(result.rejected)
    return InputReport(str(item.path), item.role, rows=accepted + rejected, accepted=accepted,
                       rejected=rejected, warnings=list(result.messages), level=level)


# ---------------------------------------------------------------- writing


def _write(state: _State, path: Path) -> None:
    from scgeo.workspace import Workspace

    recipe, report = state.recipe, state.report
    levels = _levels(state)
    areas = [levels[lv] for lv in ("municipality", *reversed(_FINEST_FIRST)) if lv in levels]
    if areas:
        joined = pd.concat(areas, ignore_index=True)
        clash = joined["area_id"].duplicated()
        if clash.any():
            raise InputError(f"区域ID {', '.join(joined.loc[clash, 'area_id'].astype(str)[:5])} が複数の"
                             "ファイルにあります。レシピで片方を reference にしてください。")
        areas_frame = gpd.GeoDataFrame(joined[[*AREAS.names, "geometry"]], geometry="geometry", crs="EPSG:6668")
    report.layers = {lv: len(levels[lv]) for lv in ("municipality", *reversed(_FINEST_FIRST)) if lv in levels}
    with Workspace.building(path, muni_code=recipe.muni_code, muni_name=recipe.name, overwrite=True) as tx:
        if areas:
            tx.write("areas", areas_frame)
        if state.population_frame is not None:
            tx.write("population", state.population_frame)
        for name, frames in (("resources", state.resources), ("venues", state.venues)):
            frames = [f for f in frames if len(f)]
            if frames:
                frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                         crs="EPSG:6668")
                tx.write(name, frame)
                report.layers[name] = len(frame)
        if state.network is not None:
            nodes, edges, lines = state.network
            tx.write("network_nodes", nodes.to_crs("EPSG:6668"))
            tx.write("network_edges", edges.to_crs("EPSG:6668"))
            if lines is not None:
                tx.write("basemap_lines", lines.to_crs("EPSG:6668"))
            report.layers["network_edges"] = len(edges)
        meta = {"population_basis": report.population_basis, "built_from": "recipe"}
        if report.population_basis == "estimated":
            meta["aging_rate"] = str(recipe.options["aging_rate"])
        if state.blocks_from_points:
            meta["town_blocks_from"] = "voronoi"
        tx.set_meta(meta)
        for entry in report.inputs:
            if entry.accepted:
                tx.record(user=None, layer=entry.role, action="build",
                          new=entry.accepted, note=f"{Path(entry.path).name} 取込 {entry.accepted} 件、"
                                                   f"除外 {entry.rejected} 件")


def _after(state: _State, path: Path, review_file: Path, rejected_dir, log) -> None:
    """Once the workspace is in place: rejected rows, the category review file, the summary."""
    from scgeo.io.categories import EXCLUDED_REASON, write_review

    report = state.report
    folder = Path(rejected_dir) if rejected_dir else path.parent / "rejected"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"{path.stem}_rejected_*.csv"):  # from an earlier build of this workspace
        stale.unlink()
    stems = [label for label, rejected in state.rejected if len(rejected)]
    for (label, rejected), item in zip(state.rejected, state.rejected_paths, strict=True):
        if len(rejected):
            if stems.count(label) > 1:  # several lists called data.xlsx: name them by folder too
                label = f"{item.parent.name}_{label}"
            out = folder.resolve() / f"{path.stem}_rejected_{label}.csv"
            write_csv(rejected, out)
            report.rejected_files.append(str(out))
    tables = [t for t in state.category_tables if len(t)]
    if tables:
        report.review_file = str(write_review(review_file, pd.concat(tables, ignore_index=True)))
        log(f"種別の対応表: {review_file}")
    resources = [f for f in state.resources if len(f)]
    mapped = pd.concat(resources)["category"].value_counts().to_dict() if resources else {}
    if resources:
        levels = pd.concat(resources)["notes"].fillna("").str.extract(r"位置: (\S+?)レベル")[0].dropna()
        report.geocode = {str(k): int(v) for k, v in levels.value_counts().items()}
    frames = [r for _, r in state.rejected if "reason" in r and len(r)]
    reasons = pd.concat(frames) if frames else pd.DataFrame({"reason": pd.Series([], dtype=object)})
    kinds = (reasons["reason"].astype(str).str.split("; ").str[0].str.replace(r"「[^」]*」|「.*$", "", regex=True)
             .str.replace(r"[((][^))]*[))]?\s*$", "", regex=True).str.replace(r"\d+", "N", regex=True))
    top = kinds.value_counts().head(5).to_dict()
    excluded = int(reasons["reason"].astype(str).str.startswith(EXCLUDED_REASON).sum())
    report.categories = {"mapped": {str(k): int(v) for k, v in mapped.items()}, "excluded": excluded,
                         "top_reasons": {str(k): int(v) for k, v in top.items()}}
