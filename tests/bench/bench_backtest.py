"""Forecast backtests on real data (issue #5): Portland Aug -> Sep 2016 and Vancouver
2020 rolling monthly, on a 150 m hexagonal lattice clipped to each city's areas.

    .venv/bin/python tests/bench/bench_backtest.py [--shared ../shared/data]

Prints hit rate, PAI and PEI at 1/5/10 % coverage for the default method beside the two
baselines (last-period counts, a fixed-bandwidth KDE) and the oracle ceiling, all
computed in the same run. Tuning uses only data before each scored period.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gridgis.gis.hotspots.defaults import DEFAULT_CELL_M
from gridgis.gis.hotspots.forecast import Incidents, backtest
from gridgis.gis.hotspots.lattice import lattice

ROOT = Path(__file__).resolve().parents[2]


def portland(shared: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    frames = [gpd.read_file(shared / "portland" / f, engine="pyogrio")
              for f in ("080116_083116_Data.zip", "090116_093016_Data.zip")]
    calls = pd.concat(frames, ignore_index=True)
    calls = calls[calls.geometry.x.between(7.5e6, 7.8e6)]  # one corrupt coordinate
    calls = gpd.GeoDataFrame(calls, geometry="geometry", crs=2913).to_crs(32610)
    calls["occurred_at"] = pd.to_datetime(calls["occ_date"]).dt.tz_localize(
        "America/Los_Angeles")
    area = gpd.read_file(shared / "portland" / "portland-police-districts.zip").to_crs(32610)
    return calls, area


def vancouver(shared: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    thefts = pd.read_csv(shared / "vancouver" / "vancouver_thefts.csv.gz")
    when = pd.to_datetime(thefts[["YEAR", "MONTH", "DAY", "HOUR", "MINUTE"]].rename(
        columns=str.lower)).dt.tz_localize("America/Vancouver", ambiguous=True,
                                           nonexistent=pd.Timedelta(hours=1))
    frame = gpd.GeoDataFrame({"occurred_at": when}, geometry=gpd.points_from_xy(
        thefts.X, thefts.Y), crs=32610)
    area = gpd.read_file(shared / "vancouver" / "vancouver_neighbourhoods.geojson").to_crs(32610)
    return frame, area


def report(name: str, tables: list[pd.DataFrame]) -> None:
    table = pd.concat(tables).groupby(["method", "coverage"], sort=False)[
        ["hit_rate", "pai", "pei"]].mean().reset_index()
    wide = table.pivot(index="method", columns="coverage", values=["hit_rate", "pai", "pei"])
    wide = wide.reindex(["blended", "last_period", "kde", "oracle"])
    print(f"\n{name} ({len(tables)} scored period{'s' if len(tables) > 1 else ''})")
    print(wide.round(3).to_string())
    ours = table[table.method == "blended"].set_index("coverage")["pai"]
    for baseline in ("last_period", "kde"):
        theirs = table[table.method == baseline].set_index("coverage")["pai"]
        print(f"  PAI blended / {baseline}: " + ", ".join(
            f"{c:.0%}: {ours[c] / theirs[c]:.2f}" for c in ours.index))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cell", type=float, default=DEFAULT_CELL_M)
    args = parser.parse_args()

    started = time.perf_counter()
    calls, area = portland(args.shared)
    cells = lattice(area.geometry, args.cell)
    tz = "America/Los_Angeles"
    table = backtest(cells, Incidents.from_frame(calls), pd.Timestamp("2016-08-01", tz=tz),
                     pd.Timestamp("2016-09-01", tz=tz), pd.Timestamp("2016-10-01", tz=tz))
    report(f"Portland calls for service, August -> September 2016, {len(cells):,} cells",
           [table])

    thefts, area = vancouver(args.shared)
    cells = lattice(area.geometry, args.cell)
    incidents = Incidents.from_frame(thefts)
    tz = "America/Vancouver"
    tables = []
    for month in range(2, 13):
        start = pd.Timestamp("2020-01-01", tz=tz)
        train_end = pd.Timestamp(f"2020-{month:02d}-01", tz=tz)
        tables.append(backtest(cells, incidents, start, train_end,
                               train_end + pd.DateOffset(months=1)))
    report(f"Vancouver thefts 2020, rolling monthly (Feb..Dec), {len(cells):,} cells",
           tables)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
