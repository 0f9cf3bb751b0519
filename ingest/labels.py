"""Read a labels CSV in the original project's shape: display names per label."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ingest.errors import IngestError

ORIGINAL_COLUMNS = ("CLASS", "LABEL", "PATH_VIDEO", "ENG_CLASS")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell that starts so as a formula


@dataclass(frozen=True)
class LabelNames:
    """Display names of one label (the dataset's folder name)."""

    label: str
    name_en: str
    name_it: str
    class_index: int | None


def read_labels_csv(path: str | Path) -> list[LabelNames]:
    """Parse ``CLASS,LABEL,PATH_VIDEO,ENG_CLASS`` rows (Italian class, index, path, English class).

    A label is the folder that ``PATH_VIDEO`` lives in, which is the folder ingest found the clip in;
    its English name is ``ENG_CLASS`` and its Italian name ``CLASS``. One row per label is returned.
    """
    path = Path(path)
    if path.is_dir():
        raise IngestError(f"{path}: a folder, not a labels file; pass a CSV with columns {','.join(ORIGINAL_COLUMNS)}")
    if not path.is_file():
        raise IngestError(f"{path}: no such labels file; pass a CSV with columns {','.join(ORIGINAL_COLUMNS)}")
    reader = csv.DictReader(io.StringIO(_text(path), newline=""))
    missing = [c for c in ORIGINAL_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        semicolons = "; its header is separated by ';', save it comma-separated" if ";" in "".join(reader.fieldnames or []) else ""
        raise IngestError(f"{path}: missing column(s) {','.join(missing)}{semicolons}; a labels CSV needs "
                          f"{','.join(ORIGINAL_COLUMNS)}")
    names: dict[str, LabelNames] = {}
    first_line: dict[str, int] = {}
    try:
        rows = list(enumerate(reader, start=2))
    except csv.Error as exc:
        raise IngestError(f"{path}: not a valid CSV ({exc}); fix the quoting and try again") from exc
    for line, row in rows:
        if any(row.get(c) is None for c in ORIGINAL_COLUMNS):
            raise IngestError(f"{path}:{line}: the row has fewer than {len(ORIGINAL_COLUMNS)} fields; give {','.join(ORIGINAL_COLUMNS)}")
        parts = PurePosixPath(row["PATH_VIDEO"].strip().replace("\\", "/")).parts
        if len(parts) < 2:
            raise IngestError(f"{path}:{line}: PATH_VIDEO {row['PATH_VIDEO']!r} has no label folder; use <label>/<file>")
        if ".." in parts or parts[0] == "/":
            raise IngestError(f"{path}:{line}: PATH_VIDEO {row['PATH_VIDEO']!r} leaves the dataset ('..' or an absolute "
                              "path); use <label>/<file>")
        label = parts[-2]
        entry = LabelNames(label, _cell(row["ENG_CLASS"]), _cell(row["CLASS"]), _class_index(path, line, row["LABEL"]))
        if label in names and names[label] != entry:
            raise IngestError(f"{path}:{line}: label {label!r} is named {_names(entry)} here but {_names(names[label])} "
                              f"on line {first_line[label]}; give each label one set of names")
        names[label] = entry
        first_line.setdefault(label, line)
    if not names:
        raise IngestError(f"{path}: no rows; a labels CSV needs {','.join(ORIGINAL_COLUMNS)} and one row per clip")
    return sorted(names.values(), key=lambda n: n.label)


def _text(path: Path) -> str:
    """The file's text: UTF-8 (with or without a BOM), else Windows-1252 (spreadsheets often save Italian names
    so); raises IngestError for an empty file, UTF-16, undecodable bytes or a NUL byte."""
    raw = path.read_bytes()
    save = "save it as CSV UTF-8 and try again"
    if not raw.strip():
        raise IngestError(f"{path}: empty file; {save} with the header {','.join(ORIGINAL_COLUMNS)}")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(f"{path}: saved as UTF-16 (Unicode text); {save}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise IngestError(f"{path}: byte 0x{raw[exc.start]:02x} on line {line} is neither UTF-8 nor Windows-1252 "
                              f"text; {save}") from exc
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise IngestError(f"{path}: a NUL byte on line {line} (a binary or UTF-16 file?); {save}")
    return text


def _names(entry: LabelNames) -> str:
    return f"{entry.name_it!r}/{entry.name_en!r} (LABEL {entry.class_index})"


def _cell(value: str) -> str:
    """A name as written: stripped, and without the quote that ``write_labels_csv`` puts before a formula."""
    value = value.strip()
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def _safe(value: object) -> object:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading quote."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _class_index(path: Path, line: int, value: str) -> int | None:
    """The LABEL column: a class number, or empty."""
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) >= 2**31:
        raise IngestError(f"{path}:{line}: LABEL {value!r} is not a class number; use 0, 1, 2 ... or leave it empty")
    return int(value)


def dataset_rows(clips: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, str, str]]:
    """Catalogued clips (``label, path, name_en, name_it, class_index``) as the original project's
    ``(CLASS, LABEL, PATH_VIDEO, ENG_CLASS)`` rows, in the order given.

    CLASS and ENG_CLASS come from the label names (the label itself where none were imported),
    LABEL is the imported class index, or the next free index in label order; PATH_VIDEO is
    ``<label>/<file name>``, the shape ``ingest --labels`` reads.
    """
    index = {c["label"]: c["class_index"] for c in clips if c["class_index"] is not None}
    for label in sorted({c["label"] for c in clips} - set(index)):
        index[label] = max(index.values(), default=-1) + 1
    return [(c["name_it"] or c["label"], index[c["label"]], f"{c['label']}/{PurePosixPath(c['path']).name}",
             c["name_en"] or c["label"]) for c in clips]


def write_labels_csv(path: str | Path, rows: list[tuple[str, int, str, str]]) -> None:
    """Write ``(CLASS, LABEL, PATH_VIDEO, ENG_CLASS)`` rows in the original project's shape (atomically)."""
    path = Path(path)
    if path.is_dir() or not path.parent.is_dir():
        raise IngestError(f"{path}: not a file path in an existing folder; give FILE.csv in a folder that exists")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(ORIGINAL_COLUMNS)
            writer.writerows([[_safe(v) for v in row] for row in rows])
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise IngestError(f"{path}: cannot write ({exc.strerror}); choose a writable location") from exc
