"""Peak memory of ``embed`` as the number of clips grows: batches are streamed, so it should stay flat.

    .venv/bin/python benchmarks/embed_memory.py [--clips 1000] [--backbone tiny3d]

Writes ``clips`` demo clips, then embeds the first tenth into a store and the rest afterwards, and
prints the process's peak resident memory after each step (``ru_maxrss``). Flat means the second,
ten times larger step did not raise the peak much. One run.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from embed import embed_store
from ingest import scan_folder
from ingest.demo_data import make_demo_dataset
from store import Store


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--backbone", default="tiny3d")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        make_demo_dataset(Path(tmp) / "videos", clips_per_class=max(1, args.clips // 10))
        videos = scan_folder(Path(tmp) / "videos", progress=False).videos
        store = Store(Path(tmp) / "store")
        print(f"{'step':28} {'clips in set':>12} {'seconds':>8} {'peak RSS MB':>12}")
        print(f"{'before embedding':28} {0:>12} {'':>8} {peak_mb():12.0f}")
        for part in (videos[: len(videos) // 10], videos[len(videos) // 10:]):
            store.record_ingest(part, [])
            start = time.perf_counter()
            report = embed_store(store, backbone=args.backbone, random_init=True, device="cpu", progress=False)
            print(f"{'embed ' + str(report.embedded) + ' clips':28} {report.set.num_vectors:>12} "
                  f"{time.perf_counter() - start:8.1f} {peak_mb():12.0f}")


if __name__ == "__main__":
    main()
