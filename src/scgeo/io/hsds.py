"""Open Referral HSDS 3.0, tabular form: resources and organisations to and from referral directories.

The Human Services Data Specification (HSDS) is what referral directories exchange. Its tabular
form is a folder of CSV files named as in the specification's ``datapackage.json``
(``organizations.csv``, ``services.csv``, ``locations.csv``, ``service_at_location.csv``,
``schedules.csv``, ``service_areas.csv`` …) with a ``datapackage.json`` describing them.

How scgeo maps onto it:

- an organisation → ``organizations`` (+ ``organization_identifiers`` with scheme ``scgeo``
  holding ``org_id``; + a ``locations`` row when it has a position; + ``phones`` for a contact
  that is a phone number);
- a resource → one ``services`` row (its operator as ``organization_id``; a resource with no
  operator is attached to one organisation standing for 「運営団体未登録」), one ``locations``
  row (``external_identifier`` = ``resource_id``, type ``scgeo:resource_id``), their
  ``service_at_location``, a ``schedules`` row (``byday`` from ``days_of_week``, the schedule text
  as ``description``), ``service_areas`` (``uri`` = ``urn:scgeo:area:<area_id>``) for resources
  that serve an area, ``phones`` for a phone contact;
- ``last_confirmed`` → ``assured_date`` (checked), kept apart from ``last_modified`` (changed);
  status active / paused / closed → ``active`` / ``temporarily closed`` / ``defunct``;
- category, provider type, capacity and source → ``attributes`` on terms of the taxonomy
  ``scgeo`` (``taxonomies`` / ``taxonomy_terms``), so another directory can read them and an
  import gets them back.

Ids are UUIDs derived from the municipality code and scgeo's own ids (``uuid5``), so exporting the
same workspace twice gives the same bytes, and export → import → export gives the same files.
Addresses: HSDS requires a postal code on ``addresses``; an address with a 〒 code is written
there, every address is also written as ``locations.description`` (「所在地: …」).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.schema import RESOURCES, ImportResult, load_taxonomy, validate
from scgeo.sheets import neutralise, restore_text

__all__ = ["HSDS_FILES", "HSDS_VERSION", "export_hsds", "read_hsds"]

HSDS_VERSION = "3.0"
#: Column order of each tabular file, as in the HSDS 3.0 ``datapackage.json``.
HSDS_FILES: dict[str, tuple[str, ...]] = {
    "organizations.csv": (
        "id",
        "name",
        "alternate_name",
        "description",
        "email",
        "website",
        "tax_status",
        "tax_id",
        "year_incorporated",
        "legal_status",
        "logo",
        "uri",
        "parent_organization_id",
    ),
    "organization_identifiers.csv": ("id", "organization_id", "identifier_scheme", "identifier_type", "identifier"),
    "services.csv": (
        "id",
        "organization_id",
        "program_id",
        "name",
        "alternate_name",
        "description",
        "url",
        "email",
        "status",
        "interpretation_services",
        "application_process",
        "fees_description",
        "wait_time",
        "fees",
        "accreditations",
        "eligibility_description",
        "minimum_age",
        "maximum_age",
        "assured_date",
        "assurer_email",
        "licenses",
        "alert",
        "last_modified",
    ),
    "locations.csv": (
        "id",
        "location_type",
        "url",
        "organization_id",
        "name",
        "alternate_name",
        "description",
        "transportation",
        "latitude",
        "longitude",
        "external_identifier",
        "external_identifier_type",
    ),
    "service_at_location.csv": ("id", "service_id", "location_id", "description"),
    "addresses.csv": (
        "id",
        "location_id",
        "attention",
        "address_1",
        "address_2",
        "city",
        "region",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    ),
    "phones.csv": (
        "id",
        "location_id",
        "service_id",
        "organization_id",
        "contact_id",
        "service_at_location_id",
        "number",
        "extension",
        "type",
        "description",
    ),
    "schedules.csv": (
        "id",
        "service_id",
        "location_id",
        "service_at_location_id",
        "valid_from",
        "valid_to",
        "dtstart",
        "timezone",
        "until",
        "count",
        "wkst",
        "freq",
        "interval",
        "byday",
        "byweekno",
        "bymonthday",
        "byyearday",
        "description",
        "opens_at",
        "closes_at",
        "schedule_link",
        "attending_type",
        "notes",
    ),
    "service_areas.csv": ("id", "service_id", "name", "description", "extent", "extent_type", "uri"),
    "taxonomies.csv": ("id", "name", "description", "uri", "version"),
    "taxonomy_terms.csv": (
        "id",
        "code",
        "name",
        "description",
        "parent_id",
        "taxonomy",
        "language",
        "taxonomy_id",
        "term_uri",
    ),
    "attributes.csv": ("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value"),
}
# Field types of the columns that are not strings (the rest are strings), for datapackage.json.
_TYPES = {
    "year_incorporated": "number",
    "minimum_age": "number",
    "maximum_age": "number",
    "assured_date": "date",
    "last_modified": "datetime",
    "latitude": "number",
    "longitude": "number",
    "extension": "number",
    "valid_from": "date",
    "valid_to": "date",
    "dtstart": "date",
    "timezone": "number",
    "until": "date",
    "count": "number",
    "interval": "number",
    "opens_at": "time",
    "closes_at": "time",
}
_RESOURCE_NAMES = {
    "organizations.csv": "organization",
    "organization_identifiers.csv": "organization_identifier",
    "services.csv": "service",
    "locations.csv": "location",
    "service_at_location.csv": "service_at_location",
    "addresses.csv": "address",
    "phones.csv": "phone",
    "schedules.csv": "schedule",
    "service_areas.csv": "service_area",
    "taxonomies.csv": "taxonomy",
    "taxonomy_terms.csv": "taxonomy_term",
    "attributes.csv": "attribute",
}
_STATUS_OUT = {"active": "active", "paused": "temporarily closed", "closed": "defunct"}
_STATUS_IN = {"active": "active", "temporarily closed": "paused", "inactive": "paused", "defunct": "closed"}
_BYDAY = dict(zip("月火水木金土日", ("MO", "TU", "WE", "TH", "FR", "SA", "SU"), strict=True))
_PHONE = re.compile(r"^\+?[\d\-() ]{6,}$")
_POSTAL = re.compile(r"〒?\s*(\d{3}-\d{4})")
_TERMS = ("category", "provider_type", "capacity", "source", "org_kind")
_NO_OPERATOR = "__no_operator__"
_ID_SCHEME = "scgeo"


def _uid(muni: str, kind: str, key: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:scgeo:{muni}:{kind}:{key}"))


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(HSDS_FILES[name]))
    return frame.sort_values("id", kind="stable").reset_index(drop=True) if len(frame) else frame


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)


def export_hsds(
    out_dir: str | Path,
    *,
    resources: gpd.GeoDataFrame,
    organisations: pd.DataFrame,
    areas: gpd.GeoDataFrame | None = None,
    muni_code: str,
    muni_name: str = "",
    prefecture: str = "",
) -> dict[str, Path]:
    """Write resources and organisations as an HSDS 3.0 tabular data package.

    Parameters
    ----------
    out_dir
        Folder to write the CSV files and ``datapackage.json`` into (created if needed).
    resources, organisations
        The workspace layers.
    areas
        The workspace's areas (names of served areas).
    muni_code, muni_name, prefecture
        The municipality: part of every id, and the ``city`` / ``state_province`` of addresses.

    Returns
    -------
    dict
        The path of each file written, by file name.
    """
    muni = str(muni_code)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[dict]] = {name: [] for name in HSDS_FILES}
    tax_id = _uid(muni, "taxonomy", _ID_SCHEME)
    tables["taxonomies.csv"].append(
        {
            "id": tax_id,
            "name": "scgeo",
            "description": "scgeo の種別・提供主体・定員・出典(地域資源の分類)",
            "uri": "urn:scgeo:taxonomy",
            "version": "1",
        }
    )
    term_ids = {}
    for term in _TERMS:
        term_ids[term] = _uid(muni, "term", term)
        tables["taxonomy_terms.csv"].append(
            {
                "id": term_ids[term],
                "code": term,
                "name": term,
                "description": f"scgeo の項目 {term}",
                "taxonomy": "scgeo",
                "language": "ja",
                "taxonomy_id": tax_id,
            }
        )

    def attribute(link_id, link_entity, term, value):
        if _text(value) is None:
            return
        tables["attributes.csv"].append(
            {
                "id": _uid(muni, f"attr:{term}", link_id),
                "link_id": link_id,
                "taxonomy_term_id": term_ids[term],
                "link_type": term,
                "link_entity": link_entity,
                "value": _text(value),
            }
        )

    def phone(contact, owner: dict):
        if _text(contact) and _PHONE.match(str(contact)):
            key = owner.get("service_id") or owner.get("organization_id")
            tables["phones.csv"].append(
                {"id": _uid(muni, "phone", key), "number": str(contact), "type": "voice", **owner}
            )
            return True
        return False

    org_ids = {}
    for row in organisations.sort_values("org_id").itertuples(index=False):
        oid = org_ids[row.org_id] = _uid(muni, "org", row.org_id)
        contact = _text(row.contact)
        email = contact if contact and "@" in contact else None
        tables["organizations.csv"].append(
            {
                "id": oid,
                "name": row.name,
                "alternate_name": None,
                "description": _text(row.notes) or taxonomy_label(row.kind),
                "email": email,
            }
        )
        tables["organization_identifiers.csv"].append(
            {
                "id": _uid(muni, "orgident", row.org_id),
                "organization_id": oid,
                "identifier_scheme": _ID_SCHEME,
                "identifier_type": "org_id",
                "identifier": row.org_id,
            }
        )
        attribute(oid, "organization", "org_kind", row.kind)
        if not email:
            phone(contact, {"organization_id": oid})
        if pd.notna(row.lat) and pd.notna(row.lon):
            lid = _uid(muni, "orgloc", row.org_id)
            tables["locations.csv"].append(
                {
                    "id": lid,
                    "location_type": "physical",
                    "organization_id": oid,
                    "name": row.name,
                    "latitude": _num(row.lat),
                    "longitude": _num(row.lon),
                    "description": _address_text(row.address),
                    "external_identifier": row.org_id,
                    "external_identifier_type": "scgeo:org_id",
                }
            )
            _address(tables, muni, lid, row.address, muni_name, prefecture)
    placeholder = None
    area_names = dict(zip(areas["area_id"], areas["name"], strict=True)) if areas is not None else {}
    points = resources.to_crs(4326) if len(resources) and resources.crs else resources
    for row in points.sort_values("resource_id").itertuples(index=False):
        oid = org_ids.get(_text(row.operator_id))
        if oid is None:
            if placeholder is None:
                placeholder = _uid(muni, "org", _NO_OPERATOR)
                tables["organizations.csv"].append(
                    {
                        "id": placeholder,
                        "name": "(運営団体未登録)",
                        "description": f"{muni_name or muni} の運営団体が登録されていない地域資源",
                    }
                )
                tables["organization_identifiers.csv"].append(
                    {
                        "id": _uid(muni, "orgident", _NO_OPERATOR),
                        "organization_id": placeholder,
                        "identifier_scheme": _ID_SCHEME,
                        "identifier_type": "placeholder",
                        "identifier": _NO_OPERATOR,
                    }
                )
            oid = placeholder
        sid, lid = _uid(muni, "service", row.resource_id), _uid(muni, "location", row.resource_id)
        said = _uid(muni, "sal", row.resource_id)
        contact = _text(row.contact)
        tables["services.csv"].append(
            {
                "id": sid,
                "organization_id": oid,
                "name": row.name,
                "description": _text(row.notes),
                "email": contact if contact and "@" in contact else None,
                "status": _STATUS_OUT.get(row.status or "active", "active"),
                "fees_description": _text(row.fee),
                "eligibility_description": _text(row.target),
                "assured_date": _text(row.last_confirmed),
            }
        )
        tables["locations.csv"].append(
            {
                "id": lid,
                "location_type": "physical",
                "organization_id": oid,
                "name": row.name,
                "description": _address_text(row.address),
                "latitude": _num(row.geometry.y),
                "longitude": _num(row.geometry.x),
                "external_identifier": row.resource_id,
                "external_identifier_type": "scgeo:resource_id",
            }
        )
        tables["service_at_location.csv"].append({"id": said, "service_id": sid, "location_id": lid})
        _address(tables, muni, lid, row.address, muni_name, prefecture)
        if not (contact and "@" in contact):
            phone(contact, {"service_id": sid, "location_id": lid, "service_at_location_id": said})
        if _text(row.days_of_week) or _text(row.schedule):
            days = [_BYDAY[d] for d in str(row.days_of_week or "").split(",") if d in _BYDAY]
            tables["schedules.csv"].append(
                {
                    "id": _uid(muni, "schedule", row.resource_id),
                    "service_id": sid,
                    "location_id": lid,
                    "service_at_location_id": said,
                    "freq": "WEEKLY" if days else None,
                    "byday": ",".join(days) or None,
                    "description": _text(row.schedule),
                }
            )
        if _text(row.served_area_id):
            tables["service_areas.csv"].append(
                {
                    "id": _uid(muni, "area", row.resource_id),
                    "service_id": sid,
                    "name": area_names.get(row.served_area_id, row.served_area_id),
                    "uri": f"urn:scgeo:area:{row.served_area_id}",
                }
            )
        for term in ("category", "provider_type", "capacity", "source"):
            attribute(sid, "service", term, getattr(row, term))
    written = {}
    for name in HSDS_FILES:
        frame = _frame(name, tables[name])
        path = out / name
        neutralise(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")  # safe in Excel
        written[name] = path
    written["datapackage.json"] = _write_datapackage(out, muni, muni_name)
    return written


def taxonomy_label(code: object) -> str:
    """Japanese label of an organisation kind code (the code when unknown)."""
    from scgeo.io.organisations import load_organisation_kinds

    kinds = load_organisation_kinds()
    return kinds[code].label if code in kinds else str(code or "団体")


def _num(value: float) -> str:
    return f"{float(value):.7f}".rstrip("0").rstrip(".")


def _address_text(address: object) -> str | None:
    return f"所在地: {address}" if _text(address) else None


def _address(tables, muni, location_id, address, city, prefecture) -> None:
    text = _text(address)
    match = _POSTAL.search(text or "")
    if not match:
        return
    rest = _POSTAL.sub("", text).strip()
    tables["addresses.csv"].append(
        {
            "id": _uid(muni, "address", location_id),
            "location_id": location_id,
            "address_1": rest or text,
            "city": city or muni,
            "state_province": prefecture or city or muni,
            "postal_code": match.group(1),
            "country": "JP",
            "address_type": "physical",
        }
    )


def _write_datapackage(out: Path, muni: str, muni_name: str) -> Path:
    resources = []
    for name, columns in HSDS_FILES.items():
        fields = []
        for col in columns:
            entry = {"name": col, "type": _TYPES.get(col, "string")}
            if col == "id" or (col.endswith("_id") and col not in ("tax_id", "external_identifier")):
                entry["format"] = "uuid"
            fields.append(entry)
        resources.append(
            {
                "name": _RESOURCE_NAMES[name],
                "path": name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": fields, "primaryKey": "id"},
            }
        )
    package = {
        "name": f"scgeo-{muni}",
        "title": f"{muni_name or muni} の地域資源 (HSDS {HSDS_VERSION})",
        "profile": "tabular-data-package",
        "version": HSDS_VERSION,
        "homepage": "https://docs.openreferral.org/",
        "resources": resources,
    }
    path = out / "datapackage.json"
    path.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- import


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        return pd.DataFrame(columns=list(HSDS_FILES[name]))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").map(restore_text)
    return frame.astype(object).where(frame.ne(""), None)


def read_hsds(
    folder: str | Path, *, existing_resource_ids: set[str] | None = None, existing_org_ids: set[str] | None = None
) -> dict[str, ImportResult]:
    """Read an HSDS 3.0 tabular package into scgeo's ``organisations`` and ``resources``.

    Files written by :func:`export_hsds` come back exactly (ids, categories, operators, status,
    schedule, served area, ``assured_date`` as ``last_confirmed``). Other directories' packages
    import as far as they map: an organisation without an scgeo identifier gets an id ``H…``
    from its UUID; a service's category is read from its ``scgeo`` attributes, else from the
    names of its taxonomy terms; a service whose category or position cannot be found is
    rejected with the reason (not dropped).

    Returns
    -------
    dict
        ``{"organisations": ImportResult, "resources": ImportResult}``.
    """
    folder = Path(folder)
    if not (folder / "organizations.csv").is_file() and not (folder / "services.csv").is_file():
        raise InputError(f"{folder} に HSDS の organizations.csv / services.csv がありません。")
    tables = {name: _read(folder, name) for name in HSDS_FILES}
    idents = tables["organization_identifiers.csv"]
    scgeo_ids = idents[idents["identifier_scheme"] == _ID_SCHEME]
    org_key = dict(zip(scgeo_ids["organization_id"], scgeo_ids["identifier"], strict=True))
    attrs = tables["attributes.csv"]
    terms = tables["taxonomy_terms.csv"]
    term_code = dict(zip(terms["id"], terms["code"].where(terms["taxonomy"] == "scgeo"), strict=True))
    attr = attrs.assign(term=attrs["taxonomy_term_id"].map(term_code))
    by_link = {(r.link_id, r.term): r.value for r in attr.itertuples(index=False) if isinstance(r.term, str)}
    term_names = attrs.assign(name=attrs["taxonomy_term_id"].map(dict(zip(terms["id"], terms["name"], strict=True))))
    phones = tables["phones.csv"]

    orgs = tables["organizations.csv"]
    orgs = orgs[orgs["id"].map(org_key) != _NO_OPERATOR]
    org_locs = tables["locations.csv"]
    org_locs = org_locs[org_locs["external_identifier_type"] == "scgeo:org_id"].set_index("organization_id")
    org_phone = (
        phones.dropna(subset=["organization_id"])
        .drop_duplicates("organization_id")
        .set_index("organization_id")["number"]
    )
    ids = orgs["id"].map(lambda u: org_key.get(u) or f"H{u.replace('-', '')[:12]}")
    org_frame = pd.DataFrame(
        {
            "org_id": ids.to_numpy(),
            "name": orgs["name"].to_numpy(),
            "kind": [by_link.get((u, "org_kind"), "other") for u in orgs["id"]],
            "contact": [org_phone.get(u) or e for u, e in zip(orgs["id"], orgs["email"], strict=True)],
            "notes": [
                None if org_key.get(u) and d == taxonomy_label(by_link.get((u, "org_kind"))) else d
                for u, d in zip(orgs["id"], orgs["description"], strict=True)
            ],
            "lat": [_float(org_locs["latitude"].get(u)) for u in orgs["id"]],
            "lon": [_float(org_locs["longitude"].get(u)) for u in orgs["id"]],
            "address": [_strip_address(org_locs["description"].get(u)) for u in orgs["id"]],
            "source": "HSDS",
        }
    )
    org_frame["source_row"] = np.arange(1, len(org_frame) + 1)
    from scgeo.io.organisations import read_network_table

    org_result = read_network_table(org_frame.set_index("source_row"), "organisations", existing_ids=existing_org_ids)
    org_of = dict(zip(orgs["id"], ids, strict=True))

    services = tables["services.csv"].set_index("id")
    sal = tables["service_at_location.csv"].drop_duplicates("service_id").set_index("service_id")
    locs = tables["locations.csv"].set_index("id")
    sched = tables["schedules.csv"].drop_duplicates("service_id").set_index("service_id")
    areas = tables["service_areas.csv"].drop_duplicates("service_id").set_index("service_id")
    service_phone = phones.dropna(subset=["service_id"]).drop_duplicates("service_id").set_index("service_id")["number"]
    taxonomy = load_taxonomy()
    rows = []
    for sid, s in services.iterrows():
        loc = (
            locs.loc[sal.loc[sid, "location_id"]]
            if sid in sal.index and sal.loc[sid, "location_id"] in locs.index
            else None
        )
        category = by_link.get((sid, "category"))
        if category is None:
            names = term_names.loc[term_names["link_id"] == sid, "name"].dropna()
            category = next((taxonomy.resolve_category(n) for n in names if taxonomy.resolve_category(n)), None)
        days = sched["byday"].get(sid) if sid in sched.index else None
        inverse = {v: k for k, v in _BYDAY.items()}
        uri = areas["uri"].get(sid) if sid in areas.index else None
        rows.append(
            {
                "resource_id": (
                    loc["external_identifier"]
                    if loc is not None and loc["external_identifier_type"] == "scgeo:resource_id"
                    else f"H{sid.replace('-', '')[:12]}"
                ),
                "name": s["name"],
                "category": category or s.get("name"),
                "provider_type": by_link.get((sid, "provider_type")),
                "operator_id": None
                if org_key.get(s["organization_id"]) == _NO_OPERATOR
                else org_of.get(s["organization_id"]),
                "address": _strip_address(loc["description"]) if loc is not None else None,
                "schedule": sched["description"].get(sid) if sid in sched.index else None,
                "days_of_week": ",".join(inverse[d] for d in str(days).split(",") if d in inverse) if days else None,
                "capacity": by_link.get((sid, "capacity")),
                "fee": s["fees_description"],
                "contact": service_phone.get(sid) or s["email"],
                "target": s["eligibility_description"],
                "served_area_id": uri.removeprefix("urn:scgeo:area:")
                if isinstance(uri, str) and uri.startswith("urn:scgeo:area:")
                else None,
                "status": _STATUS_IN.get(s["status"] or "active", "active"),
                "last_confirmed": s["assured_date"],
                "source": by_link.get((sid, "source")) or "HSDS",
                "notes": s["description"],
                "lat": _float(loc["latitude"]) if loc is not None else None,
                "lon": _float(loc["longitude"]) if loc is not None else None,
            }
        )
    frame = pd.DataFrame(rows, columns=[*RESOURCES.names, "lat", "lon"])
    frame["source_row"] = np.arange(1, len(frame) + 1)
    frame = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326)
    frame = frame.to_crs("EPSG:6668")
    result = validate(
        frame.drop(columns=["lat", "lon"]), RESOURCES, taxonomy=taxonomy, existing_ids=existing_resource_ids
    )
    return {"organisations": org_result, "resources": result}


def _float(value: object) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _strip_address(text: object) -> str | None:
    return str(text).removeprefix("所在地: ") if isinstance(text, str) and text.startswith("所在地: ") else None
