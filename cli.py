"""actionstore's command line: a thin click layer that parses, calls one library function, prints.

Results go to stdout (``--format table|csv|json``); progress and messages go to stderr.
Exit codes: 0 done, 1 error (one line on stderr), 3 done with some inputs skipped (listed).
Heavy libraries (torch, faiss) are imported only by the commands that need them.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from analysis.errors import AnalysisError
from detector.errors import DetectorError
from embed.errors import EmbedError
from ingest.errors import IngestError
from store import DEFAULT_ROOT, Store, StoreError

USER_ERRORS = (IngestError, StoreError, EmbedError, AnalysisError, DetectorError)
EXIT_SKIPPED = 3
CELL_WIDTH = 60


@dataclass
class Context:
    store: Store
    verbose: bool


class Group(click.Group):
    """Turns the library's user errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            if ctx.obj is not None and ctx.obj.verbose:
                raise
            fail(str(exc))


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def info(message: str) -> None:
    click.echo(message, err=True)


def emit(columns: list[str], rows: list[tuple[Any, ...]] | list[list[Any]], fmt: str, *, width: int = CELL_WIDTH) -> None:
    """Print rows to stdout as an aligned table (cells cut at ``width`` characters), CSV or JSON records."""
    if fmt == "json":
        records = [{c: _finite(v) for c, v in zip(columns, row)} for row in rows]
        click.echo(json.dumps(records, default=_jsonable, indent=2, allow_nan=False))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        cells = [[_cell(v, width) for v in row] for row in rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
        for line in [columns, ["-" * w for w in widths], *cells]:
            click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip())
        click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", err=True)


def _cell(value: Any, width: int = CELL_WIDTH) -> str:
    text = "" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _jsonable(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _finite(value: Any) -> Any:
    """NaN and infinities become null, which JSON can hold."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def report_skipped(skipped: list[tuple[str, str]], what: str, *, recorded: bool = True) -> None:
    """List skipped inputs on stderr and exit with code 3 (``recorded``: they are also in the store's errors)."""
    for path, reason in skipped:
        info(f"skipped: {path}: {reason}")
    again = "; `actionstore errors` shows them again" if recorded else "; run again after fixing them"
    info(f"{len(skipped)} {what} skipped (listed above{again})")
    sys.exit(EXIT_SKIPPED)


format_option = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)


@click.group(cls=Group)
@click.option("--store", "store_path", type=click.Path(path_type=Path), envvar="ACTIONSTORE_HOME", default=DEFAULT_ROOT,
              show_default=True, help="Store directory (or set ACTIONSTORE_HOME).")
@click.option("--verbose", is_flag=True, help="Show full tracebacks.")
@click.pass_context
def main(ctx: click.Context, store_path: Path, verbose: bool) -> None:
    """actionstore: embed action videos once, then answer questions from the store."""
    ctx.obj = Context(store=Store(store_path), verbose=verbose)


@main.command("demo-data")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--clips-per-class", default=6, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--holdout", type=click.Path(path_type=Path), help="Also write one unseen clip per class here.")
def demo_data(directory: Path, clips_per_class: int, seed: int, holdout: Path | None) -> None:
    """Write the synthetic ten-class demo dataset (real H.264 files) to DIRECTORY."""
    from ingest.demo_data import DEMO_CLASSES, LABELS_FILE, make_demo_dataset

    written = make_demo_dataset(directory, clips_per_class=clips_per_class, seed=seed, holdout=holdout)
    info(f"wrote {len(written)} clips in {len(DEMO_CLASSES)} classes to {directory}"
         + (f" (one held-out clip per class in {holdout})" if holdout else ""))
    info(f"labels CSV: {directory / LABELS_FILE}")


@main.group()
def preprocess() -> None:
    """Prepare a clip folder before ingesting: SRC/<label>/<clip> becomes DST/<label>/<clip>.mp4.

    Outputs are H.264 at the source's frame rate, upright (a phone's rotation tag is applied to the
    pixels; the output has none) and without audio. A clip whose output exists is skipped (outputs
    appear only when complete), so a second run only does what is missing.
    """


workers_option = click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1), help="Clips processed at once.")


def _prepared(report: Any, done: str, dst: Path) -> None:
    """Print the summary line of a preprocess run."""
    per_clip = f" ({report.seconds / report.written:.2f} s/clip)" if report.written else ""
    info(f"{done} {report.written} clips into {dst} ({report.skipped} already there) in {report.seconds:.1f} s{per_clip}")


@preprocess.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@workers_option
def transcode(src: Path, dst: Path, workers: int) -> None:
    """Re-encode every clip under SRC/<label>/ as H.264 MP4: upright, same frame rate, audio dropped."""
    from ingest.prepare import transcode as run

    report = run(src, dst, workers=workers)
    _prepared(report, "transcoded", dst)
    if report.failed:
        report_skipped(report.failed, "clip(s) that could not be transcoded", recorded=False)


@preprocess.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--size", default=256, show_default=True, type=int, help="Side of the output square in pixels (even).")
@click.option("--offset-y", type=int, help="Move the square down this many source pixels (negative: up), e.g. -250.")
@click.option("--center", type=click.Choice(["fixed", "auto"]), default="fixed", show_default=True,
              help="fixed: the frame centre (plus --offset-y); auto: where the clip moves.")
@workers_option
@click.option("--preview", type=click.Path(path_type=Path), help="Contact sheet of a few crops  [default: DST/crop-preview.png]")
def crop(src: Path, dst: Path, size: int, offset_y: int | None, center: str, workers: int, preview: Path | None) -> None:
    """Crop the largest square out of every clip under SRC/<label>/ and resize it to --size.

    Output as for `transcode` (upright, same frame rate, audio dropped). Clips smaller than --size
    are not upscaled but listed as failed. The preview PNG shows, for a few clips, the middle frame
    with the crop box beside the cropped frame.
    """
    from ingest.prepare import crop as run

    report = run(src, dst, size=size, offset_y=offset_y, center=center, workers=workers, preview=preview or dst / "crop-preview.png")
    how = "on the motion" if center == "auto" else f"with offset {offset_y or 0} px"
    _prepared(report, f"cropped ({size}x{size}, centred {how})", dst)
    info(f"preview: {report.preview}" if report.preview else "no preview: no clip was cropped in this run")
    if report.failed:
        report_skipped(report.failed, "clip(s) that could not be cropped", recorded=False)


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--labels", "labels_csv", type=click.Path(path_type=Path), help="Labels CSV (CLASS,LABEL,PATH_VIDEO,ENG_CLASS).")
@click.option("--prune", is_flag=True, help="Also remove catalogued clips under DIRECTORY whose files are gone.")
@click.pass_obj
def ingest(obj: Context, directory: Path, labels_csv: Path | None, prune: bool) -> None:
    """Probe, hash and catalogue every clip under DIRECTORY/<label>/."""
    from ingest import read_labels_csv, scan_folder

    names = read_labels_csv(labels_csv) if labels_csv else []
    result = scan_folder(directory)
    summary = obj.store.record_ingest(result.videos, result.errors, [vars(n) for n in names])
    info(f"ingested {len(result.videos)} clips from {directory}: {summary.new} new, {summary.moved} moved, "
         f"{summary.changed} changed, {summary.unchanged} unchanged"
         + (f"; {len(names)} label names from {labels_csv}" if names else ""))
    if prune:
        removed = obj.store.remove_videos(obj.store.missing_under(directory))
        info(f"pruned {len(removed)} clip(s) whose files are gone")
    if result.ignored:
        info(f"ignored {len(result.ignored)} non-video file(s), e.g. {result.ignored[0]}")
    if summary.failed:
        report_skipped(summary.failed, "unreadable file(s)")


@main.command()
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def remove(obj: Context, refs: tuple[str, ...]) -> None:
    """Remove clips (by video id or path) from the catalog; every later query leaves them out."""
    for video in obj.store.remove_videos(refs):
        info(f"removed {video['video_id']} ({video['label']}: {video['path']})")


@main.command()
@click.option("--backbone", default=None, help="Backbone name (see `actionstore backbones`).")
@click.option("--frames", type=int, default=None, help="Frames sampled per clip (default: the backbone's).")
@click.option("--batch-size", default=16, show_default=True, type=int, help="Clips per committed Parquet file.")
@click.option("--random-init", is_flag=True, help="Untrained weights (marked random-init everywhere).")
@click.option("--weights", "weights_path", type=click.Path(path_type=Path), help="Local weights file to load.")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA when visible), cpu, cuda or cuda:N.")
@click.option("--short-clips", type=click.Choice(["repeat", "refuse"]), default="repeat", show_default=True,
              help="A clip with fewer frames than asked: repeat frames to fill, or skip it.")
@click.option("--windows", default=None, metavar="LEN:STRIDE",
              help="Also one vector per sliding window (seconds), stored as view 'window' with t_start/t_end.")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True,
              help="Forward under autocast in bf16/fp16 (faster transformers on a GPU); a set of its own.")
@click.option("--decode-workers", type=int, default=None, help="Clips decoded at once ahead of the model (default: min(4, cores)).")
@click.pass_obj
def embed(obj: Context, backbone: str | None, frames: int | None, batch_size: int, random_init: bool,
          weights_path: Path | None, device: str, short_clips: str, windows: str | None, precision: str,
          decode_workers: int | None) -> None:
    """Embed every catalogued clip the set lacks (a second run on unchanged data runs no model)."""
    from embed import DEFAULT_BACKBONE, embed_store

    report = embed_store(obj.store, backbone=backbone or DEFAULT_BACKBONE, frames=frames, batch_size=batch_size,
                         random_init=random_init, weights_path=weights_path, device=device, short_clips=short_clips,
                         windows=windows, precision=precision,
                         **({"decode_workers": decode_workers} if decode_workers is not None else {}))
    s = report.set
    if report.forwards == 0 and report.embedded == 0 and not report.failed:
        info(f"nothing to embed: all {report.already} clips are already in set {s.name} [{s.set_id}] "
             f"(weights {s.weights}); no model was run")
    else:
        rate = f" ({report.forwards / report.seconds:.2f} clips/s)" if report.forwards and report.seconds else ""
        info(f"embedded {report.embedded} clips into set {s.name} [{s.set_id}] (weights {s.weights}, dim {s.dim}) "
             f"in {report.seconds:.1f} s{rate}, {report.files_written} file(s); {report.already} already there")
    if report.short:
        path, have = report.short[0]
        info(f"note: {len(report.short)} clip(s) have fewer frames than the {s.frames} asked (e.g. {path}: {have}); "
             "their frames were repeated to fill the sample (flow_motion skips the repeats)")
    if report.failed:
        report_skipped(report.failed, "clip(s) that could not be decoded")


@main.command()
@format_option
@click.pass_obj
def sets(obj: Context, fmt: str) -> None:
    """List embedding sets with their provenance and SQL view names."""
    rows = [(s.name, s.set_id, s.backbone, s.weights, s.frames, s.dim, s.num_vectors, s.view_name) for s in obj.store.sets()]
    emit(["name", "set_id", "backbone", "weights", "frames", "dim", "vectors", "sql_view"], rows, fmt)


@main.command()
@format_option
def backbones(fmt: str) -> None:
    """List the registered backbones: dim, frame rule, input size and where their weights are (nothing is loaded)."""
    from embed.registry import backbones as registered  # `embed.backbones` turns into the subpackage once it is imported
    from embed.weight_sources import weights_status

    rows = [(b.name, b.dim(b.default_frames, dict(b.default_options)), b.frame_rule, b.default_frames, b.input_size,
             weights_status(b), b.summary) for b in registered()]
    emit(["name", "dim", "frames", "default_frames", "input_size", "weights", "summary"], rows, fmt, width=120)


@main.command()
@click.argument("query")
@format_option
@click.pass_obj
def sql(obj: Context, query: str, fmt: str) -> None:
    """Run read-only SQL over the catalog and the sets' views.

    Each set is a view emb_<set name> (vector as FLOAT[dim]) with centroids_<set name> (label, n,
    centroid); emb and centroids alias the default set; embeddings unions all sets. Distances:
    array_distance(a, b), array_cosine_distance(a, b).
    """
    from embed.registry import DEFAULT_BACKBONE

    columns, rows = obj.store.sql(query, default_backbone=DEFAULT_BACKBONE)
    emit(columns, rows, fmt)


@main.command()
@format_option
@click.pass_obj
def errors(obj: Context, fmt: str) -> None:
    """List files that could not be read, with the reason and the stage that failed."""
    rows = obj.store.errors()
    emit(["path", "stage", "reason", "failed_at"], [tuple(r.values()) for r in rows], fmt)


set_option = click.option("--set", "set_ref", default=None,
                          help="Set id, name or backbone (default: the only set, else the default backbone's).")
metric_option = click.option("--metric", type=click.Choice(["l2", "cosine"]), default="l2", show_default=True)
view_option = click.option("--view", "views", multiple=True, default=("original",), show_default=True,
                           help="Views to search (repeatable); 'all' for every view.")
weights_option = click.option("--weights", "weights_path", type=click.Path(path_type=Path),
                              help="Weights file, for sets made with --weights.")


def _views(views: tuple[str, ...]) -> tuple[str, ...] | None:
    return None if "all" in views else views


@main.command()
@click.argument("clip")
@set_option
@click.option("-k", default=5, show_default=True, type=int, help="How many neighbours.")
@metric_option
@click.option("--label", "labels", multiple=True, help="Only neighbours with this label (repeatable).")
@view_option
@click.option("--exclude-same-video", is_flag=True, help="Leave out every view of the query's own video.")
@click.option("--index", "kind", default="auto", show_default=True, help="auto, flat, ivf, hnsw, or a FAISS factory string.")
@weights_option
@format_option
@click.pass_obj
def neighbors(obj: Context, clip: str, set_ref: str | None, k: int, metric: str, labels: tuple[str, ...],
              views: tuple[str, ...], exclude_same_video: bool, kind: str, weights_path: Path | None, fmt: str) -> None:
    """Nearest stored clips to CLIP: a stored clip's path or video id, or a new video file."""
    from embed import neighbors as find

    found = find(obj.store, clip, set_ref=set_ref, k=k, metric=metric, labels=labels or None, views=_views(views),
                 exclude_same_video=exclude_same_video, kind=kind, weights_path=weights_path, notify=info)
    how = "embedded now" if found.embedded_now else f"stored clip {found.query_video_id}"
    info(f"nearest stored clips to {clip} ({how}) in set {found.set.name} (weights {found.set.weights}), {metric} distance:")
    emit(["rank", "label", "distance", "view", "path"],
         [(i + 1, h.label, h.distance, h.view, h.path) for i, h in enumerate(found.hits)], fmt)


@main.command()
@click.argument("clip", required=False)
@click.option("--centroid", help="Search around this label's centroid instead of a clip.")
@click.option("--radius", required=True, type=float, help="Distance in the chosen metric.")
@set_option
@metric_option
@view_option
@click.option("--list", "list_rows", is_flag=True, help="List every row found, not just the counts by label.")
@weights_option
@format_option
@click.pass_obj
def within(obj: Context, clip: str | None, centroid: str | None, radius: float, set_ref: str | None, metric: str,
           views: tuple[str, ...], list_rows: bool, weights_path: Path | None, fmt: str) -> None:
    """Stored clips within --radius of CLIP or of a label's --centroid, counted by label."""
    from embed import range_query
    from store import counts_by_label

    found = range_query(obj.store, radius=radius, clip=clip, centroid=centroid, set_ref=set_ref, metric=metric,
                        views=_views(views), weights_path=weights_path, notify=info)
    info(f"{len(found.hits)} stored rows within {radius} ({metric}) of {found.centre} in set {found.set.name}")
    if list_rows:
        emit(["label", "distance", "view", "path"], [(h.label, h.distance, h.view, h.path) for h in found.hits], fmt)
    else:
        emit(["label", "count"], list(counts_by_label(found.hits).items()), fmt)


@main.command()
@set_option
@click.option("--to", "target", required=True, type=click.Path(path_type=Path), help="FILE.parquet or FILE.npy")
@view_option
@click.pass_obj
def export(obj: Context, set_ref: str | None, target: Path, views: tuple[str, ...]) -> None:
    """Write a set's vectors with their labels to Parquet, or to .npy plus a .rows.csv."""
    from embed.sets import resolve_set
    from store.export import export_set

    eset = resolve_set(obj.store, set_ref)
    for path in export_set(obj.store, eset.set_id, target, views=_views(views)):
        info(f"wrote {path}")


force_option = click.option("--force", is_flag=True, help="Recompute even if a stored run matches.")


def _classes(value: str | None) -> list[str] | None:
    names = sorted({c.strip() for c in value.split(",") if c.strip()}) if value else []
    return names or None


def show_run(result: Any, table: str, fmt: str, columns: list[str] | None = None) -> None:
    """Print how a run was obtained, its notes and artifacts (stderr) and one of its tables (stdout)."""
    how = "reused stored run" if result.reused else "computed run"
    info(f"{how} {result.run.run_id} on set {result.set.name} (weights {result.set.weights}); "
         f"tables: {', '.join('analysis_' + t for t in result.tables)} (WHERE run_id = '{result.run.run_id}')")
    for note in result.run.notes:
        info(f"note: {note}")
    for path in result.artifacts:
        info(f"plot: {path}")
    data = result.tables[table]
    names = columns or data.column_names
    emit(names, list(zip(*(data.column(c).to_pylist() for c in names))), fmt)


@main.group()
def analyze() -> None:
    """Analyses of one embedding set, stored as tables (analysis_*) and PNGs under artifacts/."""


@analyze.command()
@set_option
@click.option("--classes", help="Comma-separated classes to keep (default: all).")
@click.option("--views", "views", multiple=True, default=("original",), show_default=True, help="Views to map; 'all' for every view.")
@click.option("--method", type=click.Choice(["tsne", "pca"]), default="tsne", show_default=True)
@click.option("--perplexity", type=float, default=40.0, show_default=True, help="t-SNE perplexity (capped for small sets).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@force_option
@format_option
@click.pass_obj
def tsne(obj: Context, set_ref: str | None, classes: str | None, views: tuple[str, ...], method: str, perplexity: float,
         seed: int, force: bool, fmt: str) -> None:
    """A 2-D map (t-SNE or PCA) coloured by label; coordinates in analysis_projection."""
    from analysis.runner import run_analysis

    result = run_analysis(obj.store, "projection", set_ref=set_ref, force=force, method=method, perplexity=perplexity,
                          seed=seed, classes=_classes(classes), views=sorted(set(views)))
    show_run(result, "projection", fmt, ["label", "x", "y", "view", "video_id"])


@analyze.command()
@set_option
@click.option("--classes", help="Comma-separated classes to keep (default: all).")
@click.option("--target", help="Class whose centroid the per-class distance plot uses (default: the first).")
@metric_option
@force_option
@format_option
@click.pass_obj
def centroids(obj: Context, set_ref: str | None, classes: str | None, target: str | None, metric: str, force: bool, fmt: str) -> None:
    """Distances of every clip to every class centroid, and between centroids."""
    from analysis.runner import run_analysis

    result = run_analysis(obj.store, "centroids", set_ref=set_ref, force=force, classes=_classes(classes), target=target, metric=metric)
    show_run(result, "centroid_matrix", fmt)


@analyze.command()
@set_option
@metric_option
@view_option
@force_option
@format_option
@click.pass_obj
def hypersphere(obj: Context, set_ref: str | None, metric: str, views: tuple[str, ...], force: bool, fmt: str) -> None:
    """Per class: who is inside the r_far sphere (intruders) and the r_near sphere (clean core)."""
    from analysis.runner import run_analysis

    result = run_analysis(obj.store, "hypersphere", set_ref=set_ref, force=force, metric=metric, views=sorted(set(views)))
    show_run(result, "hypersphere", fmt)


@main.command()
@click.option("--sets", "set_refs", multiple=True, help="Sets to compare (repeatable; default: every set with vectors).")
@click.option("-k", default=1, show_default=True, type=click.IntRange(min=1), help="Neighbours in the leave-one-out vote.")
@metric_option
@force_option
@format_option
@click.pass_obj
def compare(obj: Context, set_refs: tuple[str, ...], k: int, metric: str, force: bool, fmt: str) -> None:
    """The separability leaderboard: every set's leave-one-out k-NN accuracy, silhouette and margins."""
    from analysis.runner import compare as leaderboard

    board, results, skipped = leaderboard(obj.store, set_refs=set_refs or None, k=k, metric=metric, force=force)
    for note in skipped:
        info(f"note: {note}")
    for result in results:
        for note in result.run.notes:
            info(f"note ({result.set.name}): {note}")
    info("stored in analysis_separability (one row per set and run)")
    columns = ["name", "weights", "frames", "dim", "clips", "knn_accuracy", "chance", "silhouette", "mean_margin", "confused"]
    emit(columns, list(zip(*(board.column(c).to_pylist() for c in columns))) if board.num_rows else [], fmt)


@main.command()
@set_option
@force_option
@click.pass_obj
def report(obj: Context, set_ref: str | None, force: bool) -> None:
    """Write one static HTML page (plots and tables, readable offline) for a set; prints its path."""
    from analysis.report import write_report

    click.echo(str(write_report(obj.store, set_ref=set_ref, force=force)))


@main.command()
@click.option("--views", type=int, required=True, help="Augmented views per clip (aug-1 .. aug-N).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the views (each view's seed derives from it).")
@set_option
@click.option("--write-videos", type=click.Path(path_type=Path), help="Also write every view as DIR/<label>/<stem>.aug-<k>.mp4.")
@click.option("--batch-size", default=16, show_default=True, type=int, help="Views per committed Parquet file.")
@click.option("--weights", "weights_path", type=click.Path(path_type=Path), help="The weights file the set was made with, if any.")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA when visible), cpu, cuda or cuda:N.")
@click.pass_obj
def augment(obj: Context, views: int, seed: int, set_ref: str | None, write_videos: Path | None, batch_size: int,
            weights_path: Path | None, device: str) -> None:
    """Embed N seeded augmented views of every clip into a set (never mirrored; made on the fly, not stored as video)."""
    from embed.views import augment_store

    report = augment_store(obj.store, views=views, seed=seed, set_ref=set_ref, write_videos=write_videos,
                           batch_size=batch_size, weights_path=weights_path, device=device)
    s = report.set
    info(f"{report.embedded} new view(s) in set {s.name} [{s.set_id}], {report.already} already there "
         f"(--views {views} --seed {seed}) in {report.seconds:.1f} s; how each was made: table augment_views")
    if report.videos_written:
        info(f"wrote {len(report.videos_written)} view video(s) under {write_videos}")
    if report.failed:
        report_skipped(report.failed, "clip(s) that could not be decoded")


@main.group()
def dataset() -> None:
    """The dataset table in the original project's CSV shape."""


@dataset.command("export")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def dataset_export(obj: Context, target: Path) -> None:
    """Write CLASS, LABEL, PATH_VIDEO, ENG_CLASS for every catalogued clip to TARGET (a CSV)."""
    from ingest.labels import write_labels_csv

    rows = obj.store.dataset_rows()
    write_labels_csv(target, rows)
    info(f"wrote {len(rows)} clip(s) in {len({r[3] for r in rows})} class(es) to {target}")


@main.group()
def detector() -> None:
    """One-class detectors trained from a set's stored vectors: train, evaluate, list."""


@detector.command("train")
@click.argument("name")
@click.option("--target", default=None, help="The class to recognise (default: the config's class_to_recognize).")
@set_option
@click.option("--kind", type=click.Choice(["ae", "centroid", "knn", "pca", "mahalanobis"]), default="ae", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Autoencoder settings in YAML (actionstore's keys or the original project's config file).")
@click.option("--threshold", default="percentile:99", show_default=True,
              help="percentile:P of held-out target videos, f1 on labelled calibration clips, or manual:VALUE.")
@click.option("--split", "split_text", default="0.5,0.15,0.15,0.2", show_default=True,
              help="Shares of the target's videos for train,val,calib,test.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the split.")
@click.option("--calibration-others", is_flag=True, help="Put half of every other class's videos in calibration (for --threshold f1).")
@click.option("--device", default="auto", show_default=True, help="torch device for the autoencoder: auto, cpu, cuda.")
@force_option
@click.pass_obj
def detector_train(obj: Context, name: str, target: str | None, set_ref: str | None, kind: str, config_path: Path | None,
                   threshold: str, split_text: str, seed: int, calibration_others: bool, device: str, force: bool) -> None:
    """Train detector NAME for one class from stored vectors (the backbone never runs)."""
    from detector.splits import parse_ratios
    from detector.training import train_detector

    report = train_detector(obj.store, name, target=target, set_ref=set_ref, kind=kind, config_path=config_path,
                            threshold=threshold, ratios=parse_ratios(split_text), seed=seed,
                            calibration_others=calibration_others, device=device, force=force)
    d = report.detector
    if report.ignored_config:
        info(f"config keys ignored (the embedding set decides them now): {', '.join(report.ignored_config)}")
    for note in report.notes:
        info(f"note: {note}")
    counts = report.split.counts()
    info("split by video (target/other): " + ", ".join(f"{p} {c['target']}/{c['other']}" for p, c in counts.items())
         + f"; rows with views: {report.rows}")
    info(f"trained {d.kind} detector {d.name} for {d.target} on set {d.set_id} in {report.seconds:.1f} s; "
         f"threshold {d.threshold:.6g} ({d.threshold_rule}); test AUROC mean {d.metrics['test_auroc_mean']:.3f}, "
         f"test accuracy {d.metrics['test_accuracy']:.3f}")


@detector.command("evaluate")
@click.argument("name")
@click.option("--vs", default=None, help="Competitor class for the report and confusion matrix (default: the hardest).")
@force_option
@format_option
@click.pass_obj
def detector_evaluate(obj: Context, name: str, vs: str | None, force: bool, fmt: str) -> None:
    """Scores of every clip, AUROC per class pair, report against --vs, and the AE beside the baselines."""
    from detector.evaluation import evaluate_detector

    ev = evaluate_detector(obj.store, name, vs=vs, force=force)
    info(f"{'reused' if ev.reused else 'computed'} evaluation run {ev.run.run_id} of {name}; tables analysis_detector_*")
    for note in ev.run.notes:
        info(f"note: {note}")
    for artifact in ev.run.artifacts:
        info(f"plot: {artifact}")
    for title, table in (("AUROC of the target against each class (test videos)", "detector_auroc"),
                         (f"{ev.detector.target} against {ev.vs} (test videos)", "detector_report"),
                         ("confusion matrix", "detector_confusion"),
                         ("the same split, every detector kind", "detector_comparison")):
        rows = ev.tables[table].to_pylist()
        info(f"-- {title}")
        emit(list(rows[0]) if rows else [], [list(r.values()) for r in rows], fmt)


@detector.command("list")
@format_option
@click.pass_obj
def detector_list(obj: Context, fmt: str) -> None:
    """Saved detectors with their set, target, threshold and test metrics."""
    import json

    rows = [(r["name"], r["kind"], r["target"], r["set_id"], r["threshold_rule"], r["threshold"],
             json.loads(r["metrics"]).get("test_auroc_mean"), r["created_at"]) for r in obj.store.detector_rows()]
    emit(["name", "kind", "target", "set_id", "threshold_rule", "threshold", "test_auroc_mean", "created_at"], rows, fmt)


@main.command()
@click.argument("clip")
@click.option("--detector", "name", required=True, help="A saved detector's name (see `actionstore detector list`).")
@click.option("-k", default=5, show_default=True, type=int, help="Nearest stored clips to list.")
@click.option("--weights", "weights_path", type=click.Path(path_type=Path), help="The weights file the set was made with, if any.")
@format_option
@click.pass_obj
def score(obj: Context, clip: str, name: str, k: int, weights_path: Path | None, fmt: str) -> None:
    """Is CLIP the detector's action? Prints score, threshold, verdict and the nearest stored clips."""
    from detector.scoring import score_clip

    v = score_clip(obj.store, clip, name, k=k, weights_path=weights_path)
    for note in v.notes:
        info(f"note: {note}")
    d = v.detector
    verdict = f"IS {d.target}" if v.is_target else f"is NOT {d.target}"
    click.echo(f"{v.clip}: {verdict} (score {v.score:.6g} {'<=' if v.is_target else '>'} threshold {d.threshold:.6g}, "
               f"{d.threshold_rule}; detector {d.name}, {d.kind}, {'embedded now' if v.embedded_now else 'stored vector'})")
    emit(["rank", "label", "distance", "path"],
         [(i + 1, h.label, round(h.distance, 4), h.path) for i, h in enumerate(v.neighbors)], fmt)


if __name__ == "__main__":
    main()
