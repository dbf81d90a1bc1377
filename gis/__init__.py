"""gridgis spatial domain: the grid model, its database, imports and analytics."""

__version__ = "0.1.0"
