"""The command line itself: version, help, completion of values."""

import os
import subprocess
import sys
from pathlib import Path

from gridgis import __version__
from gridgis.gis.importing.kinds import KINDS


def complete(words: str) -> list[str]:
    """What TAB offers after ``words`` (bash completion, as the shell asks for it)."""
    env = {**os.environ, "_GRIDGIS_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    script = Path(sys.executable).parent / "gridgis"  # the installed command, as shells call it
    result = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=60)
    return result.stdout.split()


def test_version(run):
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"gridgis {__version__}"


def test_help_lists_the_commands(run):
    result = run("--help")
    assert result.returncode == 0
    for command in ("import", "export", "relink", "backtest", "serve", "demo", "db", "plans",
                    "assets", "init"):
        assert command in result.stdout


def test_kind_arguments_complete_their_values():
    assert complete("gridgis import ") == list(KINDS)
    assert complete("gridgis export inc") == ["incidents"]


def test_commands_and_choices_complete():
    assert complete("gridgis ex") == ["export"]
    assert complete("gridgis backtest --unit ") == ["lattice", "grids"]


def test_help_does_not_load_the_heavy_libraries():
    probe = ("import sys\nfrom gridgis.cli import app\n"
             "heavy = [m for m in ('pandas', 'geopandas', 'sqlalchemy', 'fastapi', 'folium', "
             "'esda') if m in sys.modules]\nprint(','.join(heavy))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
