-- Breakdowns for one grid (:grid_id); incidents filtered by :cats, :start and :end.
SELECT
    (SELECT jsonb_build_object(
         'total', count(*),
         'registered', count(*) FILTER (WHERE residence_type = 'registered'),
         'floating', count(*) FILTER (WHERE residence_type = 'floating'),
         $special_counts)
     FROM people WHERE grid_id = :grid_id) AS people,
    (SELECT count(*) FROM households WHERE grid_id = :grid_id) AS households,
    (SELECT count(*) FROM buildings WHERE grid_id = :grid_id) AS buildings,
    (SELECT coalesce(jsonb_object_agg(category, n), '{}') FROM (
         SELECT category, count(*) AS n FROM places WHERE grid_id = :grid_id
         GROUP BY category) x) AS places,
    (SELECT coalesce(jsonb_object_agg(type, n), '{}') FROM (
         SELECT type, count(*) AS n FROM things WHERE grid_id = :grid_id GROUP BY type) x)
        AS things,
    (SELECT count(*) FROM organisations WHERE grid_id = :grid_id) AS organisations,
    (SELECT coalesce(jsonb_object_agg(category, n), '{}') FROM (
         SELECT category, count(*) AS n FROM incidents
         WHERE grid_id = :grid_id AND $incident_filter
         GROUP BY category) x) AS incidents,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('id', w.id, 'name', w.name,
                                                  'role', a.role) ORDER BY a.role, w.name),
                     '[]')
     FROM grid_assignments a JOIN workers w ON w.id = a.worker_id
     WHERE a.grid_id = :grid_id AND w.active) AS workers
