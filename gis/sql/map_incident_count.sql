-- How many incidents match the filter (in the grids :grid_ids, when not NULL).
SELECT count(*) FROM incidents
WHERE $incident_filter
  AND (CAST(:grid_ids AS bigint[]) IS NULL OR grid_id = ANY (CAST(:grid_ids AS bigint[])))
