-- The newest :limit incidents matching the filter, and how many match in all.
SELECT id, category, occurred_at, ST_AsBinary(ST_Transform(geom, 4326)) AS wkb,
       count(*) OVER () AS matched
FROM incidents
WHERE $incident_filter
ORDER BY occurred_at DESC
LIMIT :limit
