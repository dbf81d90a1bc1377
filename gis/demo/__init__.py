"""The demo district: real geography (OpenStreetMap, central Helsinki) divided into
street-following grids, with synthetic residents and incidents from documented models.

``gridgis demo --city`` builds a generated city instead (``city``, ``city_build``): a
street lattice at the scale of a whole city, with the same models of residents and
incidents. Everything is loaded through ``gridgis import``, so the demo exercises the same checks
and grid linking as user data. Parameters: ``data/demo_model.toml`` and
``data/osm_places.toml``; documentation: ``data/README.md``.
"""

from .accounts import DemoAccount, create_accounts, existing_accounts
from .build import DemoOptions, DemoSummary, build_demo, demo_kind, reset
from .city_build import CityOptions, build_city
from .model import load_model

__all__ = ["CityOptions", "DemoAccount", "DemoOptions", "DemoSummary", "build_city",
           "build_demo", "create_accounts", "demo_kind", "existing_accounts",
           "load_model", "reset"]
