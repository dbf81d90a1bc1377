"""Importing files into the grid model (``gridgis import``)."""

from gis.importing.loader import ImportReport, import_file
from gis.importing.mapping import Mapping, load_mapping_file, parse_map_option

__all__ = ["ImportReport", "Mapping", "import_file", "load_mapping_file", "parse_map_option"]
