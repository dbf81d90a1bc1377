"""gridgis spatial domain: the grid model, its database, imports and analytics."""
