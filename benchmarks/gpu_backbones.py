"""On a CUDA machine: every torch backbone's GPU vectors against its CPU vectors, and forward speed.

    python benchmarks/gpu_backbones.py [--batch 8] [--repeats 10] [--out results.md]

For each registered torch backbone, random-init (no weights can be fetched here): two real clips
(demo clips decoded as the runner does) through the CPU model and the CUDA model; the largest
difference relative to the vectors' scale; then forward time per clip at ``--batch`` clips, in fp32
and under bf16 autocast, against one clip on the CPU. Also the whole ``embed --device cuda``
pipeline on demo clips and a detector trained on CUDA. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def _time(fn, repeats: int) -> float:
    import torch

    fn()
    fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    import torch

    from detector.training import train_detector
    from embed import embed_store
    from embed.registry import backbones
    from embed.model_cache import load_model
    from embed.preprocess import to_input
    from ingest import decode_frames, probe, scan_folder
    from ingest.demo_data import make_demo_dataset
    from store import Store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    assert torch.cuda.is_available(), "no CUDA device here"
    lines = [f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}", "",
             "| backbone | frames | dim | max rel diff cuda vs cpu | cpu s/clip (1) | cuda fp32 s/clip (batch) | cuda bf16 s/clip | bf16 rel diff |",
             "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_demo_dataset(Path(tmp) / "videos", clips_per_class=3)
        for spec in backbones():
            if not spec.uses_torch or spec.name.startswith("effnet"):
                continue
            frames, options = spec.default_frames, dict(spec.default_options)
            try:
                cpu = load_model(spec.name, frames, options, random_init=True, weights_path=None, device="cpu")
                gpu = load_model(spec.name, frames, options, random_init=True, weights_path=None, device="cuda")
            except Exception as exc:  # report and go on: this is a survey
                lines.append(f"| {spec.name} | {frames} | - | build failed: {type(exc).__name__}: {str(exc)[:80]} | | | | |")
                continue
            batch = to_input([decode_frames(p, frames, num_frames=probe(p).num_frames, short_side=spec.input_size)
                              for p in clips[:2]], spec)
            with torch.inference_mode():
                v_cpu = cpu(batch).float()
                v_gpu = gpu(batch.cuda()).float().cpu()
                scale = v_cpu.abs().max().item() or 1.0
                diff = (v_cpu - v_gpu).abs().max().item() / scale
                start = time.perf_counter()
                cpu(batch[:1])
                t_cpu = time.perf_counter() - start
                big = batch[:1].repeat(args.batch, *[1] * (batch.dim() - 1)).cuda()
                t_fp32 = _time(lambda: gpu(big), args.repeats) / args.batch
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    t_bf16 = _time(lambda: gpu(big), args.repeats) / args.batch
                    v_bf16 = gpu(batch.cuda()).float().cpu()
                bf16_diff = (v_cpu - v_bf16).abs().max().item() / scale
            lines.append(f"| {spec.name} | {frames} | {v_cpu.shape[1]} | {diff:.2e} | {t_cpu:.3f} | {t_fp32:.4f} | {t_bf16:.4f} | {bf16_diff:.2e} |")
            del cpu, gpu
            torch.cuda.empty_cache()
        result = scan_folder(Path(tmp) / "videos", progress=False)
        matrices = {}
        lines.append("")
        for device in ("cpu", "cuda"):
            store = Store(Path(tmp) / f"store-{device}")
            store.record_ingest(result.videos, result.errors)
            report = embed_store(store, backbone="r2plus1d_18", random_init=True, device=device, progress=False)
            matrices[device] = store.load_vectors(report.set.set_id)[1]
            lines.append(f"embed pipeline r2plus1d_18 (random-init) on {device}: {report.forwards} clips in "
                         f"{report.seconds:.1f} s ({report.forwards / report.seconds:.1f} clips/s)")
        a, b = matrices["cpu"], matrices["cuda"]
        lines.append(f"embed pipeline cuda vs cpu: max rel diff {np.abs(a - b).max() / np.abs(a).max():.2e} over {len(a)} clips")
        embed_store(store, backbone="flow_motion", progress=False)
        start = time.perf_counter()
        trained = train_detector(store, "gpu-ae", target="screw", kind="ae", device="cuda", ratios=(0.5, 0, 0, 0.5),
                                 threshold="manual:1.0", progress=False)
        lines.append(f"detector ae trained on cuda in {time.perf_counter() - start:.1f} s "
                     f"(best epoch {trained.detector.metrics['best_epoch']})")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
