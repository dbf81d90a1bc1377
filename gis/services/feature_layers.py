"""Staging the analyses the OGC API serves as collections (``gis.features.layers``):
each layer's features are computed by the hotspot or blind-spot service with their
default parameters, then written to ``derived_features`` for the data version they
were made from. A layer is made again only when the data changed; a request for a
layer already staged reads the table and computes nothing. Workers share the staged
layers through the database; an advisory lock keeps two from writing one layer at once.

The analysis runs with no connection held; the write is one short transaction."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from ..errors import InvalidInput, NotFound
from ..features.layers import LAYERS, Layer
from .blindspot_options import AuditOptions
from .blindspots import BlindSpotService
from .hotspot_inputs import Selection
from .hotspots import HotspotService

STAGING_FORMAT = 1  # part of the key: a release that changes a layer's making restages it
MAKERS: dict[str, Callable[[HotspotService, BlindSpotService], gpd.GeoDataFrame]] = {
    "hotspots-gi": lambda hot, _: hot.gi(Selection()).set_index("cell", drop=False),
    "hotspots-areas": lambda hot, _: hot.areas(Selection(), 95),
    "blindspots-gaps": lambda _, blind: blind.coverage(AuditOptions()).coverage.gaps,
    "blindspots-overlaps": lambda _, blind: blind.coverage(AuditOptions()).coverage.overlaps,
    "blindspots-dead-corners": lambda _, blind: blind.cameras(AuditOptions()).dead_corners
    .set_index("cell", drop=False),
    "blindspots-patrol": lambda _, blind: blind.patrol(AuditOptions()).cells
    .set_index("cell", drop=False),
    "blindspots-reach": lambda _, blind: blind.reach(AuditOptions()).streets,
}
STAGE = sa.text("""
    INSERT INTO derived_features (layer, fid, properties, geom)
    SELECT :layer, f.fid, f.properties, ST_SetSRID(ST_GeomFromWKB(f.wkb), :srid)
    FROM unnest(CAST(:fids AS bigint[]), CAST(:properties AS jsonb[]),
                CAST(:wkbs AS bytea[])) AS f (fid, properties, wkb)""")
REGISTER = sa.text("""
    INSERT INTO derived_layers (layer, key, features) VALUES (:layer, :key, :features)
    ON CONFLICT (layer) DO UPDATE SET key = excluded.key, features = excluded.features,
                                      made_at = now()""")


class FeatureLayers:
    def __init__(self, engine: sa.Engine, srid: int, hotspots: HotspotService,
                 blindspots: BlindSpotService) -> None:
        self.engine = engine
        self.srid = srid
        self.hotspots = hotspots
        self.blindspots = blindspots
        self._locks = {layer_id: threading.Lock() for layer_id in MAKERS}

    def key(self, layer: Layer) -> str:
        """What the layer is made from: its making and the data version."""
        version = self.hotspots.version() if layer.id.startswith("hotspots") else \
            self.blindspots.version()
        return f"{STAGING_FORMAT}:{version}"

    def current(self, layer_id: str) -> bool:
        """Whether the layer is staged for the current data (two short reads)."""
        layer = LAYERS[layer_id]
        return self._staged_key(layer) == self.key(layer)

    def stage(self, layer_id: str) -> None:
        """Make sure the layer is staged for the current data. One making at a time per
        layer in this process (the others wait, then find it made); an advisory lock
        does the same across workers. A layer made from data that changed while it was
        computed is not written: the next request makes it from the new data."""
        layer = LAYERS[layer_id]
        with self._locks[layer.id]:
            key = self.key(layer)
            if self._staged_key(layer) == key:
                return
            try:
                frame = MAKERS[layer.id](self.hotspots, self.blindspots)
            except (InvalidInput, NotFound):  # no incidents yet, no published plan...
                frame = gpd.GeoDataFrame(geometry=[], crs=self.srid)  # nothing to show
            fids, properties, wkbs = staged_rows(layer, frame, self.srid)
            with self.engine.begin() as conn:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:lock))"),
                             {"lock": f"gridgis-layer:{layer.id}"})
                if self._staged_key(layer, conn) == key or self.key(layer) != key:
                    return  # made meanwhile by another worker, or already out of date
                conn.execute(sa.text("DELETE FROM derived_features WHERE layer = :layer"),
                             {"layer": layer.id})
                if fids:
                    conn.execute(STAGE, {"layer": layer.id, "srid": self.srid, "fids": fids,
                                         "properties": properties, "wkbs": wkbs})
                conn.execute(REGISTER, {"layer": layer.id, "key": key, "features": len(fids)})

    def _staged_key(self, layer: Layer, conn: sa.Connection | None = None) -> str | None:
        query = sa.text("SELECT key FROM derived_layers WHERE layer = :layer")
        if conn is not None:
            return conn.execute(query, {"layer": layer.id}).scalar()
        with self.engine.connect() as own:
            return own.execute(query, {"layer": layer.id}).scalar()


def staged_rows(layer: Layer, frame: gpd.GeoDataFrame, srid: int
                ) -> tuple[list[int], list[str], list[bytes]]:
    """(feature ids, properties as JSON, geometries as WKB) of an analysis's frame: its
    fields typed as the layer declares them (lists joined, missing values null), rows
    without a geometry left out. Ids are the frame's index when it is a unit's id (a
    lattice cell), else 1…n; geometries in the storage CRS ``srid``."""
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if frame.crs is not None and frame.crs.to_epsg() != srid:
        frame = frame.to_crs(srid)
    typed = pd.DataFrame(index=frame.index)
    for name, kind in layer.fields.items():
        values = frame[name] if name in frame.columns else pd.Series(None, index=frame.index,
                                                                     dtype=object)
        if name in layer.lists:
            values = values.map(lambda v: ", ".join(map(str, v))
                                if isinstance(v, list | tuple | np.ndarray) else v)
        if kind == "int":
            values = pd.to_numeric(values, errors="coerce").round().astype("Int64")
        elif kind == "float":
            values = pd.to_numeric(values, errors="coerce").astype(float)
            values = values.where(np.isfinite(values))
        elif kind == "datetime":
            values = pd.to_datetime(values, utc=True)
        elif kind == "bool":
            values = values.astype("boolean")
        elif kind == "text":
            values = values.map(lambda v: None if v is None or (isinstance(v, float) and
                                                                 np.isnan(v)) else str(v))
        typed[name] = values
    # 15 digits: pandas keeps 10 decimals by default, which makes a p of 1e-12 a zero
    records = json.loads(typed.to_json(orient="records", date_format="iso",
                                       double_precision=15))
    named = frame.index.name == "cell" and frame.index.is_unique
    fids = [int(i) for i in frame.index] if named else list(range(1, len(frame) + 1))
    wkbs = [bytes(w) for w in shapely.to_wkb(frame.geometry.values)]
    return fids, [json.dumps(r, ensure_ascii=False) for r in records], wkbs
