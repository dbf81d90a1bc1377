-- The published grid at a WGS84 location, with its community, subdistrict and district.
WITH here AS (
    SELECT gridgis_grid_at(ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
                                        CAST(:srid AS integer))) AS grid_id
)
SELECT g.id, g.code, g.name, p.name AS plan,
       $grid_hierarchy
FROM here
JOIN grids g ON g.id = here.grid_id
JOIN grid_plans p ON p.id = g.plan_id
$grid_hierarchy_joins
