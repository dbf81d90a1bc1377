-- Live figures of the grids of plan :plan (all, or those in :ids): what a planner
-- balances while editing. A draft's grids are not linked, so what lies in them is
-- counted by location (boundary included); a grid identical to a published grid (same
-- code and geometry) counts the entities linked to it instead, which is the same answer
-- for far less work. Incidents: the last 365 days before :until.
WITH g AS (
    SELECT d.id, d.code, d.name, d.community_id, d.geom,
           (SELECT p.id FROM published_grids p
            WHERE p.code = d.code AND p.geom = d.geom LIMIT 1) AS same
    FROM grids d
    WHERE d.plan_id = :plan AND (CAST(:ids AS bigint[]) IS NULL OR d.id = ANY(:ids))
)
SELECT g.id, g.code, g.name, c.code AS community_code,
       ST_Area(g.geom) AS area_m2,
       CASE WHEN ST_Perimeter(g.geom) > 0
            THEN 4 * pi() * ST_Area(g.geom) / ST_Perimeter(g.geom) ^ 2 END AS polsby_popper,
       ST_NumGeometries(g.geom) AS parts,
       hh.n AS households, pp.people, pp.special_groups, pl.n AS places, ic.n AS incidents
FROM g
LEFT JOIN areas c ON c.id = g.community_id
CROSS JOIN LATERAL (
    SELECT (SELECT count(*) FROM households WHERE grid_id = g.same)
         + (SELECT count(*) FROM households
            WHERE g.same IS NULL AND ST_Intersects(geom, g.geom)) AS n) hh
CROSS JOIN LATERAL (
    SELECT count(*) AS people, count(*) FILTER (WHERE $special_any) AS special_groups
    FROM (SELECT * FROM people WHERE grid_id = g.same
          UNION ALL
          SELECT * FROM people WHERE g.same IS NULL AND ST_Intersects(geom, g.geom)) x) pp
CROSS JOIN LATERAL (
    SELECT (SELECT count(*) FROM places WHERE grid_id = g.same)
         + (SELECT count(*) FROM places
            WHERE g.same IS NULL AND ST_Intersects(geom, g.geom)
              AND ST_Intersects(CASE WHEN GeometryType(geom) = 'POINT' THEN geom
                                     ELSE ST_PointOnSurface(geom) END, g.geom)) AS n) pl
CROSS JOIN LATERAL (
    SELECT (SELECT count(*) FROM incidents WHERE grid_id = g.same
            AND occurred_at >= :until - interval '365 days' AND occurred_at < :until)
         + (SELECT count(*) FROM incidents
            WHERE g.same IS NULL AND ST_Intersects(geom, g.geom)
              AND occurred_at >= :until - interval '365 days' AND occurred_at < :until) AS n
) ic
ORDER BY g.code
