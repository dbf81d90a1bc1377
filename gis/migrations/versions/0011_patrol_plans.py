"""Patrol plans: who planned which shift for how many units, with which parameters and
seed, the solver's stops per unit and each unit's route along the roads.

- ``patrol_plans``: one row per plan, ``status`` solving → ready (or failed, with the
  reason); ``parameters`` holds everything needed to solve it again (the seed too),
  ``result`` the stops per unit and the comparison with the naive and the long solve.
- ``patrol_routes``: a unit's route as a line in the deployment CRS, with its minutes,
  metres and the risk it collects (what GPX, GeoJSON, the sheet and the map draw).

Like patrol tracks, plans say where police units will be: no desktop role reads them.

Revision ID: 0011
Revises: 0010
"""

from alembic import context, op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _srid() -> int:
    configured = context.config.attributes.get("srid")
    if configured is not None:
        return int(configured)
    return int(op.get_bind().exec_driver_sql(
        "SELECT value FROM gridgis_meta WHERE key = 'srid'").scalar_one())


def upgrade() -> None:
    srid = _srid()
    op.execute(f"""
        CREATE TABLE patrol_plans (
            id           bigserial PRIMARY KEY,
            name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            status       text NOT NULL DEFAULT 'solving'
                         CHECK (status IN ('solving', 'ready', 'failed')),
            failure      text,
            planned_by   text,
            scope        text[] NOT NULL DEFAULT '{{}}',
            shift_start  timestamptz NOT NULL,
            shift_end    timestamptz NOT NULL CHECK (shift_end > shift_start),
            mode         text NOT NULL CHECK (mode IN ('foot', 'bike', 'car')),
            units        integer NOT NULL CHECK (units BETWEEN 1 AND 100),
            post         text NOT NULL,
            seed         bigint NOT NULL,
            parameters   jsonb NOT NULL,
            result       jsonb,
            created_at   timestamptz NOT NULL DEFAULT now(),
            finished_at  timestamptz
        );
        CREATE INDEX patrol_plans_shift_idx ON patrol_plans (shift_start);

        CREATE TABLE patrol_routes (
            plan_id   bigint NOT NULL REFERENCES patrol_plans (id) ON DELETE CASCADE,
            unit      integer NOT NULL,
            name      text NOT NULL,
            minutes   double precision NOT NULL,
            metres    double precision NOT NULL,
            risk      double precision NOT NULL,
            geom      geometry(LineString, {srid}),
            PRIMARY KEY (plan_id, unit)
        );
        CREATE INDEX patrol_routes_geom_idx ON patrol_routes USING gist (geom);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE patrol_routes, patrol_plans")
