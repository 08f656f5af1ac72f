"""What a logged-in user may change: the role of each write, and an 編集 user's area.

:class:`UserWorkspace` wraps a :class:`~scgeo.workspace.Workspace` for one
:class:`~scgeo.users.User` (the app hands every page one): reads pass through, and every write
checks the role first (:data:`LAYER_CAPABILITY`: needs need 内部, users 管理, everything else 編集)
and, for a user with an area (``User.area_id``, a 日常生活圏域 or 中学校区; any role but 管理), that each feature it
touches lies inside that area (before and after the change), with a Japanese
:class:`~scgeo.PermissionDeniedError` otherwise. A feature is inside when its point lies in
the area's polygon (the boundary counts as inside); one without a point (an activity, an
organisation without coordinates) is inside when its ``area_id`` is the user's area or an area
whose representative point lies in it. Writes not about single features (a restore, the
walking network) are for users without an area. History rows name the user.

Examples
--------
>>> from scgeo.users import User
>>> can_write(User("sato", "佐藤", "viewer", "active"), "resources")
False
>>> can_write(User("suzuki", "鈴木", "editor", "active"), "resources"), can_write(
...     User("suzuki", "鈴木", "editor", "active"), "needs")
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
from shapely import Point

from scgeo._errors import PermissionDeniedError
from scgeo.users import User
from scgeo.workspace import STORED_LAYERS, Workspace

__all__ = ["LAYER_CAPABILITY", "UserWorkspace", "can_write", "outside_area"]

#: The capability a write of each layer needs (every other layer: ``edit``).
LAYER_CAPABILITY = {"needs": "read_needs", "users": "manage_users"}
_ROLE_NAMES = {"edit": "編集", "read_needs": "内部", "manage_users": "管理"}
# Writes of the whole workspace: only for users whose edits are not limited to an area.
_WHOLE = ("restore", "write_network")


def can_write(user: User, layer: str) -> bool:
    """Whether ``user``'s role may change layer ``layer`` (the area is checked separately)."""
    return user.can(LAYER_CAPABILITY.get(layer, "edit"))


def _points(frame: pd.DataFrame) -> gpd.GeoSeries:
    """One point (or None) per row: the geometry, else ``lat``/``lon`` columns."""
    if isinstance(frame, gpd.GeoDataFrame) or "geometry" in frame:
        return gpd.GeoSeries(frame["geometry"].values, index=frame.index)
    if "lat" in frame and "lon" in frame:
        lat, lon = pd.to_numeric(frame["lat"]), pd.to_numeric(frame["lon"])
        points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=frame.index)
        return points.where(lon.notna() & lat.notna(), None)
    return gpd.GeoSeries([None] * len(frame), index=frame.index)


def outside_area(frame: pd.DataFrame, area_id: str, areas: gpd.GeoDataFrame) -> pd.Series:
    """True for each row of ``frame`` that is not inside area ``area_id`` of ``areas`` (see the module).

    A row with neither a point nor an ``area_id`` is outside: an area-limited user cannot place it.
    """
    polygon = areas.loc[areas["area_id"] == area_id, "geometry"]
    if not len(polygon):
        return pd.Series(True, index=frame.index)
    polygon = polygon.iloc[0]
    points = _points(frame)
    has_point = points.notna() & ~points.is_empty.fillna(True)
    inside = pd.Series(False, index=frame.index)
    if has_point.any():
        inside[has_point] = points[has_point].intersects(polygon).to_numpy()
    if "area_id" in frame:
        ids = frame["area_id"]
        centres = areas.set_index("area_id").geometry.representative_point()
        within = set(centres.index[centres.intersects(polygon)]) | {area_id}
        inside |= ~has_point & ids.isin(within)
    return ~inside


class UserWorkspace:
    """``ws`` as ``user`` may use it: every write checked by role and area (see the module).

    Attributes not overridden here (reads, ``location``, ``backend`` …) are the workspace's own.
    """

    def __init__(self, ws: Workspace, user: User) -> None:
        self.workspace = ws
        self.user = user

    def __repr__(self) -> str:
        return f"UserWorkspace({self.workspace.location!r}, user={self.user.login!r})"

    def __getattr__(self, name: str):
        if name in _WHOLE:
            self._require_whole(name)
        return getattr(self.workspace, name)

    # ------------------------------------------------------------ checks

    def _require(self, layer: str) -> None:
        if not can_write(self.user, layer):
            need = _ROLE_NAMES[LAYER_CAPABILITY.get(layer, "edit")]
            label = STORED_LAYERS[layer].label if layer in STORED_LAYERS else layer
            raise PermissionDeniedError(f"{self.user.display_name} さん(役割「{self.user.role_label}」)は"
                                        f"{label}を変更できません(役割「{need}」以上が必要です)。")

    def _require_whole(self, what: str) -> None:
        self._require("resources")
        if self.area_id:
            raise PermissionDeniedError(f"担当区域のある利用者はワークスペース全体の変更 ({what}) はできません。"
                                        "管理の役割の利用者に依頼してください。")

    def _area_name(self) -> str:
        areas = self.workspace.read("areas")
        hit = areas.loc[areas["area_id"] == self.user.area_id, "name"]
        return f"{hit.iloc[0]} ({self.user.area_id})" if len(hit) else str(self.user.area_id)

    @property
    def area_id(self) -> str | None:
        """The area this user's changes are limited to (``None``: the whole city; 管理 is never limited)."""
        return None if self.user.role == "admin" else self.user.area_id

    def check_inside(self, layer: str, frame: pd.DataFrame) -> None:
        """Raise ``PermissionDeniedError`` when a row of ``frame`` (of ``layer``) lies outside the user's area."""
        if not self.area_id or not len(frame) or layer not in STORED_LAYERS:
            return
        if not (STORED_LAYERS[layer].geometry or "area_id" in frame or {"lat", "lon"} <= set(frame.columns)):
            return  # not about a place (ties, councils …): the role decides
        outside = outside_area(frame, self.area_id, self.workspace.read("areas"))
        if outside.any():
            id_col = STORED_LAYERS[layer].id_column
            ids = [str(x) for x in frame.loc[outside, id_col]] if id_col in frame else []
            which = f" {', '.join(ids[:5])}" if ids else ""
            raise PermissionDeniedError(
                f"{STORED_LAYERS[layer].label}{which} は担当区域 {self._area_name()} の外にあるため変更できません。"
                "担当区域の中の資源・会場・活動・団体だけを編集できます(区域の外は管理の役割の利用者に依頼してください)。")

    def _current(self, layer: str, feature_id: str) -> pd.DataFrame:
        frame = self.workspace.read(layer)
        return frame[frame[STORED_LAYERS[layer].id_column] == feature_id]

    def _by(self, user: str | None) -> str:
        return user or self.user.login

    # ------------------------------------------------------------ writes of features

    def update_feature(self, name: str, feature_id: str, changes: Mapping[str, object], *, user: str | None = None,
                       **kwargs) -> pd.Series:
        """:meth:`Workspace.update_feature`, when the user may change this feature (before and after)."""
        self._require(name)
        current = self._current(name, feature_id)
        self.check_inside(name, current)
        if self.area_id and len(current):
            after = current.copy()
            for key, value in changes.items():
                if key in after.columns:
                    after[key] = [value] * len(after)
            self.check_inside(name, after)
        return self.workspace.update_feature(name, feature_id, changes, user=self._by(user), **kwargs)

    def add_feature(self, name: str, values: Mapping[str, object], *, user: str | None = None, **kwargs) -> pd.Series:
        """:meth:`Workspace.add_feature`, when the new feature lies in the user's area."""
        self._require(name)
        row = pd.DataFrame([dict(values)])
        if "geometry" in row:
            row = gpd.GeoDataFrame(row, geometry="geometry")
        self.check_inside(name, row)
        return self.workspace.add_feature(name, values, user=self._by(user), **kwargs)

    def delete_feature(self, name: str, feature_id: str, *, user: str | None = None, **kwargs) -> None:
        """:meth:`Workspace.delete_feature`, when the feature lies in the user's area."""
        self._require(name)
        self.check_inside(name, self._current(name, feature_id))
        return self.workspace.delete_feature(name, feature_id, user=self._by(user), **kwargs)

    def import_result(self, name: str, result, *, user: str | None = None, updates: pd.DataFrame | None = None,
                      **kwargs) -> int:
        """:meth:`Workspace.import_result`, when every accepted and updated row lies in the user's area."""
        layer = "resources" if name in ("areas", "town_blocks") else name
        if name in ("areas", "town_blocks"):
            self._require_whole("import:areas")
        self._require(layer)
        if kwargs.get("mode") in ("replace", "refresh") and self.area_id:
            raise PermissionDeniedError("担当区域のある利用者は一覧の置き換え・再取込はできません(追加だけ)。")
        self.check_inside(name, result.accepted)
        if updates is not None:
            self.check_inside(name, updates)
        return self.workspace.import_result(name, result, user=self._by(user), updates=updates, **kwargs)

    def record_confirmations(self, rows, *, user: str | None = None, **kwargs) -> pd.DataFrame:
        """:meth:`Workspace.record_confirmations` of resources in the user's area."""
        self._require("resources")
        ids = {str(r["resource_id"]) for r in (rows.to_dict("records") if isinstance(rows, pd.DataFrame) else rows)}
        resources = self.workspace.read("resources")
        self.check_inside("resources", resources[resources["resource_id"].isin(ids)])
        return self.workspace.record_confirmations(rows, user=self._by(user), **kwargs)

    def confirm_resource(self, resource_id: str, *, user: str | None = None, **kwargs) -> pd.Series:
        """:meth:`Workspace.confirm_resource` of a resource in the user's area."""
        self._require("resources")
        self.check_inside("resources", self._current("resources", resource_id))
        return self.workspace.confirm_resource(resource_id, user=self._by(user), **kwargs)

    def flag_resources(self, resource_ids: list[str], *, user: str | None = None, **kwargs) -> int:
        """:meth:`Workspace.flag_resources` (要確認) of resources in the user's area."""
        self._require("resources")
        resources = self.workspace.read("resources")
        self.check_inside("resources", resources[resources["resource_id"].isin(set(resource_ids))])
        return self.workspace.flag_resources(resource_ids, user=self._by(user), **kwargs)

    def place_unplaced(self, unplaced_id: str, *, user: str | None = None, **kwargs) -> pd.Series:
        """:meth:`Workspace.place_unplaced` for a user who may write the row's layer, inside the area."""
        pending = self.workspace.read("unplaced")
        hit = pending[pending["unplaced_id"] == unplaced_id]
        layer = str(hit["layer"].iloc[0]) if len(hit) else "resources"
        self._require(layer)
        if self.area_id:
            lon, lat = kwargs.get("lon"), kwargs.get("lat")
            where = pd.DataFrame({"area_id": [kwargs.get("town_block")]}) if lon is None else \
                gpd.GeoDataFrame(geometry=[Point(float(lon), float(lat))])
            self.check_inside(layer, where)
        return self.workspace.place_unplaced(unplaced_id, user=self._by(user), **kwargs)

    def discard_unplaced(self, unplaced_id: str, *, user: str | None = None) -> None:
        """:meth:`Workspace.discard_unplaced` for a user who may write the row's layer."""
        pending = self.workspace.read("unplaced")
        hit = pending[pending["unplaced_id"] == unplaced_id]
        self._require(str(hit["layer"].iloc[0]) if len(hit) else "resources")
        return self.workspace.discard_unplaced(unplaced_id, user=self._by(user))

    def set_meta(self, values: Mapping[str, object], *, user: str | None = None) -> None:
        """:meth:`Workspace.set_meta` (e.g. the geocoding source an import used): 編集 and up."""
        self._require("resources")
        return self.workspace.set_meta(values, user=self._by(user))

    def transaction(self, **kwargs):
        """:meth:`Workspace.transaction` for library functions that write (activities, plans …): 編集 and up."""
        self._require("activities")
        return self.workspace.transaction(**kwargs)
