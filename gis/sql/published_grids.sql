-- Every grid of the published plan with what /grids/at answers for it (grid_at.sql's
-- columns) and its geometry, in the order gridgis_grid_at breaks ties: code, then id.
SELECT g.id, g.code, g.name, p.name AS plan,
       $grid_hierarchy,
       ST_AsBinary(g.geom) AS geom
FROM grids g
JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published'
$grid_hierarchy_joins
ORDER BY g.code, g.id
