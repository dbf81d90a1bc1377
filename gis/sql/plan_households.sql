-- Households per grid of plan :plan, counted as plan_figures.sql counts them: what the
-- balance of a whole draft needs after each edit, without the other figures. Grids
-- identical to a published grid are matched by a join (hashable on the code) and
-- counted from the links in one pass; the others by location. The pass counts every
-- grid's links (a parallel scan, 0.2 s for a million households): fetching only those of
-- the unchanged grids through the index visits a page per household (1 s and more).
WITH published AS (
    SELECT g.id, g.code, g.geom FROM grids g
    JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published'
), g AS MATERIALIZED (
    SELECT d.id, d.code, d.geom, pub.id AS same
    FROM grids d LEFT JOIN published pub ON pub.code = d.code AND pub.geom = d.geom
    WHERE d.plan_id = :plan
), linked AS MATERIALIZED (
    SELECT grid_id, count(*) AS n FROM households
    WHERE grid_id IS NOT NULL AND EXISTS (SELECT 1 FROM g WHERE same IS NOT NULL)
    GROUP BY grid_id
)
SELECT g.id, g.code, ST_NumGeometries(g.geom) AS parts,
       CASE WHEN g.same IS NOT NULL THEN coalesce(linked.n, 0)
            ELSE (SELECT count(*) FROM households h WHERE ST_Intersects(h.geom, g.geom))
       END AS households
FROM g LEFT JOIN linked ON linked.grid_id = g.same
ORDER BY g.code
