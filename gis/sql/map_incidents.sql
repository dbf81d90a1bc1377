-- The newest :limit incidents matching the filter (in the grids :grid_ids, when not
-- NULL), and how many match in all.
SELECT id, category, occurred_at, ST_AsBinary(ST_Transform(geom, 4326)) AS wkb,
       count(*) OVER () AS matched
FROM incidents
WHERE $incident_filter
  AND (CAST(:grid_ids AS bigint[]) IS NULL OR grid_id = ANY (CAST(:grid_ids AS bigint[])))
ORDER BY occurred_at DESC
LIMIT :limit
