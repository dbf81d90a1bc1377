-- The published grid at a WGS84 location, with its community, subdistrict and district.
WITH here AS (
    SELECT gridgis_grid_at(ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
                                        CAST(:srid AS integer))) AS grid_id
)
SELECT g.id, g.code, g.name, p.name AS plan,
       c.id AS community_id, c.code AS community_code, c.name AS community,
       s.id AS subdistrict_id, s.code AS subdistrict_code, s.name AS subdistrict,
       d.id AS district_id, d.code AS district_code, d.name AS district
FROM here
JOIN grids g ON g.id = here.grid_id
JOIN grid_plans p ON p.id = g.plan_id
LEFT JOIN areas c ON c.id = g.community_id
LEFT JOIN areas s ON s.id = c.parent_id
LEFT JOIN areas d ON d.id = s.parent_id
