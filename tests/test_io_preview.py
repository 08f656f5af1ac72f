import geopandas as gpd
import shapely

from scgeo.io import detect_columns, read_preview


def test_preview_of_a_csv_and_its_detected_columns(tmp_path):
    path = tmp_path / "shigen.csv"
    path.write_text("施設名,種別,緯度,経度,備考\nサロンA,サロン,35.0,141.0,\nサロンB,サロン,35.1,141.1,雨天中止\n",
                    encoding="cp932")
    table = read_preview(path, rows=1)
    assert list(table.columns) == ["施設名", "種別", "緯度", "経度", "備考"] and len(table) == 1
    assert detect_columns(list(table.columns), "resources") == {
        "name": "施設名", "category": "種別", "notes": "備考", "lat": "緯度", "lon": "経度"}
    assert detect_columns(list(table.columns), "resources", mapping={"name": "存在しない列"}) == {}


def test_preview_of_a_vector_file(tmp_path):
    path = tmp_path / "districts.geojson"
    gpd.GeoDataFrame({"校区名": ["東中学校区"]}, geometry=[shapely.box(141, 35, 141.1, 35.1)],
                     crs=6668).to_file(path)
    table = read_preview(path)
    assert list(table.columns) == ["校区名"] and table.iloc[0, 0] == "東中学校区"
    assert detect_columns(["校区名"], "areas") == {"name": "校区名"}
