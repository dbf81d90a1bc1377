"""Importing files into the grid model (``gridgis import``).

The names below load on first use, so that reading :mod:`.kinds` (the command line
does, for its help) does not load the importer and its libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loader import ImportReport, import_file
    from .mapping import Mapping, load_mapping_file, parse_map_option

_HOMES = {"ImportReport": ".loader", "import_file": ".loader", "Mapping": ".mapping",
          "load_mapping_file": ".mapping", "parse_map_option": ".mapping"}
__all__ = ["ImportReport", "Mapping", "import_file", "load_mapping_file", "parse_map_option"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name], __name__), name)
