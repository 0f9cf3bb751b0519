"""Training the autoencoder from stored vectors against the original project's way (a backbone pass per sample per epoch).

    .venv/bin/python benchmarks/detector_training.py [--clips 200] [--views 10] [--epochs 50] [--sample-clips 12]

From the store: a set of ``clips`` x ``views`` stored vectors with the default backbone's dimension
(seeded synthetic vectors: training cost depends only on the matrix), trained for ``epochs`` epochs
with early stopping off. The original way: every epoch decodes, augments and embeds every sample
again before the autoencoder step; its cost per sample is measured on ``sample-clips`` real demo
clips with the default backbone and extrapolated to the same epochs x samples. One run: read the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from detector.autoencoder import AutoencoderDetector
from detector.config import AEConfig
from embed import DEFAULT_BACKBONE, get_backbone
from embed.model_cache import load_model
from embed.forward import embed_frames
from ingest import decode_frames, probe
from ingest.augment import augment_frames
from ingest.demo_data import make_demo_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--views", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--sample-clips", type=int, default=12)
    args = parser.parse_args()
    spec = get_backbone(DEFAULT_BACKBONE)
    dim = spec.dim(spec.default_frames, spec.default_options)
    rows = args.clips * args.views
    vectors = np.random.default_rng(0).normal(0, 1, (rows, dim))
    config = replace(AEConfig(), epochs=args.epochs, patience=args.epochs + 1, milestones=(args.epochs + 1,))
    start = time.perf_counter()
    AutoencoderDetector(config).fit(vectors, [str(i // args.views) for i in range(rows)], val=vectors[: rows // 10])
    t_store = time.perf_counter() - start

    model = load_model(spec.name, spec.default_frames, dict(spec.default_options), random_init=False, weights_path=None)
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_demo_dataset(Path(tmp), clips_per_class=max(1, args.sample_clips // 10))[: args.sample_clips]
        start = time.perf_counter()
        for i, path in enumerate(clips):
            frames = decode_frames(path, spec.default_frames, num_frames=probe(path).num_frames, short_side=spec.input_size)
            frames, _ = augment_frames(frames, seed=i)
            embed_frames(model, spec, frames)
        per_sample = (time.perf_counter() - start) / len(clips)
    t_original = per_sample * rows * args.epochs + t_store  # the same AE steps on top of the backbone passes
    print(f"{'way':44} {'samples':>8} {'epochs':>6} {'seconds':>10}")
    print(f"{'from stored vectors (actionstore)':44} {rows:>8} {args.epochs:>6} {t_store:>10.2f}")
    print(f"{'backbone per sample per epoch (extrapolated)':44} {rows:>8} {args.epochs:>6} {t_original:>10.0f}")
    print(f"\nbackbone: {spec.name} ({dim}-d), {per_sample * 1000:.0f} ms per sample (decode + augment + embed, "
          f"measured on {len(clips)} demo clips)")
    print(f"ratio original / stored: {t_original / t_store:,.0f}x")


if __name__ == "__main__":
    main()
