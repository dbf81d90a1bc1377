-- Every grid of the published plan with what /grids/at answers for it (grid_at.sql's
-- columns) and its geometry, in the order gridgis_grid_at breaks ties: code, then id.
SELECT g.id, g.code, g.name, p.name AS plan,
       c.id AS community_id, c.code AS community_code, c.name AS community,
       s.id AS subdistrict_id, s.code AS subdistrict_code, s.name AS subdistrict,
       d.id AS district_id, d.code AS district_code, d.name AS district,
       ST_AsBinary(g.geom) AS geom
FROM grids g
JOIN grid_plans p ON p.id = g.plan_id AND p.state = 'published'
LEFT JOIN areas c ON c.id = g.community_id
LEFT JOIN areas s ON s.id = c.parent_id
LEFT JOIN areas d ON d.id = s.parent_id
ORDER BY g.code, g.id
