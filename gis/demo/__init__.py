"""The demo district: real geography (OpenStreetMap, central Helsinki) divided into
street-following grids, with synthetic residents and incidents from documented models.

Everything is loaded through ``gridgis import``, so the demo exercises the same checks
and grid linking as user data. Parameters: ``data/demo_model.toml`` and
``data/osm_places.toml``; documentation: ``data/README.md``.
"""

from .accounts import DemoAccount, create_accounts, existing_accounts
from .build import DemoOptions, DemoSummary, build_demo, demo_exists, reset
from .model import load_model

__all__ = ["DemoAccount", "DemoOptions", "DemoSummary", "build_demo", "create_accounts",
           "demo_exists", "existing_accounts", "load_model", "reset"]
