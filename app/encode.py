"""Results as plain data: dataclasses, lists and dicts of str, int, float, bool and None.

``plain`` turns any result of an app job into JSON-ready data the same way for every job (and for
SQL cells, which may hold dates, decimals or blobs); ``to_json`` writes one document. Non-finite
floats become null, which JSON can hold.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data (dataclasses become objects with their field names)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars in SQL cells
        return plain(value.tolist())
    return str(value)


def to_json(value: Any) -> str:
    """One JSON document for a result."""
    return json.dumps(plain(value), indent=2, allow_nan=False)
