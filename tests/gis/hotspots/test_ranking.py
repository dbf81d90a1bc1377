"""The grid ranking from grids and incidents (no database)."""

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgis.gis.hotspots.ranking import grid_ranking

END = pd.Timestamp("2026-07-01", tz="UTC")
START = END - pd.Timedelta(days=30)


def grids() -> gpd.GeoDataFrame:
    boxes = [shapely.box(c * 100, r * 100, (c + 1) * 100, (r + 1) * 100)
             for r in range(4) for c in range(4)]
    return gpd.GeoDataFrame({"id": range(16), "code": [f"G{i:02d}" for i in range(16)],
                             "name": None}, geometry=boxes, crs=32635)


def incidents(points: list[tuple[float, float, str]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"occurred_at": pd.to_datetime([p[2] for p in points], utc=True)},
                            geometry=[shapely.Point(p[0], p[1]) for p in points], crs=32635)


def test_grids_rank_by_incidents_with_the_previous_period_and_change():
    rng = np.random.default_rng(1)
    now = [(rng.uniform(0, 100), rng.uniform(0, 100), "2026-06-15") for _ in range(12)]
    now += [(150, 150, "2026-06-20")] * 3
    before = [(150, 150, "2026-05-20")] * 5
    rows = grid_ranking(grids(), incidents(now + before), START, END,
                        END - pd.DateOffset(months=12))
    assert [r["code"] for r in rows[:2]] == ["G00", "G05"]
    first, second = rows[0], rows[1]
    assert (first["rank"], first["incidents"], first["previous"], first["change"]) == \
        (1, 12, 0, 12)
    assert (second["incidents"], second["previous"], second["change"]) == (3, 5, -2)
    assert second["change_pct"] == -40.0 and first["change_pct"] is None
    assert all(r["start"] == START and r["end"] == END for r in rows)
    assert len(rows) == 16 and rows[-1]["incidents"] == 0
