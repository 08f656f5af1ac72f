"""One settings object with documented defaults, overridable per call and from ``scgeo.toml``.

Example ``scgeo.toml`` in the working directory (or given with ``load_settings(path)``)::

    walk_speed_m_per_min = 55.0
    stale_months = 6
    confirm_months = 12
    confidence_weights = { due = 0.8, overdue = 0.4 }
    taxonomy_file = "my_city_categories.toml"
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from scgeo._errors import InputError

__all__ = ["DEFAULT_CONFIDENCE", "Settings", "get_settings", "load_settings", "set_settings"]

# Supply weight of a resource by its confirmation state (see scgeo.analysis.freshness).
DEFAULT_CONFIDENCE = {"confirmed": 1.0, "due": 0.7, "overdue": 0.3, "long_unconfirmed": 0.0, "needs_review": 0.3}


@dataclass(frozen=True)
class Settings:
    """Project-wide settings.

    Attributes
    ----------
    workspace_crs
        CRS every layer is stored in: JGD2011 geographic (EPSG:6668).
    walk_speed_m_per_min
        Walking speed of older residents. 60 m/min (1.0 m/s) is the figure used for older
        pedestrians in Japanese planning practice (cf. 国土交通省 歩行者移動支援 guidance, which
        assumes 1.0 m/s for elderly walkers against 1.3 m/s for adults).
    walk_thresholds_min
        Walk-time thresholds in minutes for catchments and coverage.
    stale_months
        A resource whose ``last_confirmed`` is older than this many months is "unconfirmed".
    suppress_below
        Aggregated need counts below this number are suppressed in public outputs.
    japan_bbox
        (min_lon, min_lat, max_lon, max_lat) of the area treated as "inside Japan".
    taxonomy_file
        Optional TOML file that extends the bundled category taxonomy.
    max_upload_mb
        Largest file the app accepts for import.
    confirm_months
        Months between two confirmations of a resource when neither its category nor its
        provider type sets ``confirm_months`` in the taxonomy (住民主体 6, care providers 12).
    confirm_leeway_months
        After the interval, a resource is 確認時期 (due) for this many months, then 期限切れ.
    confirm_long_factor
        A resource unconfirmed for this many intervals (or never confirmed) is 長期未確認.
    confidence_weights
        Supply weight by confirmation state (``confirmed``, ``due``, ``overdue``,
        ``long_unconfirmed``, ``needs_review``), used by effective coverage and matching.
    verify_return_address
        Return address printed on the 確認依頼 sheets (default: the municipality's SC).
    geocode_source
        Where addresses without coordinates are looked up on import when the workspace stores
        no source of its own (``gazetteer:FILE``, ``jageocoder:DIR``, ``town-blocks`` …; see
        :mod:`scgeo.geocode.sources`).
    backup_generations
        How many earlier versions of a workspace file are kept (in ``<name>.backups/`` beside
        it) each time it is replaced; ``scgeo restore`` brings one back. 0 keeps none.
    max_rows
        Most data rows read from one CSV/xlsx file (stopped while streaming; Japanese message, rc 2).
    max_cells
        Most cells (rows × columns) read from one CSV/xlsx file.
    max_unzipped_mb
        Most megabytes a zip (a zipped Shapefile, an xlsx) may unpack to, by its own declaration.
    max_zip_ratio
        Highest compression ratio of a zip member larger than 1 MB (zip bombs compress thousands
        of times; real Shapefiles far less).
    max_zip_files
        Most files in one zip.
    login_free_failures, login_lockout_failures, login_global_lockout_failures, login_lockout_minutes
        The app's login (off loopback): wrong passwords in a session before each further try must
        wait (1, 2, 4 … up to 30 seconds), wrong passwords that lock the session, wrong passwords
        over all sessions within the lockout time that lock every login, and the lockout time.
    login_idle_minutes
        A logged-in app session (a workspace user's, or the shared password's) that did nothing for
        this many minutes is logged out (8 hours: one working day). 0: never.
    lock_timeout_s
        How long a write waits for another writer of the same workspace before giving up
        with 「他の人が更新中です」.
    """

    workspace_crs: str = "EPSG:6668"
    walk_speed_m_per_min: float = 60.0
    walk_thresholds_min: tuple[int, ...] = (5, 10, 15)
    stale_months: int = 12
    suppress_below: int = 5
    japan_bbox: tuple[float, float, float, float] = (122.0, 20.0, 154.0, 46.0)
    taxonomy_file: str | None = None
    max_upload_mb: int = 50
    confirm_months: int = 12
    confirm_leeway_months: int = 2
    confirm_long_factor: float = 2.0
    confidence_weights: dict = field(default_factory=lambda: dict(DEFAULT_CONFIDENCE))
    verify_return_address: str | None = None
    geocode_source: str | None = None
    backup_generations: int = 10
    max_rows: int = 200_000
    max_cells: int = 10_000_000
    max_unzipped_mb: int = 512
    max_zip_ratio: float = 200.0
    max_zip_files: int = 1000
    login_free_failures: int = 3
    login_lockout_failures: int = 10
    login_global_lockout_failures: int = 30
    login_lockout_minutes: float = 15.0
    login_idle_minutes: float = 480.0
    lock_timeout_s: float = 30.0
    extra: dict = field(default_factory=dict)

    def replace(self, **changes) -> Settings:
        """Return a copy with ``changes`` applied (unknown names raise ``InputError``)."""
        return _build(dataclasses.asdict(self) | changes)


def _build(values: dict) -> Settings:
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"設定項目 {', '.join(unknown)} は存在しません。使える項目: {', '.join(sorted(known))}")
    for key in ("walk_thresholds_min", "japan_bbox"):
        if key in values and not isinstance(values[key], tuple):
            values[key] = tuple(values[key])
    if "confidence_weights" in values:
        weights = {**DEFAULT_CONFIDENCE, **dict(values["confidence_weights"])}
        unknown = sorted(set(weights) - set(DEFAULT_CONFIDENCE))
        bad = [k for k, v in weights.items() if not isinstance(v, (int, float)) or not 0 <= v <= 1]
        if unknown or bad:
            raise InputError(f"confidence_weights の項目 {', '.join(unknown + bad)} が不正です。"
                             f"使える項目: {', '.join(DEFAULT_CONFIDENCE)}(値は0〜1)")
        values["confidence_weights"] = {k: float(v) for k, v in weights.items()}
    return Settings(**values)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from a TOML file; defaults for what it does not name.

    With no ``path``, ``scgeo.toml`` in the working directory is read when present.
    """
    if path is None:
        path = Path("scgeo.toml")
        if not path.exists():
            return Settings()
    path = Path(path)
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"設定ファイル {path} を読めません: {exc}") from exc
    return _build(values)


_current: Settings | None = None


def get_settings() -> Settings:
    """The settings in force (loaded once from ``scgeo.toml`` when present)."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def set_settings(settings: Settings | None) -> None:
    """Replace the settings in force (``None`` reloads them on next use)."""
    global _current
    _current = settings
