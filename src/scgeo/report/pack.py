"""協議体 pack: one PDF (and the same as one self-contained HTML) for a meeting of a 第2層 協議体.

Cover with the date and the agenda; the area's map of resources; where coverage is low (public:
areas and categories, no person); what changed since the council's last meeting (resources new and
closed, from the stored snapshots; resources whose confirmation is overdue; coverage change); open
needs per 中学校区 as published through the ledger (audited against every earlier release); open
proposals of 資源開発 (scenarios whose sites lie in the area, and planned resources); a QR code
to the published map. Minutes entered afterwards become an activity
(:func:`scgeo.report.year.add_activity` with the meeting's ``meeting_id``).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import io
from pathlib import Path

import pandas as pd

from scgeo._errors import InputError
from scgeo.schema import load_taxonomy

__all__ = ["CouncilPack", "council_pack", "write_pack_html", "write_pack_pdf"]


@dataclasses.dataclass
class CouncilPack:
    """The contents of one 協議体 pack (tables with Japanese headers)."""

    council: str
    area_id: str
    area_name: str
    date: dt.date
    agenda: str
    muni_name: str
    last_meeting: dt.date | None
    since_snapshot: str | None
    now_snapshot: str | None
    gaps: pd.DataFrame
    new_resources: pd.DataFrame
    closed_resources: pd.DataFrame
    stale_resources: pd.DataFrame
    coverage_change: pd.DataFrame
    needs: pd.DataFrame
    proposals: pd.DataFrame
    map_url: str | None
    notes: list[str]

    @property
    def title(self) -> str:
        """``第1圏域 支え合い推進会議 2026年10月23日``."""
        return f"{self.council} {self.date:%Y年%-m月%-d日}"


def _snapshot_on_or_before(snapshots: pd.DataFrame, day: pd.Timestamp) -> str | None:
    rows = snapshots[pd.to_datetime(snapshots["as_of"]) <= day]
    return None if not len(rows) else str(rows.sort_values(["as_of", "taken_at"]).iloc[-1]["snapshot_id"])


def council_pack(workspace, *, area: str, date: object, agenda: str | None = None,
                 map_url: str | None = None, user: str | None = None) -> CouncilPack:
    """What goes into the pack for the 協議体 of ``area`` meeting on ``date``.

    Parameters
    ----------
    workspace
        The :class:`scgeo.Workspace`.
    area
        The area (id or name) of the 協議体 (its ``area_id`` in ``councils``), e.g. ``LA1`` or 第1圏域.
    date
        The meeting's date.
    agenda
        The agenda (default: the recorded meeting's on that date, else none).
    map_url
        Address of the published map for the QR code (none: no QR code, said on the cover).
    user
        Who makes the pack, recorded in the publication ledger with its need table (default: the
        login name).
    """
    from scgeo.analysis.activities import area_ids_within
    from scgeo.analysis.freshness import due_list
    from scgeo.report.monthly import resource_changes
    from scgeo.report.scenarios import scenarios
    from scgeo.report.year import plan_inputs
    from scgeo.schema import RESOURCE_STATUS_LABELS

    day = pd.Timestamp(date).normalize()
    areas = workspace.areas()
    match = areas[(areas["area_id"] == area) | (areas["name"] == area)]
    if not len(match):
        raise InputError(f"区域「{area}」はワークスペースにありません。")
    area_id, area_name, level = (str(match.iloc[0][c]) for c in ("area_id", "name", "level"))
    councils = workspace.read("councils")
    council = councils[councils["area_id"] == area_id]
    council_name = str(council["name"].iloc[0]) if len(council) else f"{area_name} 協議体"
    meetings = workspace.read("council_meetings")
    mine = meetings[meetings["council_id"].isin(council["council_id"])] if len(council) else meetings.iloc[0:0]
    today = mine[pd.to_datetime(mine["date"]) == day]
    if agenda is None and len(today):
        agenda = today["agenda"].iloc[0] if isinstance(today["agenda"].iloc[0], str) else None
    earlier = mine[pd.to_datetime(mine["date"]) < day]
    last = pd.Timestamp(earlier["date"].max()) if len(earlier) else None
    notes = []
    inputs = plan_inputs(workspace)
    now_sid = _snapshot_on_or_before(inputs.snapshots, day)
    since_sid = _snapshot_on_or_before(inputs.snapshots, last) if last is not None else None
    if last is None:
        notes.append("この協議体の前回の開催の記録がないため、前回からの変化は載せていません。")
    elif since_sid is None:
        notes.append(f"前回 ({last:%Y-%m-%d}) より前のスナップショットがないため、資源の増減は載せていません。")
    tax = load_taxonomy()
    resources = workspace.read("resources")
    new, closed = resource_changes(inputs.figures, now_sid, since_sid, level=level, area_id=area_id)
    in_area = inputs.figures[(inputs.figures["snapshot_id"] == now_sid) & (inputs.figures["table"] == "resource")
                             & (inputs.figures["level"] == level) & (inputs.figures["area_id"] == area_id)]
    inside = set(in_area["key"])

    def listing(ids) -> pd.DataFrame:
        rows = resources[resources["resource_id"].isin(ids)].sort_values("resource_id")
        return pd.DataFrame({"名称": rows["name"], "種別": rows["category"].map(tax.label),
                             "状態": rows["status"].map(RESOURCE_STATUS_LABELS), "住所": rows["address"]})

    stale = due_list(resources[resources["resource_id"].isin(inside)], on=day.date(), flags=workspace.review_flags())
    stale = stale[stale["state"].isin(["overdue", "long_unconfirmed", "needs_review"])]
    stale_table = pd.DataFrame({"名称": stale["name"], "種別": stale["category"].map(tax.label),
                                "確認の状態": stale["state_label"],
                                "最終確認日": pd.to_datetime(stale["last_confirmed"]).dt.strftime("%Y-%m-%d")})
    rows = inputs.figures[(inputs.figures["snapshot_id"] == now_sid) & (inputs.figures["table"] == "coverage")
                          & (inputs.figures["level"] == level) & (inputs.figures["area_id"] == area_id)
                          & (inputs.figures["metric"] == "coverage_pct")]
    after = pd.Series(rows["value"].to_numpy(), index=rows["key"].to_numpy())
    old = inputs.figures[(inputs.figures["snapshot_id"] == since_sid) & (inputs.figures["table"] == "coverage")
                         & (inputs.figures["level"] == level) & (inputs.figures["area_id"] == area_id)
                         & (inputs.figures["metric"] == "coverage_pct")]
    before = pd.Series(old["value"].to_numpy(), index=old["key"].to_numpy())
    change = pd.DataFrame({"種別": [tax.label(c) for c in after.index],
                           "前回(%)": before.reindex(after.index).to_numpy(), "今回(%)": after.to_numpy()})
    change["増減"] = change["今回(%)"] - change["前回(%)"]
    gaps = change[change["今回(%)"] < 50].sort_values("今回(%)")[["種別", "今回(%)"]].rename(
        columns={"今回(%)": "徒歩15分のカバー率(%)"})
    needs = _area_needs(workspace, areas, area_id, user=user)
    within = area_ids_within(areas, area_id)
    proposals = _proposals(workspace, scenarios(workspace), within, areas, resources, tax)
    if not map_url:
        notes.append("公開した地図のアドレス (--map-url) がないため、QRコードは載せていません。")
    return CouncilPack(council=council_name, area_id=area_id, area_name=area_name, date=day.date(), agenda=agenda or "",
                       muni_name=workspace.meta().get("muni_name", ""),
                       last_meeting=last.date() if last is not None else None, since_snapshot=since_sid,
                       now_snapshot=now_sid, gaps=gaps, new_resources=listing(new), closed_resources=listing(closed),
                       stale_resources=stale_table.reset_index(drop=True), coverage_change=change, needs=needs,
                       proposals=proposals, map_url=map_url, notes=notes)


def _area_needs(workspace, areas, area_id, *, user: str | None = None) -> pd.DataFrame:
    """Open needs per 中学校区 of the area × category, as published through the ledger.

    The rows come from releases that :func:`scgeo.privacy.publish_needs` audits against every
    earlier release and records: the city's 中学校区 table (the council map's, so it is not
    recorded twice) for the area's districts, and the area's own row of its level's table, as
    合計 under two or more districts, alone when the city has no 中学校区 in the area. Counts
    are as of the pack's making.
    """
    from scgeo.privacy import SUPPRESSED_TEXT, TOTAL, publish_needs

    level = str(areas.loc[areas["area_id"] == area_id, "level"].iloc[0])
    if level == "jhs_district":
        districts = [str(area_id)]
    else:
        districts = areas.loc[(areas["level"] == "jhs_district") & (areas["parent_id"] == area_id), "area_id"]
        districts = districts.astype(str).tolist()
    if not workspace.count("needs"):
        return pd.DataFrame(columns=["区域"])
    purpose = "協議体用の地図"  # the council map's release: the same table is not recorded twice
    names = dict(zip(areas["area_id"].astype(str), areas["name"], strict=False))

    def rows(unit_level: str, ids: list[str]) -> pd.DataFrame:
        wide = publish_needs(workspace, level=unit_level, purpose=purpose, user=user).wide()
        return wide[wide.index.isin(ids)].drop(columns=TOTAL)

    parts = [rows("jhs_district", districts).rename(index=names)] if districts else []
    if len(districts) != 1:
        own = "合計" if districts else names[str(area_id)]
        parts.append(rows(level, [str(area_id)]).rename(index={str(area_id): own}))
    wide = pd.concat(parts)
    wide.columns = [load_taxonomy().label(c) for c in wide.columns]
    return wide.map(lambda v: v if v == SUPPRESSED_TEXT else int(v)).rename_axis("区域").reset_index()


def _proposals(workspace, table, within, areas, resources, tax) -> pd.DataFrame:
    import geopandas as gpd

    rows = []
    zone = areas[areas["area_id"].isin(within)]
    if len(table):
        sites = workspace.read("siting_sites")
        located = gpd.sjoin(sites, zone[["area_id", "geometry"]].to_crs(sites.crs), predicate="within") if len(
            sites) else sites
        for s in table.itertuples():
            mine = located[located["scenario_id"] == s.scenario_id] if len(located) else located
            if len(mine):
                rows.append({"提案": s.name, "種別": s.category_label, "新しい場所": len(mine),
                             "この区域の候補地": "、".join(mine["name"].astype(str).head(3)),
                             "徒歩圏で増える人": round(float(s.gain)), "出どころ": f"資源開発シナリオ {s.scenario_id}"})
    planned = resources[resources["status"] == "planned"]
    if len(planned):
        inside = gpd.sjoin(planned, zone[["area_id", "geometry"]].to_crs(planned.crs), predicate="within")
        for r in inside.itertuples():
            rows.append({"提案": r.name, "種別": tax.label(r.category), "新しい場所": 1,
                         "この区域の候補地": r.address or "",
                         "徒歩圏で増える人": None, "出どころ": "計画中(案)の資源"})
    columns = ["提案", "種別", "新しい場所", "この区域の候補地", "徒歩圏で増える人", "出どころ"]
    return pd.DataFrame(rows, columns=columns)


def _qr(url: str):
    import segno

    return segno.make(url, error="m")


def write_pack_pdf(pack: CouncilPack, workspace, path: str | Path, *, map_page=None) -> tuple[Path, int]:
    """The pack as a PDF (A4; the map page A4 landscape). Returns the path and the page count.

    ``map_page``: the area's map figure (:func:`scgeo.maps.static.map_figure`) when already drawn.
    """
    import numpy as np

    from scgeo.maps.static import map_figure
    from scgeo.report._pages import Pages

    pages = Pages(pack.title, f"{pack.muni_name} {pack.title}  協議体資料 (scgeo)")
    fig = pages.page(f"{pack.council}", subheading=f"{pack.muni_name}  協議体資料  個人を特定できる情報を含みません")
    pages.text(fig, 0.06, 0.84, f"{pack.date:%Y年%-m月%-d日}", size=22, weight="bold", color="#14304f")
    pages.text(fig, 0.06, 0.79, "議題", size=12, weight="bold")
    pages.text(fig, 0.06, 0.76, pack.agenda or "(議題は未記入)", size=13)
    y = pages.section(fig, 0.7, "この資料の内容")
    y = pages.paragraph(fig, y, ["1. 区域の地図(社会資源)", "2. カバー率が低い種別",
                                 "3. 前回からの変化(新しい資源・廃止・確認が必要な資源・カバー率)",
                                 "4. ニーズ(未対応、秘匿済み)", "5. 資源開発の提案",
                                 f"前回の開催: {pack.last_meeting or '記録なし'}", *pack.notes])
    if pack.map_url:
        matrix = np.array([[1 - v for v in row] for row in _qr(pack.map_url).matrix], dtype=float)
        ax = fig.add_axes((0.66, 0.12, 0.26, 0.26 * 8.27 / 11.69))  # square on A4 portrait
        ax.imshow(matrix, cmap="gray", interpolation="nearest")
        ax.set_axis_off()
        pages.text(fig, 0.79, 0.1, "公開している地域資源マップ", size=8, ha="center")
        from scgeo.report._pages import cell

        pages.text(fig, 0.79, 0.085, cell(pack.map_url, 60), size=6.5, ha="center", color="#444")
    pages.add(map_page if map_page is not None else map_figure(workspace, area=pack.area_id, paper="A4"))
    fig = pages.page("カバー率が低い種別と前回からの変化", subheading=f"{pack.area_name}  スナップショット "
                     f"{pack.since_snapshot or 'なし'} → {pack.now_snapshot or 'なし'}")
    y = pages.section(fig, 0.895, "カバー率が低い種別(徒歩15分、65歳以上、50%未満)")
    y = pages.table(fig, y, pack.gaps, widths=[0.4, 0.25], right=("徒歩15分のカバー率(%)",)) if len(pack.gaps) else \
        pages.paragraph(fig, y, ["カバー率が50%未満の種別はありません。"])
    for title, frame in (("新しい資源", pack.new_resources), ("廃止した資源", pack.closed_resources),
                         ("確認が必要な資源(期限切れ・長期未確認・要確認)", pack.stale_resources)):
        y = pages.section(fig, y, f"{title}: {len(frame)} 件")
        if len(frame):
            y = pages.table(fig, y, frame, widths=[0.3, 0.22, 0.14, 0.22], max_rows=8, limit=24)
    y = pages.section(fig, y, "カバー率の変化(前回 → 今回)")
    pages.table(fig, y, pack.coverage_change, widths=[0.34, 0.14, 0.14, 0.12], right=("前回(%)", "今回(%)", "増減"),
                size=7.6, step=0.017)
    fig = pages.page("ニーズと資源開発の提案", subheading="ニーズは5未満と逆算できる数を「秘匿」にしています")
    y = pages.section(fig, 0.895, "未対応のニーズ(中学校区 × 種別)")
    y = pages.table(fig, y, pack.needs, size=7.2, limit=12) if len(pack.needs.columns) > 1 else pages.paragraph(
        fig, y, ["ニーズの数値はありません。"])
    y = pages.section(fig, y, "資源開発の提案")
    if len(pack.proposals):
        pages.table(fig, y, pack.proposals, widths=[0.2, 0.14, 0.08, 0.22, 0.1, 0.14], limit=18, size=7.4)
    else:
        pages.paragraph(fig, y, ["この区域の提案はありません(アプリの資源開発ページでシナリオを保存すると載ります)。"])
    return pages.save(path)


def _html_table(frame: pd.DataFrame) -> str:
    if not len(frame):
        return "<p>なし</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_pack_html(pack: CouncilPack, workspace, path: str | Path, *, map_page=None) -> Path:
    """The pack as one self-contained HTML file (the map as an embedded image, the QR code as SVG).

    ``map_page`` as for :func:`write_pack_pdf`.
    """
    from matplotlib import rc_context

    from scgeo.maps.static import map_figure

    buffer = io.BytesIO()
    with rc_context({"savefig.dpi": 110}):
        page = map_page if map_page is not None else map_figure(workspace, area=pack.area_id, paper="A4")
        page.savefig(buffer, format="png", facecolor="white")
    image = base64.b64encode(buffer.getvalue()).decode("ascii")
    qr = _qr(pack.map_url).svg_inline(scale=4) if pack.map_url else ""
    e = html.escape
    sections = [
        ("区域の地図", f'<img alt="{e(pack.area_name)}の地図" src="data:image/png;base64,{image}">'),
        ("カバー率が低い種別", _html_table(pack.gaps)),
        ("新しい資源", _html_table(pack.new_resources)), ("廃止した資源", _html_table(pack.closed_resources)),
        ("確認が必要な資源", _html_table(pack.stale_resources)), ("カバー率の変化", _html_table(pack.coverage_change)),
        ("未対応のニーズ(秘匿済み)", _html_table(pack.needs)), ("資源開発の提案", _html_table(pack.proposals)),
    ]
    body = "".join(f"<section><h2>{e(t)}</h2>{c}</section>" for t, c in sections)
    notes = "".join(f"<li>{e(n)}</li>" for n in pack.notes)
    text = f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>{e(pack.title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#1a1a1a}}h1{{color:#14304f}}
table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #bbb;padding:.2em .6em;text-align:left}}
img{{max-width:100%}}.qr{{float:right;text-align:center;font-size:small}}</style></head><body>
<div class="qr">{qr}<br>{e(pack.map_url or "")}</div>
<h1>{e(pack.council)}</h1><p>{e(pack.muni_name)} 協議体資料 — 個人を特定できる情報を含みません</p>
<p><strong>{pack.date:%Y年%-m月%-d日}</strong> 議題: {e(pack.agenda or "(未記入)")}</p>
<p>前回の開催: {e(str(pack.last_meeting or "記録なし"))}</p><ul>{notes}</ul>{body}
</body></html>
"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
