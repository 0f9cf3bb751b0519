"""actionstore's command line: parse the arguments, call one app job, print its result.

Results go to stdout (``--format table|csv|json``; JSON is one document: the job's whole result);
progress and messages go to stderr. Exit codes: 0 done, 1 error (one line on stderr saying what to
do), 3 done with some inputs skipped (listed). No data is looped over here and no rule is decided
here: that is the app layer's (``app``), which the HTTP service calls too.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

import app
from app.defaults import (DEFAULT_DEVICE, DEFAULT_K, DEFAULT_METRIC, DEFAULT_ROOT, DEFAULT_VIEWS, MAX_CLIP_S, MAX_UPLOAD_MB,
                          SQL_ROW_LIMIT, SQL_TIME_LIMIT_S)
from app.encode import to_json
from app.errors import ActionstoreError, translate

if TYPE_CHECKING:
    from app.results import RunResult

EXIT_ERROR = 1
EXIT_SKIPPED = 3
CELL_WIDTH = 60


@dataclass
class Context:
    store: app.Store
    verbose: bool


class Command(click.Command):
    """A command that leaves its options where the error handler finds them (to name the one at fault)."""

    def invoke(self, ctx: click.Context) -> Any:
        ctx.find_root().meta["flags"] = {opt for p in self.params if isinstance(p, click.Option) for opt in p.opts}
        return super().invoke(ctx)


class Group(click.Group):
    """Turns every error into one line on stderr and exit code 1 (``--verbose``: the traceback)."""

    command_class = Command
    group_class = type

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if ctx.obj is not None and ctx.obj.verbose:
                raise
            fail(translate(exc), ctx.find_root().meta.get("flags", set()))


def fail(error: ActionstoreError, flags: set[str]) -> NoReturn:
    """One line on stderr; a bug says so rather than blaming the input."""
    if error.kind == "internal":
        click.echo(f"internal error: {error} (a bug, not your input: run again with --verbose and report it)", err=True)
    else:
        click.echo(f"error: {with_flag(error, flags)}", err=True)
    sys.exit(EXIT_ERROR)


def with_flag(error: ActionstoreError, flags: set[str]) -> str:
    """The message with the argument at fault (``error.param``) named as the command's option, when it has one."""
    message = str(error)
    name = (error.param or "").replace("_", "-")
    flag = f"-{name}" if len(name) == 1 else f"--{name}"
    if flag not in flags:
        return message
    if message.startswith((f"{name} ", f"{name}:")):
        return flag + message[len(name):]
    return message if flag in message else f"{message} (see {flag})"


def info(message: str) -> None:
    click.echo(message, err=True)


def _cell(value: Any, width: int) -> str:
    text = "" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def emit(records: Any, fmt: str, columns: list[str] | None = None, *, width: int = CELL_WIDTH) -> None:
    """Rows (dataclasses or dicts) to stdout: a JSON array of every field, CSV, or an aligned table of ``columns``."""
    if fmt == "json":
        click.echo(to_json(records))
        return
    fields = [r if isinstance(r, dict) else vars(r) for r in records]
    columns = columns or (list(fields[0]) if fields else [])
    table(columns, [[r.get(c) for c in columns] for r in fields], fmt, width)


def table(columns: list[str], rows: list[list[Any]], fmt: str, width: int = CELL_WIDTH) -> None:
    """Rows to stdout as CSV, or as an aligned table with cells cut at ``width`` characters."""
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerows([columns, *rows])
        return
    cells = [[_cell(v, width) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    for line in [columns, ["-" * w for w in widths], *cells]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip())
    info(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def done(result: Any, fmt: str, rows: Any = None, columns: list[str] | None = None, *lines: str,
         skipped: str = "input(s)") -> None:
    """Print a job's result: ``lines`` on stderr, then the whole result as JSON, or ``rows`` as a table;
    exit with code 3 when the job skipped inputs (listed on stderr, as ``skipped``)."""
    for line in lines:
        info(line)
    if fmt == "json":
        click.echo(to_json(result))
    elif rows is not None:
        emit(rows, fmt, columns)
    if getattr(result, "skipped", None):
        for item in result.skipped:
            info(f"skipped: {item.path}: {item.reason}")
        again = "; `actionstore errors` shows them again" if result.recorded else "; run again after fixing them"
        info(f"{len(result.skipped)} {skipped} skipped (listed above{again})")
        sys.exit(EXIT_SKIPPED)


format_option = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
set_option = click.option("--set", "set_ref", default=None,
                          help="Set id, name or backbone (default: the only set, else the default backbone's).")
metric_option = click.option("--metric", type=click.Choice(["l2", "cosine"]), default=DEFAULT_METRIC, show_default=True)
view_option = click.option("--view", "views", multiple=True, default=DEFAULT_VIEWS, show_default=True,
                           help="Views to search (repeatable); 'all' for every view.")
weights_option = click.option("--weights", "weights_path", type=click.Path(path_type=Path),
                              help="The weights file the set was made with, if any.")
device_option = click.option("--device", default=DEFAULT_DEVICE, show_default=True, help="auto (CUDA when visible), cpu, cuda or cuda:N.")
force_option = click.option("--force", is_flag=True, help="Recompute even if a stored run matches.")
workers_option = click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1), help="Clips processed at once.")
engine_option = click.option("--engine", default=None, help="What runs decode, forward and commit (default: local, the threaded runner).")
batch_option = click.option("--batch-size", default=16, show_default=True, type=int, help="Rows per committed Parquet file.")


@click.group(cls=Group)
@click.option("--store", "store_path", type=click.Path(path_type=Path), envvar="ACTIONSTORE_HOME", default=DEFAULT_ROOT,
              show_default=True, help="Store directory (or set ACTIONSTORE_HOME).")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds to wait for another process writing to the store before giving up.")
@click.option("--verbose", is_flag=True, help="Show full tracebacks.")
@click.pass_context
def main(ctx: click.Context, store_path: Path, lock_timeout: float, verbose: bool) -> None:
    """actionstore: embed action videos once, then answer questions from the store."""
    ctx.obj = Context(store=app.open_store(store_path, lock_timeout_s=lock_timeout), verbose=verbose)


@main.command("demo-data")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--clips-per-class", default=6, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--holdout", type=click.Path(path_type=Path), help="Also write one unseen clip per class here.")
@format_option
def demo_data(fmt: str, **options: Any) -> None:
    """Write the synthetic ten-class demo dataset (real H.264 files) to DIRECTORY."""
    r = app.demo_data(**options)
    held = f" (one held-out clip per class in {r.holdout})" if r.holdout else ""
    done(r, fmt, None, None, f"wrote {r.clips} clips in {r.classes} classes to {r.directory}{held}", f"labels CSV: {r.labels_csv}")


@main.group()
def preprocess() -> None:
    """Prepare a clip folder before ingesting: SRC/<label>/<clip> becomes DST/<label>/<clip>.mp4.

    Outputs are H.264 at the source's frame rate, upright (a phone's rotation tag is applied to the
    pixels; the output has none) and without audio. A clip whose output exists is skipped (outputs
    appear only when complete), so a second run only does what is missing.
    """


def _prepared(r: Any, what: str, fmt: str, *lines: str, verb: str) -> None:
    per_clip = f" ({r.seconds / r.written:.2f} s/clip)" if r.written else ""
    done(r, fmt, None, None, f"{what} {r.written} clips into {r.destination} ({r.already} already there) "
         f"in {r.seconds:.1f} s{per_clip}", *lines, skipped=f"clip(s) that could not be {verb}")


@preprocess.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@workers_option
@format_option
def transcode(fmt: str, **options: Any) -> None:
    """Re-encode every clip under SRC/<label>/ as H.264 MP4: upright, same frame rate, audio dropped."""
    _prepared(app.transcode(**options), "transcoded", fmt, verb="transcoded")


@preprocess.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--size", default=256, show_default=True, type=int, help="Side of the output square in pixels (even).")
@click.option("--offset-y", type=int, help="Move the square down this many source pixels (negative: up), e.g. -250.")
@click.option("--center", type=click.Choice(["fixed", "auto"]), default="fixed", show_default=True,
              help="fixed: the frame centre (plus --offset-y); auto: where the clip moves.")
@workers_option
@click.option("--preview", type=click.Path(path_type=Path), help="Contact sheet of a few crops  [default: DST/crop-preview.png]")
@format_option
def crop(fmt: str, **options: Any) -> None:
    """Crop the largest square out of every clip under SRC/<label>/ and resize it to --size.

    Output as for `transcode` (upright, same frame rate, audio dropped). Clips smaller than --size
    are not upscaled but listed as failed. The preview PNG shows, for a few clips, the middle frame
    with the crop box beside the cropped frame.
    """
    r = app.crop(**options)
    how = "on the motion" if options["center"] == "auto" else f"with offset {options['offset_y'] or 0} px"
    preview = f"preview: {r.preview}" if r.preview else "no preview: no clip was cropped in this run"
    _prepared(r, f"cropped ({options['size']}x{options['size']}, centred {how})", fmt, preview, verb="cropped")


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--labels", "labels_csv", type=click.Path(path_type=Path), help="Labels CSV (CLASS,LABEL,PATH_VIDEO,ENG_CLASS).")
@click.option("--prune", is_flag=True, help="Also remove catalogued clips under DIRECTORY whose files are gone.")
@format_option
@click.pass_obj
def ingest(obj: Context, fmt: str, **options: Any) -> None:
    """Probe, hash and catalogue every clip under DIRECTORY/<label>/."""
    r = app.ingest(obj.store, **options)
    names = f"; {r.label_names} label names from {options['labels_csv']}" if r.label_names else ""
    lines = [f"ingested {r.clips} clips from {r.directory}: {r.new} new, {r.moved} moved, {r.changed} changed, "
             f"{r.unchanged} unchanged{names}"]
    lines += [f"pruned {len(r.pruned)} clip(s) whose files are gone"] if options["prune"] else []
    lines += [f"ignored {len(r.ignored)} path(s) that are not clips in a label folder, e.g. {r.ignored[0]}"] if r.ignored else []
    lines += [f"note: {len(r.notes)} clip(s) have odd timestamps (e.g. {r.notes[0].path}: {r.notes[0].note})"] if r.notes else []
    done(r, fmt, None, None, *lines, skipped="unreadable file(s)")


@main.command()
@click.argument("refs", nargs=-1, required=True)
@format_option
@click.pass_obj
def remove(obj: Context, refs: tuple[str, ...], fmt: str) -> None:
    """Remove clips (by video id or path) from the catalog; every later query leaves them out."""
    r = app.remove(obj.store, refs)
    done(r, fmt, r.removed, ["video_id", "label", "path"], f"removed {len(r.removed)} clip(s)")


@main.command()
@click.option("--backbone", default=None, help="Backbone name (see `actionstore backbones`).")
@click.option("--frames", type=int, default=None, help="Frames sampled per clip (default: the backbone's).")
@batch_option
@click.option("--random-init", is_flag=True, help="Untrained weights (marked random-init everywhere).")
@click.option("--weights", "weights_path", type=click.Path(path_type=Path), help="Local weights file to load.")
@device_option
@click.option("--short-clips", type=click.Choice(["repeat", "refuse"]), default="repeat", show_default=True,
              help="A clip with fewer frames than asked: repeat frames to fill, or skip it.")
@click.option("--windows", default=None, metavar="LEN:STRIDE",
              help="Also one vector per sliding window (seconds), stored as view 'window' with t_start/t_end.")
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True,
              help="Forward under autocast in bf16/fp16 (faster transformers on a GPU); a set of its own.")
@click.option("--decode-workers", type=int, default=None, help="Clips decoded at once ahead of the model (default: min(4, cores)).")
@engine_option
@format_option
@click.pass_obj
def embed(obj: Context, fmt: str, **options: Any) -> None:
    """Embed every catalogued clip the set lacks (a second run on unchanged data runs no model)."""
    r = app.embed(obj.store, **options)
    s = r.set
    if not (r.model_ran or r.embedded or r.skipped):
        line = f"nothing to embed: all {r.already} clips are already in set {s.name} [{s.set_id}] (weights {s.weights}); no model was run"
    else:
        rate = f" ({r.forwards / r.seconds:.2f} clips/s)" if r.forwards and r.seconds else ""
        line = (f"embedded {r.embedded} clips into set {s.name} [{s.set_id}] (weights {s.weights}, dim {s.dim}) "
                f"in {r.seconds:.1f} s{rate}, {r.files_written} file(s); {r.already} already there")
    short = [f"note: {len(r.short)} clip(s) have fewer frames than the {s.frames} asked (e.g. {r.short[0].path}: "
             f"{r.short[0].frames}); their frames were repeated to fill the sample (flow_motion skips the repeats)"] if r.short else []
    short += [f"note: {len(r.noted)} clip(s) stored with damaged frames (e.g. {r.noted[0].path}: {r.noted[0].note}); "
              "`actionstore errors` lists them"] if r.noted else []
    done(r, fmt, None, None, line, *short, skipped="clip(s) left out of the set")


@main.command()
@format_option
@click.pass_obj
def sets(obj: Context, fmt: str) -> None:
    """List embedding sets with their provenance and SQL view names."""
    emit(app.list_sets(obj.store), fmt, ["name", "set_id", "backbone", "weights", "frames", "dim", "vectors", "sql_view"])


@main.command()
@format_option
def backbones(fmt: str) -> None:
    """List the registered backbones: dim, frame rule, input size and where their weights are (nothing is loaded)."""
    emit(app.list_backbones(), fmt, width=120)


@main.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(min=1), default=SQL_ROW_LIMIT, show_default=True, help="Rows returned at most.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=SQL_TIME_LIMIT_S,
              show_default=True, help="Seconds the query may run.")
@format_option
@click.pass_obj
def sql(obj: Context, query: str, fmt: str, **limits: Any) -> None:
    """Run read-only SQL over the catalog and the sets' views.

    Each set is a view emb_<set name> (vector as FLOAT[dim]) with centroids_<set name> (label, n,
    centroid); emb and centroids alias the default set; embeddings unions all sets. Distances:
    array_distance(a, b), array_cosine_distance(a, b). Only the store's own tables and views are
    readable; rows and time are bounded.
    """
    r = app.sql(obj.store, query, **limits)
    if r.truncated:
        info(f"note: stopped at the row limit of {r.row_limit} rows; pass --limit to see more")
    emit(r.records(), fmt) if fmt == "json" else table(r.columns, r.rows, fmt)


@main.command()
@format_option
@click.pass_obj
def errors(obj: Context, fmt: str) -> None:
    """List files that could not be read, with the reason and the stage that failed."""
    emit(app.list_errors(obj.store), fmt, ["path", "stage", "reason", "failed_at"])


@main.command()
@click.option("--repair", is_flag=True, help="Remove strays and temporary files, rebuild stale or damaged indexes "
              "(committed rows are never deleted).")
@format_option
@click.pass_obj
def check(obj: Context, fmt: str, repair: bool) -> None:
    """Check the store: parts against the manifest (checksums), indexes, strays, detector files."""
    r = app.check(obj.store, repair=repair)
    counts = ", ".join(f"{n} {what}" for what, n in r.checked.items())
    lines = [f"note: {n}" for n in r.notes] + [f"repaired: {x}" for x in r.repaired] + [f"problem: {p}" for p in r.problems]
    done(r, fmt, None, None, *lines, f"checked {counts}: " + ("consistent" if r.ok else f"{len(r.problems)} problem(s)"))
    if not r.ok:
        sys.exit(EXIT_ERROR)


@main.command()
@click.argument("clip")
@set_option
@click.option("-k", default=DEFAULT_K, show_default=True, type=int, help="How many neighbours.")
@metric_option
@click.option("--label", "labels", multiple=True, help="Only neighbours with this label (repeatable).")
@view_option
@click.option("--exclude-same-video", is_flag=True, help="Leave out every view of the query's own video.")
@click.option("--index", default="auto", show_default=True, help="auto, flat, ivf, hnsw, or a FAISS factory string.")
@weights_option
@device_option
@format_option
@click.pass_obj
def neighbors(obj: Context, clip: str, fmt: str, **options: Any) -> None:
    """Nearest stored clips to CLIP: a stored clip's path or video id, or a new video file."""
    r = app.neighbors(obj.store, clip, notify=info, **options)
    how = "embedded now" if r.embedded_now else f"stored clip {r.query_video_id}"
    done(r, fmt, r.neighbors, ["rank", "label", "distance", "view", "path"],
         f"nearest stored clips to {clip} ({how}) in set {r.set.name} (weights {r.set.weights}), {r.metric} distance:")


@main.command()
@click.argument("clip", required=False)
@click.option("--centroid", help="Search around this label's centroid instead of a clip.")
@click.option("--radius", required=True, type=float, help="Distance in the chosen metric.")
@set_option
@metric_option
@view_option
@click.option("--list", "list_rows", is_flag=True, help="List every row found, not just the counts by label.")
@weights_option
@device_option
@format_option
@click.pass_obj
def within(obj: Context, list_rows: bool, fmt: str, **options: Any) -> None:
    """Stored clips within --radius of CLIP or of a label's --centroid, counted by label."""
    r = app.within(obj.store, notify=info, **options)
    rows, columns = (r.rows, ["label", "distance", "view", "path"]) if list_rows else (r.counts, ["label", "count"])
    done(r, fmt, rows, columns, f"{len(r.rows)} stored rows within {r.radius} ({r.metric}) of {r.centre} in set {r.set.name}")


@main.command()
@set_option
@click.option("--to", "target", required=True, type=click.Path(path_type=Path), help="FILE.parquet or FILE.npy")
@view_option
@format_option
@click.pass_obj
def export(obj: Context, fmt: str, **options: Any) -> None:
    """Write a set's vectors with their labels to Parquet, or to .npy plus a .rows.csv."""
    r = app.export(obj.store, **options)
    done(r, fmt, None, None, *(f"wrote {path}" for path in r.files))


def _classes(value: str | None) -> list[str] | None:
    names = sorted({c.strip() for c in value.split(",") if c.strip()}) if value else []
    return names or None


def show_run(r: RunResult, fmt: str, table: str, columns: list[str] | None = None) -> None:
    """Print how a run was obtained, its notes and plots (stderr) and one of its tables (stdout)."""
    how = "reused stored run" if r.reused else "computed run"
    tables = ", ".join("analysis_" + t for t in r.tables)
    done(r, fmt, r.tables[table], columns,
         f"{how} {r.run_id} on set {r.set.name} (weights {r.set.weights}); tables: {tables} (WHERE run_id = '{r.run_id}')",
         *(f"note: {note}" for note in r.notes), *(f"plot: {path}" for path in r.artifacts))


@main.group()
def analyze() -> None:
    """Analyses of one embedding set, stored as tables (analysis_*) and PNGs under artifacts/."""


@analyze.command()
@set_option
@click.option("--classes", help="Comma-separated classes to keep (default: all).")
@click.option("--views", "views", multiple=True, default=DEFAULT_VIEWS, show_default=True, help="Views to map; 'all' for every view.")
@click.option("--method", type=click.Choice(["tsne", "pca"]), default="tsne", show_default=True)
@click.option("--perplexity", type=float, default=40.0, show_default=True, help="t-SNE perplexity (capped for small sets).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@force_option
@format_option
@click.pass_obj
def tsne(obj: Context, classes: str | None, views: tuple[str, ...], fmt: str, **options: Any) -> None:
    """A 2-D map (t-SNE or PCA) coloured by label; coordinates in analysis_projection."""
    r = app.analyze(obj.store, "projection", classes=_classes(classes), views=sorted(set(views)), **options)
    show_run(r, fmt, "projection", ["label", "x", "y", "view", "video_id"])


@analyze.command()
@set_option
@click.option("--classes", help="Comma-separated classes to keep (default: all).")
@click.option("--target", help="Class whose centroid the per-class distance plot uses (default: the first).")
@metric_option
@force_option
@format_option
@click.pass_obj
def centroids(obj: Context, classes: str | None, fmt: str, **options: Any) -> None:
    """Distances of every clip to every class centroid, and between centroids."""
    show_run(app.analyze(obj.store, "centroids", classes=_classes(classes), **options), fmt, "centroid_matrix")


@analyze.command()
@set_option
@metric_option
@view_option
@force_option
@format_option
@click.pass_obj
def hypersphere(obj: Context, views: tuple[str, ...], fmt: str, **options: Any) -> None:
    """Per class: who is inside the r_far sphere (intruders) and the r_near sphere (clean core)."""
    show_run(app.analyze(obj.store, "hypersphere", views=sorted(set(views)), **options), fmt, "hypersphere")


@main.command()
@click.option("--sets", "set_refs", multiple=True, help="Sets to compare (repeatable; default: every set with vectors).")
@click.option("-k", default=1, show_default=True, type=click.IntRange(min=1), help="Neighbours in the leave-one-out vote.")
@metric_option
@force_option
@format_option
@click.pass_obj
def compare(obj: Context, fmt: str, **options: Any) -> None:
    """The separability leaderboard: every set's leave-one-out k-NN accuracy, silhouette and margins."""
    r = app.compare(obj.store, **options)
    columns = ["name", "weights", "frames", "dim", "clips", "knn_accuracy", "chance", "silhouette", "mean_margin", "confused"]
    done(r, fmt, r.leaderboard, columns, *(f"note: {n}" for n in r.notes),
         "stored in analysis_separability (one row per set and run)")


@main.command()
@set_option
@force_option
@format_option
@click.pass_obj
def report(obj: Context, fmt: str, **options: Any) -> None:
    """Write one static HTML page (plots and tables, readable offline) for a set; prints its path."""
    r = app.report(obj.store, **options)
    click.echo(to_json(r) if fmt == "json" else r.path)


@main.command()
@click.option("--views", type=int, required=True, help="Augmented views per clip (aug-1 .. aug-N).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the views (each view's seed derives from it).")
@set_option
@click.option("--write-videos", type=click.Path(path_type=Path), help="Also write every view as DIR/<label>/<stem>.aug-<k>.mp4.")
@batch_option
@weights_option
@device_option
@engine_option
@format_option
@click.pass_obj
def augment(obj: Context, fmt: str, **options: Any) -> None:
    """Embed N seeded augmented views of every clip into a set (never mirrored; made on the fly, not stored as video)."""
    r = app.augment(obj.store, **options)
    written = [f"wrote {len(r.videos_written)} view video(s) under {options['write_videos']}"] if r.videos_written else []
    done(r, fmt, None, None, f"{r.embedded} new view(s) in set {r.set.name} [{r.set.set_id}], {r.already} already there "
         f"(--views {r.views} --seed {r.seed}) in {r.seconds:.1f} s; how each was made: table augment_views", *written,
         skipped="clip(s) that could not be decoded")


@main.group()
def dataset() -> None:
    """The dataset table in the original project's CSV shape."""


@dataset.command("export")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@format_option
@click.pass_obj
def dataset_export(obj: Context, target: Path, fmt: str) -> None:
    """Write CLASS, LABEL, PATH_VIDEO, ENG_CLASS for every catalogued clip to TARGET (a CSV)."""
    r = app.dataset_export(obj.store, target)
    done(r, fmt, None, None, f"wrote {r.clips} clip(s) in {r.classes} class(es) to {r.path}")


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
@click.option("--split", default="0.5,0.15,0.15,0.2", show_default=True, help="Shares of the target's videos for train,val,calib,test.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the split.")
@click.option("--calibration-others", is_flag=True, help="Put half of every other class's videos in calibration (for --threshold f1).")
@device_option
@force_option
@format_option
@click.pass_obj
def detector_train(obj: Context, name: str, fmt: str, **options: Any) -> None:
    """Train detector NAME for one class from stored vectors (the backbone never runs)."""
    r = app.train(obj.store, name, **options)
    d, m = r.detector, r.detector.metrics
    ignored = [f"config keys ignored (the embedding set decides them now): {', '.join(r.ignored_config)}"] if r.ignored_config else []
    split = ", ".join(f"{p} {c['target']}/{c['other']}" for p, c in r.split.items())
    done(r, fmt, None, None, *ignored, *(f"note: {n}" for n in r.notes),
         f"split by video (target/other): {split}; rows with views: {r.rows}",
         f"trained {d.kind} detector {d.name} for {d.target} on set {d.set_id} in {r.seconds:.1f} s; threshold "
         f"{d.threshold:.6g} ({d.threshold_rule}); test AUROC mean {m['test_auroc_mean']:.3f}, test accuracy {m['test_accuracy']:.3f}")


EVALUATION_TABLES = (("AUROC of the target against each class (test videos)", "detector_auroc"),
                     ("{target} against {vs} (test videos)", "detector_report"),
                     ("confusion matrix", "detector_confusion"),
                     ("the same split, every detector kind", "detector_comparison"))


@detector.command("evaluate")
@click.argument("name")
@click.option("--vs", default=None, help="Competitor class for the report and confusion matrix (default: the hardest).")
@device_option
@force_option
@format_option
@click.pass_obj
def detector_evaluate(obj: Context, name: str, fmt: str, **options: Any) -> None:
    """Scores of every clip, AUROC per class pair, report against --vs, and the AE beside the baselines."""
    r = app.evaluate(obj.store, name, **options)
    done(r, fmt, None, None, f"{'reused' if r.run.reused else 'computed'} evaluation run {r.run.run_id} of {name}; "
         "tables analysis_detector_*", *(f"note: {n}" for n in r.run.notes), *(f"plot: {p}" for p in r.run.artifacts))
    if fmt != "json":
        for title, table in EVALUATION_TABLES:
            info("-- " + title.format(target=r.detector.target, vs=r.vs))
            emit(r.run.tables[table], fmt)


@detector.command("list")
@format_option
@click.pass_obj
def detector_list(obj: Context, fmt: str) -> None:
    """Saved detectors with their set, target, threshold and test metrics."""
    emit(app.list_detectors(obj.store), fmt, ["name", "kind", "target", "set_id", "threshold_rule", "threshold", "test_auroc_mean", "created_at"])


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (not loopback: a token is required).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), help="File holding the bearer token "
              "(default: the environment variable ACTIONSTORE_TOKEN).")
@click.option("--no-auth", is_flag=True, help="No token (only on a loopback address).")
@click.option("--max-upload-mb", default=MAX_UPLOAD_MB, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--max-duration", "max_duration_s", default=MAX_CLIP_S, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Longest uploaded clip, in seconds.")
@click.pass_obj
def serve(obj: Context, **options: Any) -> None:
    """Serve the store over HTTP: nearest clips, verdicts, read-only SQL (API docs at /docs)."""
    from service import serve as run_service

    run_service(obj.store.root, notify=info, **options)


@main.command()
@click.argument("clip")
@click.option("--detector", required=True, help="A saved detector's name (see `actionstore detector list`).")
@click.option("-k", default=DEFAULT_K, show_default=True, type=int, help="Nearest stored clips to list.")
@weights_option
@device_option
@format_option
@click.pass_obj
def score(obj: Context, clip: str, fmt: str, **options: Any) -> None:
    """Is CLIP the detector's action? Prints score, threshold, verdict and the nearest stored clips."""
    r = app.score(obj.store, clip, **options)
    d = r.detector
    verdict = (f"{r.clip}: {r.verdict} (score {r.score:.6g} {'<=' if r.is_target else '>'} threshold {r.threshold:.6g}, "
               f"{r.threshold_rule}; detector {d.name}, {d.kind}, {'embedded now' if r.embedded_now else 'stored vector'})")
    if fmt == "table":
        click.echo(verdict)
    done(r, fmt, r.neighbors, ["rank", "label", "distance", "path"], *(f"note: {n}" for n in r.notes),
         *([verdict] if fmt != "table" else []))


if __name__ == "__main__":
    main()
