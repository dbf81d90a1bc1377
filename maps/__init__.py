"""Folium map pages served by the gridgis service."""
