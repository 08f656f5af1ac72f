import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from scgeo.maps.static import nice_length_m, print_map


def _pages(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"Pages:\s+(\d+)", out).group(1))
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def test_nice_scale_lengths():
    assert nice_length_m(9000) == 1000
    assert nice_length_m(4000) == 500
    assert nice_length_m(12000) == 2000
    assert nice_length_m(30000) == 5000


@pytest.mark.parametrize("height_in", [1.5, 3.0, 8.0])
def test_north_arrow_inside_the_frame_however_tall_the_frame(height_in):
    """The 「N」 and its arrow sit inside the map's frame (they sat on the top edge of a short frame)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from scgeo.maps.static import _scale_and_north, japanese_font

    fig = Figure(figsize=(10, height_in))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.05, 0.05, 0.6, 0.9))
    ax.set_xlim(0, 6000)
    ax.set_ylim(0, 6000 * height_in / 6)
    _scale_and_north(ax, japanese_font())
    fig.canvas.draw()  # places the arrow
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    north = [t for t in ax.texts if t.get_text() == "N"]
    arrows = [t.arrow_patch for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(north) == 1 and len(arrows) == 1
    for box in (north[0].get_window_extent(renderer), arrows[0].get_window_extent(renderer)):
        assert frame.x0 < box.x0 and box.x1 < frame.x1 and frame.y0 < box.y0 and box.y1 < frame.y1 - 2


def test_demo_print_map_has_one_page_per_living_area(demo_outputs, sample_workspace, tmp_path, screenshot_dir):
    pdf = demo_outputs["print_map"]
    assert _pages(pdf) == len(sample_workspace.areas("living_area"))
    data = pdf.read_bytes()
    assert b"IPAexGothic" in data and b"/FontFile2" in data  # Japanese embedded as TrueType glyphs
    if not shutil.which("pdftoppm"):
        pytest.skip("poppler-utils is not installed")
    subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    import matplotlib.image as mpimg

    image = mpimg.imread(tmp_path / "page-1.png")
    assert image.shape[1] > image.shape[0] > 600  # A3 landscape at 60 dpi: 992 x 701
    assert np.std(image[..., :3]) > 0.05  # not blank
    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf),
                    str(screenshot_dir / "print_map")], check=True)


def test_whole_town_on_a4_continues_the_list(sample_workspace, tmp_path):
    path, pages = print_map(sample_workspace, tmp_path / "town.pdf", paper="A4", today=dt.date(2026, 11, 1))
    assert pages == _pages(path) and pages >= 2  # 240 names do not fit beside an A4 map
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout \
        if shutil.which("pdftotext") else ""
    if text:
        assert "さくら市 地域資源マップ" in text and "番号と名称(続き)" in text and "2026年11月01日" in text
        names = sample_workspace.read("resources")["name"]
        assert all(name[:10] in text.replace("\n", "") for name in names.head(20))


def test_png_of_one_area(sample_workspace, tmp_path):
    path, pages = print_map(sample_workspace, tmp_path / "area.png", area="第2圏域", paper="A4")
    import matplotlib.image as mpimg

    image = mpimg.imread(path)
    assert pages == 1 and image.shape[:2] == (int(8.27 * 150), int(11.69 * 150))
