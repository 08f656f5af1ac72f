"""Shared fixtures: the sample town built once per test session through the demo chain."""

import os
from pathlib import Path

import pytest

from scgeo import Workspace

ROOT = Path(__file__).resolve().parents[1]
# The throwaway PostgreSQL + PostGIS server of the backend tests (`postgres`, `pg_url`).
pytest_plugins = ["postgres_server"]


@pytest.fixture(scope="session")
def demo_outputs(tmp_path_factory):
    """Paths written by ``run_demo`` on the bundled sample (no app served)."""
    from scgeo.demo import run_demo

    out = tmp_path_factory.mktemp("demo_out")
    return run_demo(out, data_dir=ROOT / "data", serve=False, log=lambda _m: None)


@pytest.fixture(scope="session")
def sample_workspace(demo_outputs):
    """The sample town's workspace (read-only: copy it before writing)."""
    return Workspace.open(demo_outputs["workspace"])


@pytest.fixture
def sample_copy(sample_workspace, tmp_path):
    """A writable copy of the sample workspace."""
    path = tmp_path / "sample.gpkg"
    path.write_bytes(sample_workspace.path.read_bytes())
    return Workspace.open(path)


@pytest.fixture
def screenshot_dir(tmp_path):
    """Where screenshots go: docs/img with SCGEO_DOCS_SCREENSHOTS=1 (`make screenshots`), else tmp."""
    if os.environ.get("SCGEO_DOCS_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "img"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path
