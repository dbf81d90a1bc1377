"""gridgis: grid-management GIS (网格化管理地理信息系统).

One import namespace over the repository's product folders: ``gridgis.gis`` (spatial
domain and database), ``gridgis.api`` (FastAPI), ``gridgis.maps`` (Folium map pages),
``gridgis.layers`` (map layers), ``gridgis.data`` (package data) and, on the top floor,
``gridgis.cli`` (the ``gridgis`` command). See ARCHITECTURE.md for who may import whom.
"""

__version__ = "0.1.0"
