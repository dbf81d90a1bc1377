-- Incidents per grid, filtered by :cats, :start and :end (each may be NULL).
SELECT grid_id, count(*) AS incidents
FROM incidents
WHERE $incident_filter AND grid_id IS NOT NULL
GROUP BY grid_id
