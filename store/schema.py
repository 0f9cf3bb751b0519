"""The catalog's tables (DESIGN.md section 3). Names may grow, never silently change meaning."""

from datetime import datetime, timezone

import duckdb

SCHEMA_VERSION = 1
DEFAULT_ROOT = "actionstore-data"  # the store directory when none is given
DEFAULT_K = 5  # nearest stored clips a search or a verdict lists
ORIGINAL_VIEW = "original"  # the un-augmented, whole-clip row of a video in a set; views default to it everywhere

DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS videos (
    video_id VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, label VARCHAR NOT NULL,
    duration_s DOUBLE, fps DOUBLE, num_frames INTEGER, width INTEGER, height INTEGER,
    rotation INTEGER, codec VARCHAR, size_bytes BIGINT, ingested_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS labels (
    label VARCHAR PRIMARY KEY, name_en VARCHAR, name_it VARCHAR, class_index INTEGER
);
CREATE TABLE IF NOT EXISTS ingest_errors (
    path VARCHAR NOT NULL, stage VARCHAR NOT NULL, reason VARCHAR NOT NULL, failed_at TIMESTAMP,
    PRIMARY KEY (path, stage)
);
CREATE TABLE IF NOT EXISTS embedding_sets (
    set_id VARCHAR PRIMARY KEY, name VARCHAR UNIQUE NOT NULL, backbone VARCHAR NOT NULL,
    weights VARCHAR NOT NULL, frames INTEGER NOT NULL, sampling VARCHAR NOT NULL,
    input_size INTEGER NOT NULL, options VARCHAR NOT NULL, dim INTEGER NOT NULL, created_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS analysis_runs (
    run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, set_id VARCHAR NOT NULL, params VARCHAR NOT NULL,
    set_version VARCHAR NOT NULL, artifacts VARCHAR NOT NULL, notes VARCHAR NOT NULL, created_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS embedding_files (
    set_id VARCHAR NOT NULL, file VARCHAR PRIMARY KEY, num_rows INTEGER NOT NULL, created_at TIMESTAMP
);
ALTER TABLE embedding_files ADD COLUMN IF NOT EXISTS sha256 VARCHAR;
CREATE TABLE IF NOT EXISTS detectors (
    name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, set_id VARCHAR NOT NULL, set_version VARCHAR NOT NULL,
    target VARCHAR NOT NULL, config VARCHAR NOT NULL, threshold_rule VARCHAR NOT NULL, threshold DOUBLE NOT NULL,
    metrics VARCHAR NOT NULL, file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, created_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS detector_splits (
    detector VARCHAR NOT NULL, video_id VARCHAR NOT NULL, label VARCHAR NOT NULL, part VARCHAR NOT NULL,
    PRIMARY KEY (detector, video_id)
);
CREATE TABLE IF NOT EXISTS augment_views (
    set_id VARCHAR NOT NULL, video_id VARCHAR NOT NULL, view VARCHAR NOT NULL, seed BIGINT NOT NULL,
    recipe VARCHAR NOT NULL, applied VARCHAR NOT NULL, created_at TIMESTAMP,
    PRIMARY KEY (set_id, video_id, view)
);
CREATE TABLE IF NOT EXISTS embed_notes (
    set_id VARCHAR NOT NULL, video_id VARCHAR NOT NULL, view VARCHAR NOT NULL, "window" INTEGER NOT NULL,
    note VARCHAR NOT NULL, created_at TIMESTAMP, PRIMARY KEY (set_id, video_id, view, "window")
);
"""

VIDEO_COLUMNS = (
    "video_id", "path", "label", "duration_s", "fps", "num_frames",
    "width", "height", "rotation", "codec", "size_bytes",
)


def utc_now() -> datetime:
    """A catalog timestamp: naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring an older catalog's tables to this schema (run with ``DDL``, under the writer lock).

    ``ingest_errors`` was keyed by path alone, so a clip refused by two sets kept only the last
    refusal; it is rebuilt keyed by ``(path, stage)``, its rows kept.
    """
    key = con.execute("SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = 'ingest_errors' "
                      "AND constraint_type = 'PRIMARY KEY'").fetchone()
    if key is not None and list(key[0]) == ["path"]:
        con.execute("BEGIN")
        con.execute("ALTER TABLE ingest_errors RENAME TO ingest_errors_v0")
        con.execute(DDL)
        con.execute("INSERT INTO ingest_errors SELECT * FROM ingest_errors_v0")
        con.execute("DROP TABLE ingest_errors_v0")
        con.execute("COMMIT")
