"""関係者ネットワーク: organisations, ties and 協議体 — the ecomap, brokers, isolates, proposals, entry."""

import datetime as dt

import pandas as pd
import streamlit as st
from app_state import (
    allowed,
    area_choices,
    download_data,
    editor_name,
    open_workspace,
    plain,
    require,
    sandboxed,
    workspace,
    workspace_path,
    written,
)

import scgeo
from scgeo.analysis.ties import network_metrics, propose_ties
from scgeo.io.organisations import load_organisation_kinds
from scgeo.maps.network_view import network_html
from scgeo.report.network import area_subgraph, network_summary, workspace_graph
from scgeo.report.year import meetings_for_proposals
from scgeo.schema import NODE_TYPE_LABELS, TIE_KIND_LABELS, TIE_STRENGTH_LABELS

st.title("関係者ネットワーク")
st.caption("団体・社会資源・協議体のつながり(ネットワーク構築)。個人の名前は記録しません。")

require("read")  # checked here too, not only by the navigation
layers = open_workspace()
if layers is None:
    st.stop()


@st.cache_data(show_spinner="ネットワークを計算しています…", max_entries=16)
def _network(path: str, stamp: int, day: dt.date, area: str | None, resources: bool):
    ws = scgeo.Workspace.open(path)
    graph = workspace_graph(ws, on=day, with_resources=resources)
    if area:
        graph = area_subgraph(graph, ws.areas(), area)
    return graph, network_metrics(graph), network_summary(ws, on=day)


kinds = load_organisation_kinds()
ws = workspace()
organisations = ws.read("organisations")
if organisations.empty:
    st.info("関係団体がまだ登録されていません。下の「団体を追加」か、`scgeo org import` で一覧(Excel・Kumu 形式)を"
            "取り込んでください。")

left, mid, right = st.columns([1, 1, 1])
day = left.date_input("この日の時点", value=dt.date.today(), format="YYYY-MM-DD")
choices = {"市全体": None, **area_choices(layers["areas"], ("living_area", "jhs_district"))}
area_label = mid.selectbox("区域", list(choices))
with_resources = right.checkbox("社会資源も表示する", value=False)
graph, metrics, summary = _network(workspace_path(), layers["stamp"], day, choices[area_label], with_resources)

names = {f"{r.name}({NODE_TYPE_LABELS.get(r.node_type, r.node_type)})": r.node for r in graph.nodes.itertuples()}
focus_label = st.selectbox("エコマップの中心", sorted(names), index=None, placeholder="選ばなければ区域全体の図")
focus = names.get(focus_label)
c1, c2, c3, c4 = st.columns(4)
c1.metric("団体", summary["organisations"])
c2.metric("つながり", summary["ties"])
c3.metric("1年間に増えたつながり", summary["new_ties"], delta=summary["new_ties"] - summary["lost_ties"])
c4.metric("つながりのない団体", len(summary["isolated"]))

title = f"エコマップ: {focus_label}" if focus else f"{area_label} の関係者ネットワーク"
page = network_html(graph, title=title, focus=focus, depth=2 if focus else 1)
st.iframe(sandboxed(page, title="関係者ネットワーク"), height=760)
st.download_button("この図を HTML で保存(オフラインで開けます)", download_data(page.encode("utf-8")),
                   file_name="network.html", mime="text/html")

st.subheader("橋渡し役とつながりのない団体")
shown = metrics[metrics["node_type"] == "organisation"].copy()
shown["種類"] = shown["kind"].map(lambda k: kinds[k].label if k in kinds else k)
table = pd.DataFrame({
    "団体": shown["name"], "種類": shown["種類"], "つながりの数": shown["degree"],
    "媒介中心性": shown["betweenness"].round(3), "橋渡し役": shown["broker"].map({True: "◎", False: ""}),
    "孤立": shown["isolated"].map({True: "つながりなし", False: ""}),
}).sort_values(["媒介中心性", "つながりの数"], ascending=False)
st.dataframe(table, hide_index=True, width="stretch")

st.subheader("担い手と未対応のニーズ")
_helpers = ws.read("helpers")
if _helpers.empty:
    st.caption("担い手の人数がまだ記録されていません(`scgeo org import … --layer helpers`)。")
else:
    from scgeo.analysis.helpers import helpers_vs_needs
    from scgeo.privacy import publish_needs

    _level = "living_area" if (layers["areas"]["level"] == "living_area").any() else "jhs_district"
    _needs = publish_needs(ws, level=_level, record=False)  # audited like every table of need counts
    _table = helpers_vs_needs(_helpers, _needs.table, areas=layers["areas"], organisations=organisations,
                              level=_level)
    _tax = scgeo.load_taxonomy()
    st.dataframe(pd.DataFrame({"区域": _table["area_name"], "活動": _table["activity"].map(_tax.label),
                               "未対応のニーズ(5未満は秘匿)": _table["needs"], "活動中の担い手": _table["active"],
                               "養成講座修了": _table["trained"]}), hide_index=True, width="stretch")

if not allowed("edit"):  # 閲覧: the pictures and tables only, no recording
    st.caption("つながりの提案の確認と、団体・つながりの記録は、役割「編集」以上の利用者が行います。")
    st.stop()

st.subheader("協議体の出席から提案されたつながり")
ties = ws.read("ties")
proposed = ties[ties["status"] == "proposed"]
fresh = propose_ties(meetings_for_proposals(ws), ties, min_meetings=3)  # 協議体 and the activity log
org_names = dict(zip(organisations["org_id"], organisations["name"], strict=True))
if len(fresh):
    st.write(f"同じ会議に3回以上出席していて、まだつながりが記録されていない団体の組が {len(fresh)} 組あります。")
    if st.button("提案として記録する", key="record_proposals"):
        result = scgeo.validate(fresh.assign(tie_id=[f"P{dt.date.today():%Y%m%d}-{i}" for i in range(len(fresh))]),
                                "ties", existing_ids=set(ties["tie_id"]))
        ws.import_result("ties", result, user=editor_name(), source="協議体の出席から提案")
        written()
if len(proposed):
    view = pd.DataFrame({
        "確認": False, "tie_id": proposed["tie_id"],
        "団体1": proposed["source_id"].map(org_names), "団体2": proposed["target_id"].map(org_names),
        "根拠": proposed["origin"], "メモ": proposed["notes"]})
    edited = st.data_editor(view, hide_index=True, disabled=["tie_id", "団体1", "団体2", "根拠", "メモ"],
                            column_config={"tie_id": None}, key="proposals")
    chosen = edited.loc[edited["確認"], "tie_id"].tolist()
    a, b = st.columns(2)
    if a.button(f"選んだ {len(chosen)} 件を確認済みにする", disabled=not chosen):
        for tie_id in chosen:
            ws.update_feature("ties", tie_id, {"status": "accepted"}, user=editor_name())
        written()
    if b.button(f"選んだ {len(chosen)} 件を取り消す", disabled=not chosen):
        for tie_id in chosen:
            ws.delete_feature("ties", tie_id, user=editor_name())
        written()
elif not len(fresh):
    st.caption("提案中のつながりはありません。")

st.subheader("記録する")
tab_org, tab_tie = st.tabs(["団体を追加", "つながりを追加"])
with tab_org, st.form("add_org", clear_on_submit=True):
    name = st.text_input("団体名")
    kind_label = st.selectbox("団体の種類", [k.label for k in kinds.values()])
    served = area_choices(layers["areas"], ("living_area", "jhs_district", "es_district"))
    area = st.selectbox("活動区域", list(served), index=None, placeholder="区域を選ぶ(なくてもよい)")
    contact = st.text_input("団体の連絡先(個人名は書かない)")
    notes = st.text_input("備考")
    if st.form_submit_button("追加する"):
        code = next(k.code for k in kinds.values() if k.label == kind_label)
        ids = set(organisations["org_id"])
        org_id = next(f"O{i:04d}" for i in range(1, len(ids) + 2) if f"O{i:04d}" not in ids)
        try:
            ws.add_feature("organisations", {"org_id": org_id, "name": name, "kind": code,
                                             "area_id": served.get(area), "contact": contact or None,
                                             "notes": notes or None}, user=editor_name())
        except scgeo.InputError as exc:
            st.error(plain(str(exc)))
        else:
            written()
with tab_tie, st.form("add_tie", clear_on_submit=True):
    ends = {f"{r.name}({NODE_TYPE_LABELS.get(r.node_type)})": r.node for r in
            workspace_graph(ws, on=day, with_resources=True).nodes.itertuples()}
    a_label = st.selectbox("団体・資源 1", sorted(ends))
    kind_label = st.selectbox("つながりの種類", list(TIE_KIND_LABELS.values()))
    b_label = st.selectbox("団体・資源・協議体 2", sorted(ends))
    strength_label = st.radio("強さ", list(TIE_STRENGTH_LABELS.values()), index=1, horizontal=True)
    started = st.date_input("始まった日", value=dt.date.today(), format="YYYY-MM-DD")
    note = st.text_input("メモ(情報共有・紹介・共同の活動 など)")
    if st.form_submit_button("追加する"):
        a_type, a_id = ends[a_label].split(":", 1)
        b_type, b_id = ends[b_label].split(":", 1)
        kind = next(k for k, v in TIE_KIND_LABELS.items() if v == kind_label)
        strength = next(k for k, v in TIE_STRENGTH_LABELS.items() if v == strength_label)
        ids = set(ties["tie_id"])
        tie_id = next(f"T{i:04d}" for i in range(len(ids) + 1, 2 * len(ids) + 3) if f"T{i:04d}" not in ids)
        try:
            if ends[a_label] == ends[b_label]:
                raise scgeo.InputError("同じ相手どうしのつながりは記録できません。")
            ws.add_feature("ties", {"tie_id": tie_id, "kind": kind, "source_type": a_type, "source_id": a_id,
                                    "target_type": b_type, "target_id": b_id, "strength": strength,
                                    "started": pd.Timestamp(started), "status": "accepted", "origin": "アプリ",
                                    "notes": note or None}, user=editor_name())
        except scgeo.InputError as exc:
            st.error(plain(str(exc)))
        else:
            written()
