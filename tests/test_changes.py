"""Signed change-sets: export the changes of an offline copy since a version, apply them elsewhere,
conflicts reported (not applied), signature and municipality checked, and the CLI."""

import json
import shutil

import pytest

from scgeo import InputError, Workspace, cli
from scgeo.changes import apply_changes, export_changes

KEY = b"shared secret of the offices"


@pytest.fixture
def pair(sample_copy, tmp_path):
    """The server's workspace and an offline copy made from it at its current version."""
    offline = tmp_path / "offline.gpkg"
    shutil.copyfile(sample_copy.path, offline)
    return sample_copy, Workspace.open(offline), sample_copy.version()


def test_round_trip_with_a_conflict(pair, tmp_path):
    server, offline, since = pair
    ids = sorted(server.ids("resources"))
    a, b, c, d = ids[:4]
    offline.update_feature("resources", a, {"fee": "オフラインの料金"}, user="supporter")
    offline.delete_feature("resources", b, user="supporter")
    new = offline.read("resources").iloc[0].to_dict() | {"resource_id": "RNEW", "name": "新しいサロン"}
    offline.add_feature("resources", {k: v for k, v in new.items() if k != "last_confirmed"}, user="supporter")
    offline.update_feature("resources", c, {"name": "オフラインの名前"}, user="supporter")
    server.update_feature("resources", c, {"name": "サーバの名前"}, user="office")
    server.update_feature("resources", d, {"notes": "サーバだけの変更"}, user="office")
    offline.write_network(offline.read("network_nodes"), offline.read("network_edges"))  # not carried

    out = tmp_path / "changes.json"
    body = export_changes(offline, since, out, key=KEY)
    assert {(e["feature_id"], e["action"]) for e in body["changes"]} == {
        (a, "upsert"), (b, "delete"), ("RNEW", "upsert"), (c, "upsert")}
    assert "needs" not in out.read_text(encoding="utf-8")

    report = apply_changes(server, out, key=KEY, user="同期")
    assert len(report.applied) == 3 and len(report.conflicts) == 1
    conflict = report.conflicts[0]
    assert conflict["feature_id"] == c
    assert conflict["fields"]["name"] == {"theirs": "サーバの名前", "mine": "オフラインの名前"}
    after = server.read("resources").set_index("resource_id")
    assert after.loc[a, "fee"] == "オフラインの料金" and b not in after.index and "RNEW" in after.index
    assert after.loc[c, "name"] == "サーバの名前" and after.loc[d, "notes"] == "サーバだけの変更"
    assert (server.edits().tail(3)["user"] == "同期").all()
    again = apply_changes(server, out, key=KEY)  # applying twice changes nothing more
    assert not again.applied and len(again.conflicts) == 1


def test_signature_and_municipality_are_checked(pair, tmp_path):
    server, offline, since = pair
    offline.update_feature("resources", sorted(offline.ids("resources"))[0], {"fee": "x"})
    out = tmp_path / "changes.json"
    export_changes(offline, since, out, key=KEY)
    before = server.version()
    with pytest.raises(InputError, match="署名が合いません"):
        apply_changes(server, out, key=b"another key of 16+ bytes")
    document = json.loads(out.read_text(encoding="utf-8"))
    document["changes"][0]["values"]["fee"] = "書き換え"
    out.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError, match="署名が合いません"):
        apply_changes(server, out, key=KEY)
    other = Workspace.create(tmp_path / "other.gpkg", muni_code="32203")
    export_changes(offline, since, out, key=KEY)
    with pytest.raises(InputError, match="市町村コード"):
        apply_changes(other, out, key=KEY)
    assert server.version() == before


def test_cli_export_and_apply(pair, tmp_path, monkeypatch, capsys):
    server, offline, since = pair
    rid = sorted(offline.ids("resources"))[0]
    offline.update_feature("resources", rid, {"fee": "CLIの料金"})
    out = tmp_path / "c.json"
    monkeypatch.delenv("SCGEO_CHANGES_KEY", raising=False)
    assert cli.main(["changes", "export", str(offline.path), "--since", str(since), str(out)]) == 2
    assert "鍵" in capsys.readouterr().err
    monkeypatch.setenv("SCGEO_CHANGES_KEY", KEY.decode())
    assert cli.main(["changes", "export", str(offline.path), "--since", str(since), str(out)]) == 0
    assert cli.main(["changes", "apply", str(server.path), str(out), "--user", "同期"]) == 0
    assert "反映 1 件" in capsys.readouterr().out
    assert server.read("resources").set_index("resource_id").loc[rid, "fee"] == "CLIの料金"
