from scgeo.report import labelled_resources


def test_labelled_resources_replace_codes_and_geometry(sample_workspace):
    resources = sample_workspace.read("resources")
    table = labelled_resources(resources, digits=6)
    assert "geometry" not in table and {"lat", "lon"} <= set(table.columns)
    first = resources.iloc[0]
    row = table.iloc[0]
    assert row["category"] == "居場所・サロン" if first["category"] == "salon" else row["category"] != first["category"]
    assert set(table["status"]) <= {"活動中", "休止中", "廃止"}
    assert abs(row["lat"] - round(first.geometry.y, 6)) < 1e-9
