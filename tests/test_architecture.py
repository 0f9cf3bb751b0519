"""DESIGN.md section 2: the import direction between our packages, a thin CLI, and a CLI that starts without torch or PyAV."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from store import Store

ROOT = Path(__file__).resolve().parents[1]
OURS = {"ingest", "embed", "store", "analysis", "detector", "app", "service", "cli"}
CLI_FUNCTION_MAX_LINES = 25
ALLOWED = {
    "ingest": set(),
    "store": set(),
    "embed": {"ingest", "store"},
    "analysis": {"embed", "ingest", "store"},
    "detector": {"embed", "ingest", "store", "analysis"},
    "app": {"detector", "analysis", "embed", "ingest", "store"},
    "service": {"app"},
    "cli": {"app", "service"},  # only `serve`, which starts the service (the service never imports the CLI)
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


def test_imports_flow_one_way() -> None:
    violations = []
    for package, allowed in ALLOWED.items():
        files = [ROOT / "cli.py"] if package == "cli" else sorted((ROOT / package).rglob("*.py"))
        assert files, f"no sources found for {package}"
        for path in files:
            bad = imported_packages(path) - allowed - {package}
            if bad:
                violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not violations, "\n".join(violations)


def test_cli_only_translates() -> None:
    """cli.py parses, calls one app job and prints: no function in it is longer than 25 lines."""
    tree = ast.parse((ROOT / "cli.py").read_text())
    long = [f"{node.name}: {node.end_lineno - node.lineno + 1} lines" for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > CLI_FUNCTION_MAX_LINES]
    assert not long, long


HEAVY = ("torch", "faiss", "cv2", "transformers", "av")


def heavy_modules_imported(argv: list[str]) -> list[str]:
    """Which of HEAVY a whole ``python cli.py ARGV`` process imported (it must exit 0)."""
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['cli.py', *{argv!r}]\n"
        "try:\n    runpy.run_path('cli.py', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
        f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.split("HEAVY ")[-1].strip())


@pytest.mark.parametrize("args", [["--help"], ["--store", "{store}", "sql", "SELECT 1"], ["--store", "{store}", "sets"],
                                  ["sets", "--help"]])
def test_cli_starts_without_torch(args: list[str], tmp_path: Path) -> None:
    with Store(tmp_path / "s").writing():
        pass  # an empty but valid store for `sql`
    assert heavy_modules_imported([a.replace("{store}", str(tmp_path / "s")) for a in args]) == []


def test_an_embed_or_augment_with_nothing_to_do_plans_and_imports_no_torch(store: Store, videos: Path) -> None:
    from embed import embed_store
    from embed.views import augment_store
    from ingest import scan_folder

    result = scan_folder(videos, progress=False)
    store.record_ingest(result.videos, result.errors)
    assert embed_store(store, backbone="flow_motion", progress=False).embedded == 20
    assert heavy_modules_imported(["--store", str(store.root), "embed", "--backbone", "flow_motion"]) == []
    assert augment_store(store, views=1, seed=0, progress=False).embedded == 20
    assert heavy_modules_imported(["--store", str(store.root), "augment", "--views", "1"]) == []  # nor albumentations
