-- Households per grid of plan :plan, counted as plan_figures.sql counts them: what the
-- balance of a whole draft needs after each edit, without the other figures.
WITH g AS (
    SELECT d.id, d.code, d.geom,
           (SELECT p.id FROM published_grids p
            WHERE p.code = d.code AND p.geom = d.geom LIMIT 1) AS same
    FROM grids d WHERE d.plan_id = :plan
)
SELECT g.id, g.code, ST_NumGeometries(g.geom) AS parts,
       (SELECT count(*) FROM households WHERE grid_id = g.same)
     + (SELECT count(*) FROM households
        WHERE g.same IS NULL AND ST_Intersects(geom, g.geom)) AS households
FROM g
ORDER BY g.code
