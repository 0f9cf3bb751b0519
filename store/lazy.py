"""Package names imported on first use (PEP 562), so importing a light submodule stays light."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]) -> tuple[list[str], Callable[[str], Any]]:
    """``(__all__, __getattr__)`` for ``package``: each name in ``exports[module]`` is read from that module
    the first time it is asked for (``from package import name``), then kept on the package."""
    module_of = {name: module for module, names in exports.items() for name in names}

    def getattr_(name: str) -> Any:
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_of[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    return sorted(module_of), getattr_
