"""Access to the SQL files shipped in ``gis/sql``."""

from functools import cache
from importlib.resources import files


@cache
def read_sql(name: str) -> str:
    return files("gridgis.gis").joinpath("sql", name).read_text(encoding="utf-8")
