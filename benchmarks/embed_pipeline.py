"""The whole ``embed`` pipeline against the bare forward pass, per backbone (random-init is fine).

    .venv/bin/python benchmarks/embed_pipeline.py [--clips 32] [--backbones tiny3d,x3d_s,r2plus1d_18,flow_motion]

(Named embed_pipeline.py, not embed.py: a script's folder comes first on ``sys.path``, and a
``benchmarks/embed.py`` would hide the ``embed`` package from itself.)

For each backbone: the clips are decoded once up front and the model alone is timed on them in the
runner's forward batches, on the device ("bare forward"). Then ``embed_store`` embeds N and then 2N
clips into fresh stores (decode threads, overlapped forwards, commits in a writer thread). The
difference of the two runs is the steady cost of N clips, without the fixed start (catalog reads,
set registration, thread start) that a short run is dominated by:

    steady ratio = (t(2N) - t(N)) / N  /  forward per clip       target: at most 1.3
    whole ratio  = t(2N) / forward of 2N clips                   (start included)

tiny3d's forward is nearly free, so its pipeline rate is what the CPU side can feed any model: a
GPU whose forward is faster than that waits for decoding. One run on a noisy machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from embed import embed_store, get_backbone
from embed.forward import embed_batch
from embed.model_cache import load_model, resolve_device
from embed.local_engine import FORWARD_BATCH
from ingest import decode_frames, probe, scan_folder
from ingest.demo_data import make_demo_dataset
from store import Store


def pipeline_seconds(root: Path, videos: list[dict], name: str, device: str, workers: int, repeats: int) -> float:
    """The least seconds ``embed_store`` took over ``videos``, each time into a fresh store under ``root``."""
    spec = get_backbone(name)
    times = []
    for repeat in range(repeats):
        store = Store(root / str(repeat))
        store.record_ingest(videos, [])
        start = time.perf_counter()
        embed_store(store, backbone=name, random_init=spec.uses_torch, device=device, decode_workers=workers, progress=False)
        times.append(time.perf_counter() - start)
    return min(times)


def forward_seconds(model, spec, decoded: list, device: str) -> float:
    """Seconds the model alone takes over pre-decoded clips, in the runner's forward batches."""
    start = time.perf_counter()
    for i in range(0, len(decoded), FORWARD_BATCH):
        embed_batch(model, spec, decoded[i:i + FORWARD_BATCH], device)  # returns on the CPU: synchronised
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32, help="N: the runs embed N and 2N clips")
    parser.add_argument("--backbones", default="tiny3d,x3d_s,r2plus1d_18,flow_motion")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--workers", default="4", help="decode workers to try, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each; the fastest counts (noise only adds)")
    args = parser.parse_args()
    n = args.clips
    print(f"device: {args.device}; N = {n} clips; fastest of {args.repeats} runs")
    print(f"{'backbone':14} {'workers':>7} {'forward s/clip':>14} {'steady s/clip':>13} {'start s':>7} "
          f"{'steady ratio':>12} {'whole ratio':>11} {'clips/s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "videos"
        make_demo_dataset(root, clips_per_class=max(1, -(-2 * n // 10)))
        videos = scan_folder(root, progress=False).videos[: 2 * n]
        for name in args.backbones.split(","):
            spec = get_backbone(name)
            frames, options = spec.default_frames, dict(spec.default_options)
            device = resolve_device(args.device) if spec.uses_torch else "cpu"
            model = load_model(name, frames, options, random_init=spec.uses_torch, weights_path=None, device=device)
            decoded = [decode_frames(v["path"], frames, num_frames=probe(v["path"]).num_frames, short_side=spec.input_size)
                       for v in videos]
            embed_batch(model, spec, decoded[:FORWARD_BATCH], device)  # warm-up
            forward = min(forward_seconds(model, spec, decoded, device) for _ in range(args.repeats)) / len(decoded)
            for workers in (int(w) for w in args.workers.split(",")):
                t_n = pipeline_seconds(Path(tmp) / f"{name}-{workers}-n", videos[:n], name, device, workers, args.repeats)
                t_2n = pipeline_seconds(Path(tmp) / f"{name}-{workers}-2n", videos, name, device, workers, args.repeats)
                steady = (t_2n - t_n) / n
                print(f"{name:14} {workers:>7} {forward:>14.4f} {steady:>13.4f} {t_n - n * steady:>7.2f} "
                      f"{steady / forward:>12.2f} {t_2n / (forward * 2 * n):>11.2f} {1 / steady:>8.1f}")


if __name__ == "__main__":
    main()
