"""Importing files into the grid model (``gridgis import``)."""

from .loader import ImportReport, import_file
from .mapping import Mapping, load_mapping_file, parse_map_option

__all__ = ["ImportReport", "Mapping", "import_file", "load_mapping_file", "parse_map_option"]
