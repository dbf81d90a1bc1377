-- The incidents an analysis uses, oldest first, as plain numbers for the analytics.
SELECT id, category, extract(epoch FROM occurred_at) AS occurred_at,
       ST_X(geom) AS x, ST_Y(geom) AS y
FROM incidents
WHERE $incident_filter
ORDER BY occurred_at
