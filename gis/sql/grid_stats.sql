-- One row per grid of the published plan with the counts tables and choropleths need,
-- but its incidents (grid_incidents.sql: they depend on the period asked for).
WITH people_counts AS (
    SELECT grid_id,
           count(*) AS people,
           count(*) FILTER (WHERE residence_type = 'floating') AS floating,
           count(*) FILTER (WHERE $special_any) AS special_groups
    FROM people GROUP BY grid_id
), household_counts AS (
    SELECT grid_id, count(*) AS households FROM households GROUP BY grid_id
), building_counts AS (
    SELECT grid_id, count(*) AS buildings FROM buildings GROUP BY grid_id
), place_counts AS (
    SELECT grid_id, count(*) AS places,
           count(*) FILTER (WHERE risk_level = 'high') AS high_risk_places
    FROM places GROUP BY grid_id
), thing_counts AS (
    SELECT grid_id, count(*) AS things,
           count(*) FILTER (WHERE type = 'camera') AS cameras,
           count(*) FILTER (WHERE type = 'camera' AND status <> 'online') AS cameras_offline
    FROM things GROUP BY grid_id
), worker_lists AS (
    SELECT a.grid_id, count(*) AS workers,
           string_agg(w.name, ', ' ORDER BY a.role, w.name) AS worker_names
    FROM grid_assignments a JOIN workers w ON w.id = a.worker_id AND w.active
    GROUP BY a.grid_id
)
SELECT g.id, g.code, g.name,
       c.code AS community_code, c.name AS community,
       s.code AS subdistrict_code, s.name AS subdistrict,
       round(ST_Area(g.geom)::numeric) AS area_m2,
       coalesce(pc.people, 0) AS people,
       coalesce(pc.floating, 0) AS floating,
       coalesce(pc.special_groups, 0) AS special_groups,
       coalesce(hc.households, 0) AS households,
       coalesce(bc.buildings, 0) AS buildings,
       coalesce(plc.places, 0) AS places,
       coalesce(plc.high_risk_places, 0) AS high_risk_places,
       coalesce(tc.things, 0) AS things,
       coalesce(tc.cameras, 0) AS cameras,
       coalesce(tc.cameras_offline, 0) AS cameras_offline,
       coalesce(wl.workers, 0) AS workers,
       wl.worker_names
FROM published_grids g
LEFT JOIN areas c ON c.id = g.community_id
LEFT JOIN areas s ON s.id = c.parent_id
LEFT JOIN people_counts pc ON pc.grid_id = g.id
LEFT JOIN household_counts hc ON hc.grid_id = g.id
LEFT JOIN building_counts bc ON bc.grid_id = g.id
LEFT JOIN place_counts plc ON plc.grid_id = g.id
LEFT JOIN thing_counts tc ON tc.grid_id = g.id
LEFT JOIN worker_lists wl ON wl.grid_id = g.id
ORDER BY g.code
