"""GPS fixes checked as tracks, once a whole file is staged: a fix far outside the
district, or one the unit could only have reached at an impossible speed and left at
one (a jump out and back: the classic bad fix), is rejected like any bad row. The
fixes that pass are snapped to the nearest street within ``SNAP_M`` (the position kept
in ``properties``), which is what patrols on foot, bicycle or car follow."""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import Rejection

MAX_KMH = 150.0  # faster than any patrol unit moves in a district
OUTSIDE_M = 1000.0  # farther from the district than this is not a patrol of it
SNAP_M = 25.0  # GPS error on streets between buildings

SPIKES = sa.text("""
    WITH ordered AS (
        SELECT _row, geom, recorded_at,
               lag(geom) OVER w AS g_1, lag(recorded_at) OVER w AS t_1,
               lead(geom) OVER w AS g1, lead(recorded_at) OVER w AS t1,
               lag(geom, 2) OVER w AS g_2, lag(recorded_at, 2) OVER w AS t_2,
               lead(geom, 2) OVER w AS g2, lead(recorded_at, 2) OVER w AS t2
        FROM _gridgis_stage
        WINDOW w AS (PARTITION BY unit, coalesce(shift, '') ORDER BY recorded_at, _row)),
    speeds AS (
        SELECT _row, t_1 IS NULL AS first, t1 IS NULL AS last,
               ST_Distance(geom, g_1) * 3.6
                   / greatest(extract(epoch FROM recorded_at - t_1), 1) AS kmh_in,
               ST_Distance(geom, g1) * 3.6
                   / greatest(extract(epoch FROM t1 - recorded_at), 1) AS kmh_out,
               ST_Distance(geom, g_2) * 3.6
                   / greatest(extract(epoch FROM recorded_at - t_2), 1) AS kmh_in2,
               ST_Distance(geom, g2) * 3.6
                   / greatest(extract(epoch FROM t2 - recorded_at), 1) AS kmh_out2
        FROM ordered)
    SELECT _row, round(greatest(kmh_in, kmh_out)) AS kmh FROM speeds
    WHERE NOT (first AND last) AND CASE
        -- a fix between two others: too fast to reach and too fast to leave
        WHEN NOT first AND NOT last THEN kmh_in > :max AND kmh_out > :max
        -- at an end: too fast to the next fix and to the one after it too (else the
        -- next fix is the bad one)
        WHEN first THEN kmh_out > :max AND coalesce(kmh_out2 > :max, true)
        ELSE kmh_in > :max AND coalesce(kmh_in2 > :max, true) END
    ORDER BY _row""")

OUTSIDE = sa.text("""
    WITH district AS (
        SELECT coalesce(
            (SELECT ST_Union(geom) FROM areas WHERE level = 'district'),
            (SELECT ST_Union(geom) FROM areas WHERE level = 'community')) AS geom)
    SELECT s._row, round(ST_Distance(s.geom, d.geom)) AS metres
    FROM _gridgis_stage s, district d
    WHERE d.geom IS NOT NULL AND NOT ST_DWithin(s.geom, d.geom, :margin)
    ORDER BY s._row""")

SNAP = sa.text("""
    UPDATE _gridgis_stage s
    SET properties = s.properties || jsonb_build_object(
            'gps_x', round(ST_X(s.geom)::numeric, 2), 'gps_y', round(ST_Y(s.geom)::numeric, 2),
            'snapped_m', round(n.metres::numeric, 1)),
        geom = n.on_street
    FROM (SELECT f._row, ST_ClosestPoint(r.geom, f.geom) AS on_street,
                 ST_Distance(r.geom, f.geom) AS metres
          FROM _gridgis_stage f
          CROSS JOIN LATERAL (SELECT geom FROM roads ORDER BY geom <-> f.geom LIMIT 1) r
         ) n
    WHERE n._row = s._row AND n.metres <= :snap AND n.metres > 0""")


def check_tracks(conn: sa.Connection) -> list[Rejection]:
    rejections = [Rejection(r._row, f"the fix lies {r.metres:.0f} m outside the district "
                            f"(more than {OUTSIDE_M:.0f} m)", "geometry")
                  for r in conn.execute(OUTSIDE, {"margin": OUTSIDE_M})]
    rejections += [Rejection(r._row, f"impossible speed: the unit would have jumped here "
                             f"and back at {r.kmh:.0f} km/h (more than {MAX_KMH:.0f})",
                             "geometry")
                   for r in conn.execute(SPIKES, {"max": MAX_KMH})]
    return rejections


def snap_to_roads(conn: sa.Connection) -> None:
    conn.execute(SNAP, {"snap": SNAP_M})
