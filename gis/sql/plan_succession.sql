-- How the grids of plan :new overlap those of the published plan: per pair, the
-- households they share (by location) and the area they share. A pair that only
-- touches is left out. A grid identical to a published one (same code and geometry)
-- pairs with it alone, whole; its households are not counted (0), since a pair that is
-- the only one of both grids succeeds by area all the same.
WITH n AS (
    SELECT id, code, geom FROM grids WHERE plan_id = :new
), same AS (
    SELECT n.id AS new_id, o.id AS old_id, ST_Area(n.geom) AS shared_m2
    FROM n JOIN published_grids o ON o.code = n.code AND o.geom = n.geom
), changed AS (
    SELECT * FROM n WHERE id NOT IN (SELECT new_id FROM same)
), changed_pairs AS (
    SELECT c.id AS new_id, o.id AS old_id,
           ST_Area(ST_Intersection(c.geom, o.geom)) AS shared_m2
    FROM changed c JOIN published_grids o ON ST_Intersects(c.geom, o.geom)
), changed_households AS (
    SELECT c.id AS new_id, h.grid_id AS old_id, count(*) AS households
    FROM changed c JOIN households h ON ST_Intersects(h.geom, c.geom)
    WHERE h.grid_id IS NOT NULL
    GROUP BY 1, 2
)
SELECT s.new_id, s.old_id, 0 AS households, s.shared_m2
FROM same s
UNION ALL
SELECT p.new_id, p.old_id, coalesce(ch.households, 0), p.shared_m2
FROM changed_pairs p
LEFT JOIN changed_households ch ON ch.new_id = p.new_id AND ch.old_id = p.old_id
WHERE p.shared_m2 >= 0.01 OR ch.households > 0
