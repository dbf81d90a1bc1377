"""Hotspot analytics: pure functions (GeoDataFrames or arrays in, results out, explicit
seeds); the database feeds them and the API and maps present them."""
