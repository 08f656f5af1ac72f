"""Resource exhaustion: small generated bombs are refused with a Japanese message and rc 2.

A 1 MB-class xlsx holding two million rows, a CSV past the row and the cell limits, a zip that
claims 1 GiB, a zip member compressed thousands of times, a zip of a thousand files. Limits
come from the settings (``max_rows`` 200,000 by default) and are enforced while streaming; the
app's preview reads only the first rows of the same bomb.
"""

import struct
import tracemalloc
import zipfile

import pytest

from scgeo import Settings, Workspace, cli, get_settings
from scgeo.io import read_preview, read_resources
from scgeo.io._limits import InputLimitError, check_zip
from scgeo.settings import set_settings

ROWS = 2_000_000

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships '
         'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
         'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook '
             'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="社会資源" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships '
                  'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                  'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                  'Target="worksheets/sheet1.xml"/></Relationships>')


def _inline(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


@pytest.fixture(scope="module")
def xlsx_bomb(tmp_path_factory):
    """An xlsx well under 1 MB whose one sheet holds two million rows under a resources header."""
    path = tmp_path_factory.mktemp("bombs") / "bomb.xlsx"
    header = "<row>" + "".join(_inline(h) for h in ("資源ID", "名称", "種別", "緯度", "経度")) + "</row>"
    row = "<row><c><v>1</v></c><c><v>2</v></c></row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS),
                           ("xl/workbook.xml", _WORKBOOK), ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)):
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(('<?xml version="1.0" encoding="UTF-8"?><worksheet '
                         'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                         f'<dimension ref="A1:E{ROWS + 1}"/><sheetData>{header}').encode())
            block = (row * 10_000).encode()
            for _ in range(ROWS // 10_000):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    assert path.stat().st_size < 1_000_000
    return path


@pytest.fixture
def workspace(tmp_path):
    return Workspace.create(tmp_path / "ws.gpkg", muni_code="99201", muni_name="さくら市")


def test_default_limits():
    assert (Settings().max_rows, Settings().max_unzipped_mb) == (200_000, 512)


def test_xlsx_with_two_million_rows_is_refused_while_streaming(xlsx_bomb, workspace, capsys):
    # a lower limit than the default keeps the test quick: reading stops at the limit either way
    # (at the default 200,000 rows the refusal took 22 s and 232 MB peak RSS on the shared CI machine)
    set_settings(get_settings().replace(max_rows=20_000))
    tracemalloc.start()
    try:
        assert cli.main(["import", str(workspace.path), str(xlsx_bomb), "--layer", "resources"]) == 2
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        set_settings(None)
    err = capsys.readouterr().err
    assert "20,000 行を超えています" in err and "Traceback" not in err
    assert peak < 100 * 1024 * 1024, peak  # the limit's worth of rows, never the two million
    assert workspace.count("resources") == 0 and len(workspace.edits()) == 0


def test_preview_reads_the_first_rows_only(xlsx_bomb):
    table = read_preview(xlsx_bomb, rows=5)  # reading the whole sheet would hit the row limit
    assert len(table) == 5 and list(table.columns[:2]) == ["資源ID", "名称"]


def test_csv_past_the_row_and_the_cell_limits(tmp_path, workspace, capsys):
    set_settings(get_settings().replace(max_rows=1000, max_cells=30_000))
    try:
        rows = tmp_path / "rows.csv"
        rows.write_text("資源ID,名称,種別,緯度,経度\n" + "R,サロン,サロン,35.1,140.1\n" * 1001, encoding="utf-8")
        assert cli.main(["import", str(workspace.path), str(rows), "--layer", "resources"]) == 2
        assert "1,000 行を超えています" in capsys.readouterr().err
        wide = tmp_path / "wide.csv"
        wide.write_text(",".join(f"c{i}" for i in range(100)) + "\n" + ("x," * 99 + "x\n") * 400, encoding="utf-8")
        with pytest.raises(InputLimitError, match="セルが 30,000 個を超えています"):
            read_resources(wide)
        ok = tmp_path / "ok.csv"
        ok.write_text("資源ID,名称,種別,緯度,経度\n" + "".join(f"R{i},サロン,サロン,35.1,140.1\n" for i in range(1000)),
                      encoding="utf-8")
        assert len(read_resources(ok).accepted) == 1000  # exactly at the limit is fine
    finally:
        set_settings(None)


def _claiming_zip(path, claimed: int) -> None:
    """A zip whose one member declares ``claimed`` bytes (the data itself is 1 KB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("towns.shp", b"\0" * 1024)
    data = bytearray(path.read_bytes())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, claimed)
    struct.pack_into("<I", data, central + 24, claimed)
    path.write_bytes(bytes(data))


def test_zip_claiming_a_gibibyte_is_not_unpacked(tmp_path, workspace, capsys):
    bomb = tmp_path / "areas.zip"
    _claiming_zip(bomb, 1024 ** 3)
    with zipfile.ZipFile(bomb) as archive:
        assert archive.infolist()[0].file_size == 1024 ** 3
    assert cli.main(["import", str(workspace.path), str(bomb), "--layer", "areas", "--level", "jhs_district"]) == 2
    err = capsys.readouterr().err
    assert "展開すると 1,024 MB になります" in err and "上限 512 MB" in err


def test_zip_ratio_and_file_count(tmp_path):
    dense = tmp_path / "dense.zip"
    with zipfile.ZipFile(dense, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.dbf", b"\0" * (32 * 1024 * 1024))
    with zipfile.ZipFile(dense) as archive, pytest.raises(InputLimitError, match="圧縮率が"):
        check_zip(archive, dense.name)
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for i in range(1001):
            archive.writestr(f"f{i}.txt", b"x")
    with zipfile.ZipFile(many) as archive, pytest.raises(InputLimitError, match="1,001 個のファイル"):
        check_zip(archive, many.name)
