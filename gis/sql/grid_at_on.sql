-- The grid at a WGS84 location in the plan that was published at :at, with the period
-- it was published in and its community, subdistrict and district.
WITH period AS (
    SELECT plan_id, valid_from, valid_to FROM grid_plan_periods
    WHERE valid_from <= :at AND (valid_to IS NULL OR valid_to > :at)
    ORDER BY valid_from DESC LIMIT 1
), here AS (
    SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
                        CAST(:srid AS integer)) AS geom
)
SELECT g.id, g.code, g.name, p.name AS plan, p.state AS plan_state,
       period.valid_from AS plan_valid_from, period.valid_to AS plan_valid_to,
       $grid_hierarchy
FROM period
JOIN grids g ON g.plan_id = period.plan_id
JOIN here ON ST_Covers(g.geom, here.geom)
JOIN grid_plans p ON p.id = g.plan_id
$grid_hierarchy_joins
ORDER BY g.id
LIMIT 1
