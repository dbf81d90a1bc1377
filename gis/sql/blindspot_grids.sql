-- One row per grid of plan :plan with what the responsibility audit needs. Entities
-- belong to a grid by the grid_id the database keeps when the plan is published
-- (:published), else by where they lie. Visits count from :since.
WITH plan_grids AS (
    SELECT g.id, g.code, g.geom, c.code AS community, s.code AS subdistrict
    FROM grids g
    LEFT JOIN areas c ON c.id = g.community_id
    LEFT JOIN areas s ON s.id = c.parent_id
    WHERE g.plan_id = :plan
), household_grid AS (
    SELECT h.grid_id AS grid, h.id FROM households h
    JOIN plan_grids g ON g.id = h.grid_id WHERE :published
    UNION ALL
    SELECT g.id, h.id FROM households h
    JOIN plan_grids g ON ST_Intersects(g.geom, h.geom) WHERE NOT :published
), person_grid AS (
    SELECT p.grid_id AS grid, p.id, p.household_id, ($special_any) AS special FROM people p
    JOIN plan_grids g ON g.id = p.grid_id WHERE :published
    UNION ALL
    SELECT g.id, p.id, p.household_id, ($special_any) FROM people p
    JOIN plan_grids g ON ST_Intersects(g.geom, p.geom) WHERE NOT :published
), household_checks AS (
    SELECT household_id, max(visited_at) AS last_check FROM visits
    WHERE household_id IS NOT NULL GROUP BY household_id
), person_checks AS (
    SELECT person_id, max(visited_at) AS last_check FROM visits
    WHERE person_id IS NOT NULL GROUP BY person_id
), households_per_grid AS (
    SELECT hg.grid, count(*) AS households, max(hc.last_check) AS last_check,
           count(*) FILTER (WHERE hc.last_check >= :since) AS checked_households
    FROM household_grid hg LEFT JOIN household_checks hc ON hc.household_id = hg.id
    GROUP BY hg.grid
), people_per_grid AS (
    SELECT pg.grid, count(*) AS people, count(*) FILTER (WHERE pg.special) AS special,
           max(pc.last_check) AS last_check
    FROM person_grid pg LEFT JOIN person_checks pc ON pc.person_id = pg.id
    GROUP BY pg.grid
)
SELECT g.id, g.code, g.community, g.subdistrict,
       coalesce(h.households, 0) AS households, coalesce(p.people, 0) AS people,
       coalesce(p.special, 0) AS special,
       greatest(h.last_check, p.last_check) AS last_check,
       coalesce(h.checked_households, 0) AS checked_households
FROM plan_grids g
LEFT JOIN households_per_grid h ON h.grid = g.id
LEFT JOIN people_per_grid p ON p.grid = g.id
ORDER BY g.code
