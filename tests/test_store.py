"""The store on real DuckDB and Parquet: ingest records, set ids, atomic commits, the writer lock, SQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest import scan_folder
from ingest.demo_data import render_clip, write_clip
from store import NoSuchSet, ReadOnlySQL, Store, StoreError, StoreLocked, manifest, set_id_for
from store.parquet_parts import embedding_table
from store.videos import insert_errors

SETTINGS = dict(backbone="bb", weights="random-init", frames=4, sampling="uniform", input_size=32, options={}, dim=3)


def ingest(store: Store, folder: Path):
    result = scan_folder(folder, progress=False)
    return store.record_ingest(result.videos, result.errors)


def snapshot(store: Store) -> tuple:
    """Everything a user could read from the store."""
    vectors = {}
    for s in store.sets():
        rows, matrix = store.load_vectors(s.set_id, views=None)
        vectors[s.set_id] = (rows.to_pylist(), matrix.tobytes())
    return (store.videos(), store.errors(), store.sets(), vectors)


def add_vectors(store: Store, set_id: str, video_ids: list[str], seed: int = 0) -> None:
    vectors = np.random.default_rng(seed).normal(size=(len(video_ids), 3)).astype(np.float32)
    n = len(video_ids)
    store.commit_embeddings(set_id, embedding_table(video_ids, ["original"] * n, [0] * n, [0.0] * n, [1.0] * n, vectors))


def test_reingest_is_idempotent_and_a_moved_file_keeps_its_id(store: Store, videos: Path) -> None:
    first = ingest(store, videos)
    assert first.new == 20 and not first.failed
    before = {v["video_id"]: v for v in store.videos()}
    again = ingest(store, videos)
    assert (again.new, again.unchanged) == (0, 20)
    moved_from = next((videos / "screw").iterdir())
    moved_to = videos / "screw" / "renamed.mp4"
    moved_from.rename(moved_to)
    third = ingest(store, videos)
    assert third.moved == 1
    after = {v["video_id"]: v for v in store.videos()}
    assert after.keys() == before.keys()
    assert [v["path"] for v in after.values() if v["path"].endswith("renamed.mp4")] == [str(moved_to.resolve())]


def test_a_changed_file_gets_a_new_id_and_replaces_the_old_row(store: Store, videos: Path) -> None:
    ingest(store, videos)
    target = next((videos / "screw").glob("*.mp4"))
    old_ids = {v["video_id"] for v in store.videos()}
    write_clip(target, render_clip("screw", seed=12345))
    summary = ingest(store, videos)
    assert (summary.changed, summary.unchanged) == (1, 19)
    rows = [v for v in store.videos() if v["path"] == str(target.resolve())]
    assert len(rows) == 1 and rows[0]["video_id"] not in old_ids
    assert len(store.videos()) == 20


def test_a_duplicate_file_is_reported_and_stored_once(store: Store, videos: Path) -> None:
    original = next((videos / "unscrew").glob("*.mp4"))
    shutil.copy(original, videos / "unscrew_allenkey_1" / "copy.mp4")  # found after the original
    summary = ingest(store, videos)
    assert len(store.videos()) == 20
    assert [(Path(p).name, "same bytes as" in reason) for p, reason in summary.failed] == [("copy.mp4", True)]


def test_set_id_is_stable_and_depends_on_every_setting() -> None:
    assert set_id_for(SETTINGS) == set_id_for(dict(SETTINGS))
    assert set_id_for(SETTINGS) != set_id_for(SETTINGS | {"frames": 8})
    assert set_id_for(SETTINGS) != set_id_for(SETTINGS | {"weights": "pretrained:x"})


def test_commit_and_load_vectors_round_trip(store: Store, videos: Path) -> None:
    ingest(store, videos)
    ids = [v["video_id"] for v in store.videos()]
    eset = store.ensure_set(**SETTINGS)
    add_vectors(store, eset.set_id, ids[:5])
    add_vectors(store, eset.set_id, ids[5:8], seed=1)
    rows, matrix = store.load_vectors(eset.set_id)
    assert matrix.shape == (8, 3) and matrix.dtype == np.float32
    assert set(rows.column("video_id").to_pylist()) == set(ids[:8])
    assert store.get_set().num_vectors == 8
    assert store.embedded_keys(eset.set_id) == {(i, "original", 0) for i in ids[:8]}


def test_crash_between_parquet_write_and_manifest_leaves_no_half_batch(store: Store, videos: Path, monkeypatch) -> None:
    ingest(store, videos)
    ids = [v["video_id"] for v in store.videos()]
    eset = store.ensure_set(**SETTINGS)
    add_vectors(store, eset.set_id, ids[:4])
    before = snapshot(store)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed after the rename, before the manifest")

    monkeypatch.setattr(manifest, "record_file", crash)
    with pytest.raises(KeyboardInterrupt):
        add_vectors(store, eset.set_id, ids[4:10])
    monkeypatch.undo()
    on_disk = list((store.embeddings_dir / eset.set_id).glob("*.parquet"))
    assert len(on_disk) == 2  # the orphan is there ...
    assert snapshot(store) == before  # ... but no reader sees it
    columns, rows = store.sql(f"SELECT count(*) FROM {eset.view_name}")
    assert rows == [(4,)]
    removed = store.clean_orphans()
    assert len(removed) == 1 and not removed[0].exists()
    assert snapshot(store) == before


def test_second_writer_fails_with_a_clear_message(store: Store, videos: Path) -> None:
    ingest(store, videos)
    other = Store(store.root, lock_timeout_s=0.2)
    with store.writing():
        with pytest.raises(StoreLocked, match="another actionstore process is writing"):
            ingest(other, videos)
        assert len(store.videos()) == 20  # the lock holder still reads and writes
    assert ingest(other, videos).unchanged == 20


def test_sql_is_read_only_and_sees_set_views(store: Store, videos: Path) -> None:
    ingest(store, videos)
    eset = store.ensure_set(**SETTINGS)
    add_vectors(store, eset.set_id, [v["video_id"] for v in store.videos()][:6])
    columns, rows = store.sql(f"SELECT label, count(*) AS n FROM {eset.view_name} GROUP BY label ORDER BY label")
    assert columns == ["label", "n"] and sum(n for _, n in rows) == 6
    assert store.sql("SELECT count(*) FROM embeddings")[1] == [(6,)]
    assert store.sql(f"SELECT len(vector) FROM {eset.view_name} LIMIT 1")[1] == [(3,)]
    for statement in ("DELETE FROM videos", "DROP TABLE videos", "COPY videos TO 'x.csv'",
                      "CREATE TABLE t AS SELECT 1", "SELECT 1; DELETE FROM videos"):
        with pytest.raises(ReadOnlySQL, match="only reads"):
            store.sql(statement)
    with pytest.raises(StoreError, match="SQL error"):
        store.sql("SELEC 1")
    assert len(store.videos()) == 20


def test_store_errors_name_what_to_do(tmp_path: Path) -> None:
    empty = Store(tmp_path / "none")
    with pytest.raises(StoreError, match="run `actionstore ingest DIR` first"):
        empty.videos()
    with pytest.raises(NoSuchSet, match="no embedding sets yet"):
        empty.get_set()


def test_a_copy_elsewhere_is_a_duplicate_not_a_move(store: Store, videos: Path, tmp_path: Path) -> None:
    ingest(store, videos)
    original = next((videos / "screw").glob("*.mp4"))
    other = tmp_path / "other" / "unscrew"
    other.mkdir(parents=True)
    (other / "copy.mp4").write_bytes(original.read_bytes())
    summary = ingest(store, tmp_path / "other")
    assert (summary.moved, summary.new) == (0, 0)
    assert "same bytes as" in summary.failed[0][1]
    row = store.find_video(original)
    assert (row["label"], row["path"]) == ("screw", str(original.resolve()))


def test_a_missing_embedding_file_is_a_clear_error(store: Store, videos: Path) -> None:
    ingest(store, videos)
    eset = store.ensure_set(**SETTINGS)
    add_vectors(store, eset.set_id, [v["video_id"] for v in store.videos()][:3])
    next((store.embeddings_dir / eset.set_id).glob("*.parquet")).unlink()
    with pytest.raises(StoreError, match="listed in the store's manifest but missing"):
        store.sql("SELECT count(*) FROM videos")


def test_a_batch_of_the_wrong_dimension_is_refused(store: Store, videos: Path) -> None:
    ingest(store, videos)
    eset = store.ensure_set(**SETTINGS)
    ids = [v["video_id"] for v in store.videos()][:2]
    table = embedding_table(ids, ["original"] * 2, [0, 0], [0.0, 0.0], [1.0, 1.0], np.zeros((2, 5), np.float32))
    with pytest.raises(StoreError, match="holds 3-d vectors; refusing a batch of 5-d vectors"):
        store.commit_embeddings(eset.set_id, table)
    assert store.set_files(eset.set_id) == [] and not list(store.root.rglob("*.parquet"))


def test_a_transaction_commits_whole_or_not_at_all(store: Store, videos: Path) -> None:
    ingest(store, videos)
    with pytest.raises(RuntimeError, match="crash mid-transaction"):
        with store.transaction() as con:
            con.execute("DELETE FROM videos")
            raise RuntimeError("crash mid-transaction")
    assert len(store.videos()) == 20  # the delete was rolled back
    screws = sum(v["label"] == "screw" for v in store.videos())
    with store.transaction() as con:
        con.execute("DELETE FROM videos WHERE label = 'screw'")
    assert screws > 0 and len(store.videos()) == 20 - screws


def test_an_older_catalog_keyed_by_path_is_migrated_keeping_its_error_rows(tmp_path: Path) -> None:
    import duckdb

    root = tmp_path / "old"
    root.mkdir()
    with duckdb.connect(str(root / "catalog.duckdb")) as con:  # the schema before errors were keyed by (path, stage)
        con.execute("CREATE TABLE ingest_errors (path VARCHAR PRIMARY KEY, stage VARCHAR NOT NULL, "
                    "reason VARCHAR NOT NULL, failed_at TIMESTAMP)")
        con.execute("INSERT INTO ingest_errors VALUES ('/v/a.mp4', 'ingest', 'empty file', NULL)")
    store = Store(root)
    with store.transaction() as con:
        insert_errors(con, [("/v/a.mp4", "1 frame; flow_motion needs at least 4")], "embed flow_motion_f32")
    assert sorted((e["path"], e["stage"]) for e in store.errors()) == [("/v/a.mp4", "embed flow_motion_f32"),
                                                                       ("/v/a.mp4", "ingest")]
