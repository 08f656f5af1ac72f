"""利用者: the workspace's users and roles (管理 only): list, add, disable/enable, reset a password.

The same as ``scgeo user add|list|disable|enable|reset``; passwords are never shown or kept in the
history. The first user added on a workspace without users switches the app to logins.
"""

import pandas as pd
import streamlit as st
from app_state import area_choices, editor_name, open_location, open_workspace, plain, require, workspace_path, written

import scgeo
from scgeo.schema import USER_ROLES
from scgeo.users import add_user, disable_user, enable_user, list_users, reset_password

require("manage_users")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("利用者と役割")
if layers is not None:
    ws = open_location(workspace_path())
    flash = st.session_state.pop("users_flash", None)
    if flash:
        (st.error if flash[0] == "error" else st.success)(plain(flash[1]))
    st.caption("閲覧: 公開の地図と集計だけ / 編集: 社会資源・会場・活動・団体の変更も(担当区域があればその中だけ) / "
               "内部: ニーズと内部資料も / 管理: 利用者の管理も。パスワードは10文字以上で、ハッシュだけを保存します。")
    users = list_users(ws)
    if not users:
        st.info("まだ利用者がいません。最初に管理の役割の利用者を追加すると、このアプリはログイン名とパスワードで"
                "ログインするようになります。")
    else:
        st.dataframe(pd.DataFrame({
            "ログイン名": [u.login for u in users], "表示名": [u.display_name for u in users],
            "役割": [u.role_label for u in users], "担当区域": [u.area_id or "" for u in users],
            "状態": ["有効" if u.status == "active" else "無効" for u in users]}), hide_index=True, width="stretch")

    areas = area_choices(layers["areas"])
    with st.expander("利用者を追加する", expanded=not users), st.form("add_user", clear_on_submit=True):
        c = st.columns(2)
        login = c[0].text_input("ログイン名", placeholder="例: suzuki.h")
        name = c[1].text_input("表示名", placeholder="例: 鈴木 花子")
        c = st.columns(2)
        role = c[0].selectbox("役割", list(USER_ROLES.values()), index=1)
        area = c[1].selectbox("担当区域(編集を区域の中に限る)", ["", *areas], format_func=lambda x: x or "なし(市全域)")
        c = st.columns(2)
        first = c[0].text_input("パスワード(10文字以上)", type="password")
        second = c[1].text_input("パスワード(もう一度)", type="password")
        if st.form_submit_button("追加する", type="primary"):
            try:
                if first != second:
                    raise scgeo.InputError("2回のパスワードが一致しません。何も変更していません。")
                user = add_user(ws, login, role=role, password=first, display_name=name or None,
                                area_id=areas.get(area), by=editor_name())
            except scgeo.ScgeoError as exc:
                st.error(plain(exc))
            else:
                st.session_state["users_flash"] = ("success",
                                                   f"利用者 {user.login} を役割「{user.role_label}」で追加しました。")
                written()

    if users:
        st.subheader("無効にする・戻す・パスワードを再設定する")
        picked = st.selectbox("利用者", [u.login for u in users], key="users_pick")
        one = next(u for u in users if u.login == picked)
        b = st.columns(3)
        if one.status == "active":
            if b[0].button("無効にする", key="users_disable", disabled=one.login == editor_name()):
                disable_user(ws, one.login, by=editor_name())
                st.session_state["users_flash"] = ("success",
                                                   f"利用者 {one.login} を無効にしました(ログインできません)。")
                written()
        elif b[0].button("有効に戻す", key="users_enable"):
            enable_user(ws, one.login, by=editor_name())
            st.session_state["users_flash"] = ("success", f"利用者 {one.login} を有効に戻しました。")
            written()
        with b[1].popover("パスワードを再設定"), st.form("users_reset", clear_on_submit=True):
            password = st.text_input("新しいパスワード(10文字以上)", type="password", key="users_new_password")
            if st.form_submit_button("再設定する"):
                try:
                    reset_password(ws, one.login, password=password, by=editor_name())
                except scgeo.ScgeoError as exc:
                    st.error(plain(exc))
                else:
                    st.session_state["users_flash"] = ("success", f"利用者 {one.login} のパスワードを再設定しました"
                                                                  "(前のパスワードは使えません)。")
                    written()
