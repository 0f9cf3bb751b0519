"""The whole ``embed`` pipeline against the bare forward pass, per backbone (random-init is fine).

    .venv/bin/python benchmarks/embed_pipeline.py [--clips 16] [--backbones tiny3d,x3d_s,r2plus1d_18,flow_motion]

For each backbone: the clips are decoded once up front and the model alone is timed on them in the
runner's forward batches ("bare forward"); then ``embed_store`` embeds the same clips into a fresh
store (decode threads, batching, Parquet commits). The ratio pipeline / forward says how much
decoding and storing add; the target is at most 1.3x. One run on a noisy machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from embed import embed_store, get_backbone
from embed.model_cache import load_model, resolve_device
from embed.runner import FORWARD_BATCH, embed_batch
from ingest import decode_frames, probe, scan_folder
from ingest.demo_data import make_demo_dataset
from store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--backbones", default="tiny3d,x3d_s,r2plus1d_18,flow_motion")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--workers", default="4", help="decode workers to try, comma-separated")
    args = parser.parse_args()
    print(f"device: {args.device}")
    print(f"{'backbone':14} {'workers':>7} {'clips':>5} {'forward s':>10} {'pipeline s':>11} {'ratio':>6} {'clips/s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "videos"
        make_demo_dataset(root, clips_per_class=max(1, -(-args.clips // 10)))
        for name in args.backbones.split(","):
            spec = get_backbone(name)
            frames, options = spec.default_frames, dict(spec.default_options)
            device = resolve_device(args.device) if spec.uses_torch else "cpu"
            model = load_model(name, frames, options, random_init=spec.uses_torch, weights_path=None, device=device)
            result = scan_folder(root, progress=False)
            videos = result.videos[: args.clips]
            decoded = [decode_frames(v["path"], frames, num_frames=probe(v["path"]).num_frames, short_side=spec.input_size)
                       for v in videos]
            embed_batch(model, spec, decoded[:FORWARD_BATCH], device)  # warm-up
            start = time.perf_counter()
            for i in range(0, len(decoded), FORWARD_BATCH):
                embed_batch(model, spec, decoded[i:i + FORWARD_BATCH], device)  # returns on the CPU: synchronised
            t_forward = time.perf_counter() - start
            for workers in (int(w) for w in args.workers.split(",")):
                store = Store(Path(tmp) / f"store-{name}-{workers}")
                store.record_ingest(videos, [])
                start = time.perf_counter()
                report = embed_store(store, backbone=name, random_init=spec.uses_torch, device=device,
                                     decode_workers=workers, progress=False)
                t_pipeline = time.perf_counter() - start
                print(f"{name:14} {workers:>7} {report.forwards:>5} {t_forward:>10.2f} {t_pipeline:>11.2f} "
                      f"{t_pipeline / t_forward:>6.2f} {report.forwards / t_pipeline:>8.2f}")


if __name__ == "__main__":
    main()
