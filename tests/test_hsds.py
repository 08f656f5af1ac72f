"""Open Referral HSDS 3.0: the export validates against the specification's own schemas and round-trips."""

import datetime as dt
import json
import uuid
from pathlib import Path

import pandas as pd
import pytest

from scgeo.io.hsds import HSDS_FILES, export_hsds, read_hsds

HSDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "hsds"
needs_spec = pytest.mark.skipif(
    not (HSDS / "datapackage.json").is_file(), reason="../shared/data/hsds (the HSDS 3.0 specification files) is absent"
)


def _export(ws, out):
    return export_hsds(
        out,
        resources=ws.read("resources"),
        organisations=ws.read("organisations"),
        areas=ws.areas(),
        muni_code="99201",
        muni_name="さくら市",
        prefecture="架空県",
    )


def _check_value(value: str, spec: dict) -> str | None:
    kind, fmt = spec.get("type"), spec.get("format")
    enum = spec.get("enum") or spec.get("constraints", {}).get("enum")
    try:
        if kind in ("number", "integer"):
            float(value)
        elif kind == "date":
            dt.date.fromisoformat(value)
        elif kind == "datetime" or fmt == "date-time":
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif kind == "time":
            dt.time.fromisoformat(value)
        if fmt == "uuid":
            uuid.UUID(value)
    except ValueError:
        return f"{value!r} is not {kind}/{fmt}"
    if enum and value not in enum:
        return f"{value!r} not in {enum}"
    return None


@needs_spec
def test_export_validates_against_the_datapackage_and_json_schemas(sample_workspace, tmp_path):
    written = _export(sample_workspace, tmp_path / "hsds")
    package = json.loads((HSDS / "datapackage.json").read_text(encoding="utf-8"))
    by_path = {r["path"]: r for r in package["resources"]}
    problems = []
    for name in HSDS_FILES:
        spec = by_path[name]
        fields = spec["schema"]["fields"]
        frame = pd.read_csv(written[name], dtype=str, keep_default_na=False)
        assert list(frame.columns) == [f["name"] for f in fields], name  # the published column order
        schema = json.loads((HSDS / "schema" / f"{spec['name']}.json").read_text(encoding="utf-8"))
        required = {f["name"] for f in fields if f.get("constraints", {}).get("required")} | set(
            schema.get("required", ())
        )
        for field in fields:
            column = frame[field["name"]]
            if field["name"] in required:
                problems += [f"{name}:{field['name']} empty" for v in column if v == ""][:1]
            if field.get("constraints", {}).get("unique"):
                assert column[column != ""].is_unique, f"{name}:{field['name']} not unique"
            prop = schema["properties"].get(field["name"], {})
            for value in column[column != ""]:
                for rule in (field, prop):
                    problem = _check_value(value, rule)
                    if problem:
                        problems.append(f"{name}:{field['name']} {problem}")
                        break
    assert not problems, problems[:10]
    counts = {name: len(pd.read_csv(written[name])) for name in ("services.csv", "organizations.csv", "schedules.csv")}
    assert counts["services.csv"] == sample_workspace.count("resources")
    assert counts["organizations.csv"] == sample_workspace.count("organisations") + 1  # + 「運営団体未登録」
    # foreign keys point at rows that exist
    services = pd.read_csv(written["services.csv"], dtype=str)
    orgs = set(pd.read_csv(written["organizations.csv"], dtype=str)["id"])
    assert services["organization_id"].isin(orgs).all()
    sal = pd.read_csv(written["service_at_location.csv"], dtype=str)
    assert sal["location_id"].isin(set(pd.read_csv(written["locations.csv"], dtype=str)["id"])).all()
    assert (
        json.loads(written["datapackage.json"].read_text(encoding="utf-8"))["resources"][0]["path"]
        == "organizations.csv"
    )


def test_assured_date_is_last_confirmed_and_status_is_mapped(sample_workspace, tmp_path):
    written = _export(sample_workspace, tmp_path / "hsds")
    services = pd.read_csv(written["services.csv"], dtype=str, keep_default_na=False)
    locations = pd.read_csv(written["locations.csv"], dtype=str, keep_default_na=False)
    sal = pd.read_csv(written["service_at_location.csv"], dtype=str)
    rid = sal.merge(locations, left_on="location_id", right_on="id").set_index("service_id")["external_identifier"]
    resources = sample_workspace.read("resources").set_index("resource_id")
    services["rid"] = services["id"].map(rid)
    expected = resources.loc[services["rid"], "last_confirmed"].dt.strftime("%Y-%m-%d").fillna("")
    assert services["assured_date"].tolist() == expected.tolist()
    assert services["last_modified"].eq("").all()  # changed ≠ checked: not invented from the confirmation
    status = dict(zip(services["rid"], services["status"], strict=True))
    mapping = {"active": "active", "paused": "temporarily closed", "closed": "defunct"}
    assert all(status[r] == mapping[s] for r, s in resources["status"].items())


def test_export_import_export_is_byte_identical(sample_workspace, tmp_path):
    first = _export(sample_workspace, tmp_path / "a")
    results = read_hsds(tmp_path / "a")
    assert len(results["resources"].rejected) == 0 and len(results["organisations"].rejected) == 0
    from scgeo import Workspace

    ws = Workspace.create(tmp_path / "b.gpkg", muni_code="99201", muni_name="さくら市")
    areas = sample_workspace.read("areas")
    with ws.transaction() as tx:
        tx.write("areas", areas)
    ws.import_result("organisations", results["organisations"])
    ws.import_result("resources", results["resources"])
    second = _export(ws, tmp_path / "b")
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes(), name


@needs_spec
def test_the_open_referral_examples_import_with_reasons(tmp_path):
    results = read_hsds(HSDS / "examples" / "csv")
    orgs = results["organisations"]
    assert len(orgs.accepted) >= 1 and "Example Organization Inc." in set(orgs.accepted["name"])
    services = results["resources"]
    # the example's one service is a UK counselling service at (100, 101): kept with its reasons
    assert len(services.accepted) + len(services.rejected) == len(
        pd.read_csv(HSDS / "examples" / "csv" / "services.csv")
    )
    reasons = " ".join(services.rejected["reason"])
    assert "カテゴリ一覧にありません" in reasons and "日本の範囲外" in reasons


def test_cli_hsds_export_and_import(sample_workspace, tmp_path, capsys):
    from scgeo import Workspace
    from scgeo.cli import main

    out = tmp_path / "hsds"
    assert main(["hsds", "export", str(sample_workspace.path), "--out", str(out)]) == 0
    assert (out / "datapackage.json").is_file() and (out / "service_at_location.csv").is_file()
    target = tmp_path / "t.gpkg"
    assert main(["init", str(target), "--muni-code", "99201"]) == 0
    assert main(["hsds", "import", str(target), str(out)]) == 0
    ws = Workspace.open(target)
    assert ws.count("resources") == sample_workspace.count("resources")
    assert ws.count("organisations") == sample_workspace.count("organisations")
    assert main(["hsds", "import", str(target), str(tmp_path)]) == 2  # not an HSDS folder: a message, rc 2
    assert "organizations.csv" in capsys.readouterr().err
