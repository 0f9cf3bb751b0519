"""PNG plots of analysis results (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter(path: Path, xy: np.ndarray, labels: np.ndarray, title: str) -> Path:
    """2-D points coloured by label, with a legend beside the plot."""
    plt = _pyplot()
    classes = sorted(set(labels.tolist()))
    colours = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    fig, ax = plt.subplots(figsize=(8, 6), dpi=110)
    for i, label in enumerate(classes):
        mask = labels == label
        ax.scatter(xy[mask, 0], xy[mask, 1], s=22, color=colours(i % colours.N), label=f"{label} ({mask.sum()})", alpha=0.85)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    return _save(fig, path)


def heatmap(path: Path, matrix: np.ndarray, names: list[str], title: str) -> Path:
    """A labelled square matrix with its values written in the cells."""
    plt = _pyplot()
    size = max(5.0, 0.6 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size), dpi=110)
    image = ax.imshow(matrix, cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{matrix[i, j]:.2g}", ha="center", va="center", fontsize=6, color="white")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(title)
    return _save(fig, path)


def distances_by_class(path: Path, distances: np.ndarray, labels: np.ndarray, target: str) -> Path:
    """Each clip's distance to one class's centroid, one column of points per class."""
    plt = _pyplot()
    classes = sorted(set(labels.tolist()), key=lambda c: (c != target, c))
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(classes) + 2), 4.5), dpi=110)
    rng = np.random.default_rng(0)
    for i, label in enumerate(classes):
        values = distances[labels == label]
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=14, alpha=0.8,
                   color="tab:red" if label == target else "tab:blue")
        ax.hlines(np.median(values), i - 0.3, i + 0.3, color="black", linewidth=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"distance to the {target} centroid")
    ax.set_title(f"Distance of every clip to the {target} centroid (line: median)")
    return _save(fig, path)


def sphere_counts(path: Path, counts: dict[str, dict[str, int]], radii: dict[str, float], sphere: str) -> Path:
    """One bar chart per class: how many embeddings of each label fall inside its sphere."""
    plt = _pyplot()
    classes = sorted(counts)
    columns = min(5, len(classes))
    rows = int(np.ceil(len(classes) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.8 * rows), dpi=100, squeeze=False)
    for ax, label in zip(axes.flat, classes):
        names = sorted(counts[label], key=lambda n: (n != label, -counts[label][n], n))
        ax.bar(range(len(names)), [counts[label][n] for n in names],
               color=["tab:green" if n == label else "tab:red" for n in names])
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=6)
        ax.set_title(f"{label}  r={radii[label]:.3g}", fontsize=8)
    for ax in list(axes.flat)[len(classes):]:
        ax.axis("off")
    fig.suptitle(f"Embeddings inside each class's {sphere} sphere (green: the class itself)")
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    fig.tight_layout()
    fig.savefig(tmp, format="png")
    _pyplot().close(fig)
    tmp.replace(path)
    return path
