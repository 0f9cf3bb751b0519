"""Start-up of the CLI: whole `python cli.py ...` processes against `python -c pass`, on a 200-clip store.

    .venv/bin/python benchmarks/startup.py [--clips-per-class 20] [--runs 7]

The store: the demo dataset (ten classes), ingested and embedded with flow_motion by the CLI. Timed,
each as a fresh process (median of ``--runs``): `--help`, `sql`, `sets`, `neighbors` of a stored
clip (its stored vector, no model), and `embed` with nothing to do. Goals (issue 14, a 2-core
machine): `--help` under 0.3 s, a no-op `embed` of 200 clips under 1.5 s. One run: read the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"--help": 0.3, "embed (nothing to do)": 1.5}


def cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *args]


def median_seconds(argv: list[str], runs: int) -> float:
    """The median wall time of ``runs`` processes of ``argv`` (each must exit 0)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips-per-class", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        videos, store = Path(tmp) / "videos", Path(tmp) / "store"
        subprocess.run(cli("demo-data", str(videos), "--clips-per-class", str(args.clips_per_class)), check=True,
                       stderr=subprocess.DEVNULL)
        subprocess.run(cli("--store", str(store), "ingest", str(videos)), check=True, stderr=subprocess.DEVNULL)
        subprocess.run(cli("--store", str(store), "embed", "--backbone", "flow_motion"), check=True, stderr=subprocess.DEVNULL)
        clip = next(p for p in sorted(videos.rglob("*")) if p.suffix.lower() in (".mp4", ".mov"))
        clips = len([p for p in videos.rglob("*") if p.suffix.lower() in (".mp4", ".mov")])
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "--help": cli("--help"),
            'sql "SELECT count(*) FROM videos"': cli("--store", str(store), "sql", "SELECT count(*) FROM videos"),
            "sets": cli("--store", str(store), "sets"),
            "neighbors <stored clip> -k 5": cli("--store", str(store), "neighbors", str(clip), "-k", "5"),
            "embed (nothing to do)": cli("--store", str(store), "embed", "--backbone", "flow_motion"),
        }
        print(f"{clips} clips; median of {args.runs} processes each")
        print(f"{'command':36} {'seconds':>8} {'vs python -c pass':>18} {'goal':>8}")
        base = median_seconds(commands["python -c pass"], args.runs)
        for name, argv in commands.items():
            seconds = base if name == "python -c pass" else median_seconds(argv, args.runs)
            goal = GOALS.get(name)
            verdict = "" if goal is None else f"< {goal:g} {'ok' if seconds < goal else 'MISSED'}"
            print(f"{name:36} {seconds:8.3f} {seconds / base:17.1f}x {verdict:>8}")


if __name__ == "__main__":
    main()
