"""Blind-spot analytics, pure: GeoDataFrames and arrays in, results out, explicit
thresholds. Coverage of a grid plan, responsibility for each grid, camera views cut by
buildings, reach over the road network, patrol presence at hotspots, and the scorecard
that rolls them up. The service in ``gis.services.blindspots`` feeds them from PostGIS.
"""
