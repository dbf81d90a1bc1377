"""gridgis web service: FastAPI resources over the grid model and the map pages."""
