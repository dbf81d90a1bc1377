"""Grid planning analytics, pure: reshaping grids so that a plan stays a partition, and
which new grid succeeds which old one. The services in ``gis.services.plan_*`` feed them
from the database."""
