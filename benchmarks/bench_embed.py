"""Time the walking skeleton on the demo dataset and print a table with ratios.

    .venv/bin/python benchmarks/bench_embed.py [--clips-per-class 6] [--backbone effnet_lite0_frames]

Measures: writing the demo data, ingest (probe + hash), the first embed, a second embed over
unchanged data (which must run no model), and decoding 16 frames of a 720p clip by converting
every frame versus only the chosen ones (the decoder's strategy). Figures are one run on a noisy
machine: compare the ratios, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from embed import DEFAULT_BACKBONE, embed_store
from ingest import decode_frames, probe, scan_folder
from ingest.demo_data import make_demo_dataset, write_clip
from store import Store


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def convert_every_frame(path: Path, n: int, short_side: int) -> np.ndarray:
    """The naive baseline: decode and convert every frame, then keep n of them."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    picks = np.linspace(0, len(frames) - 1, n).astype(int)
    return np.stack([frames[i][:short_side, :short_side] for i in picks])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips-per-class", type=int, default=6)
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t_data, clips = timed(lambda: make_demo_dataset(root / "videos", clips_per_class=args.clips_per_class))
        store = Store(root / "store")
        t_ingest, _ = timed(lambda: store.record_ingest(*_scan(root / "videos")))
        t_embed, first = timed(lambda: embed_store(store, backbone=args.backbone, progress=False))
        t_again, second = timed(lambda: embed_store(store, backbone=args.backbone, progress=False))
        assert second.forwards == 0, "second embed ran the model"
        big = root / "hd.mp4"
        rng = np.random.default_rng(0)
        write_clip(big, rng.integers(0, 255, (120, 720, 1280, 3), dtype=np.uint8))
        n_frames = probe(big).num_frames
        t_all, _ = timed(lambda: convert_every_frame(big, 16, 224))
        t_chosen, _ = timed(lambda: decode_frames(big, 16, num_frames=n_frames, short_side=224))
        size_mb = store.size_bytes() / 1e6
    n = len(clips)
    rows = [
        ("write demo data", f"{n} clips", t_data),
        ("ingest (probe + hash)", f"{n} clips", t_ingest),
        (f"embed {args.backbone}", f"{first.forwards} forwards", t_embed),
        ("embed again (unchanged)", f"{second.forwards} forwards", t_again),
        ("decode 16 of 120 720p frames: convert all", "1 clip", t_all),
        ("decode 16 of 120 720p frames: convert chosen", "1 clip", t_chosen),
    ]
    print(f"{'step':48} {'work':>14} {'seconds':>9}")
    for step, work, seconds in rows:
        print(f"{step:48} {work:>14} {seconds:9.3f}")
    print(f"\nstore size: {size_mb:.1f} MB for {n} clips ({first.set.dim}-d vectors)")
    print(f"embed throughput: {first.forwards / t_embed:.2f} clips/s")
    print(f"ratio first embed / second embed: {t_embed / t_again:.0f}x")
    print(f"ratio convert-all / convert-chosen decode: {t_all / t_chosen:.2f}x")


def _scan(folder: Path):
    result = scan_folder(folder, progress=False)
    return result.videos, result.errors


if __name__ == "__main__":
    main()
