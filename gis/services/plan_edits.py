"""Edits of a draft plan, applied in the caller's transaction: split, merge, reassign
an area, redraw a grid, undo.

Each edit locks the draft's row (edits of one draft run one after another), reads the
few grids it touches, reshapes them (``reshape``: pure geometry), writes them back and
logs what they were before in ``plan_edits``, which is what undo restores. Only drafts
are edited; the published plan and retired ones are read-only.

Geometries come in and go out in WGS84 (GeoJSON); grids are stored in the deployment's
metric CRS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache

import pyproj
import shapely
import sqlalchemy as sa
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..planning import reshape as geometry
from ..planning.reshape import EditRefused

MAX_VERTICES = 100_000


@dataclass
class Edit:
    id: int
    op: str
    summary: str
    changed: list[str] = field(default_factory=list)  # codes whose shape changed
    created: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class Tolerances:
    snap_m: float = geometry.DEFAULT_SNAP_M
    sliver_m2: float = geometry.DEFAULT_SLIVER_M2


@dataclass
class _Grid:
    id: int
    code: str
    name: str | None
    community_id: int | None
    properties: dict
    geom: BaseGeometry


class DraftEditor:
    """Edits of one draft plan by one user, in the transaction of ``conn``.

    ``scope_grids``: None for a user without a scope, else the published grids their
    scope covers; a scoped user edits the grids of those grids' communities only."""

    def __init__(self, conn: sa.Connection, srid: int, plan_id: int, actor: str | None,
                 scope_grids: frozenset[int] | None = None,
                 tolerances: Tolerances | None = None) -> None:
        self.conn, self.srid, self.plan_id, self.actor = conn, srid, plan_id, actor
        self.scope_grids = scope_grids
        self.tol = tolerances or Tolerances()
        state = conn.execute(sa.text(
            "SELECT state FROM grid_plans WHERE id = :p FOR UPDATE"), {"p": plan_id}).scalar()
        if state is None:
            raise NotFound(f"no grid plan with id {plan_id}")
        if state != "draft":
            raise Conflict(f"plan {plan_id} is {state}: only drafts are edited (copy it into "
                           "a draft with POST /plans/{id}/drafts or gridgis plans draft)")

    # -- edits ---------------------------------------------------------------------------

    def split(self, code: str, line: dict, new_codes: list[str] | None = None) -> Edit:
        grid = self._grids([code])[code]
        pieces = self._explained(geometry.split, grid.geom, self._metric(line),
                                 snap_m=self.tol.snap_m, sliver_m2=self.tol.sliver_m2)
        codes = self._new_codes(code, len(pieces) - 1, new_codes)
        before = self._snapshot([grid.id])
        self._update(grid.id, pieces[0])
        created = [self._insert(grid, c, p, n) for n, (c, p)
                   in enumerate(zip(codes, pieces[1:], strict=True), start=2)]
        return self._log("split", f"split {code} into {code}, {', '.join(codes)}", before,
                         created, Edit(0, "split", "", [code, *codes], codes, []))

    def merge(self, codes: list[str], keep: str | None = None) -> Edit:
        codes = list(dict.fromkeys(codes))
        grids = self._grids(codes)
        keep = keep or codes[0]
        if keep not in grids:
            raise InvalidInput(f"keep ({keep}) must be one of the grids merged", field="keep")
        if len({g.community_id for g in grids.values()}) > 1:
            self._refuse("grids of different communities never merge: a grid lies in "
                              "one community", shapely.union_all([g.geom for g in
                                                                  grids.values()]),
                              field="grids")
        merged = self._explained(geometry.merge, {c: g.geom for c, g in grids.items()})
        gone = [c for c in codes if c != keep]
        before = self._snapshot([g.id for g in grids.values()])
        self.conn.execute(sa.text(
            "INSERT INTO grid_assignments (worker_id, grid_id, role, since) "
            "SELECT worker_id, :keep, role, since FROM grid_assignments "
            "WHERE grid_id = ANY(:gone) ON CONFLICT DO NOTHING"),
            {"keep": grids[keep].id, "gone": [grids[c].id for c in gone]})
        self.conn.execute(sa.text("DELETE FROM grids WHERE id = ANY(:ids)"),
                          {"ids": [grids[c].id for c in gone]})
        self._update(grids[keep].id, merged)
        return self._log("merge", f"merged {', '.join(gone)} into {keep}", before, [],
                         Edit(0, "merge", "", [keep], [], gone))

    def reassign(self, to_code: str, area: dict) -> Edit:
        """Give the land of ``area`` (a block, say) inside the grid's community to grid
        ``to_code``, taking it from the grids that hold it."""
        region = geometry.clean(self._metric(area))
        if region.is_empty:
            raise InvalidInput("the area to reassign must be a polygon", field="geometry")
        target = self._grids([to_code])[to_code]
        drawn = shapely.union(target.geom, region)
        return self._reshape("reassign", target, drawn, clip=True,
                             summary=f"reassigned {region.area:.0f} m² to {to_code}")

    def redraw(self, code: str, shape_: dict) -> Edit:
        """Give grid ``code`` a new outline (a moved boundary or a redrawn grid)."""
        target = self._grids([code])[code]
        drawn = self._metric(shape_)
        if drawn.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidInput("a redrawn grid is a Polygon", field="geometry")
        return self._reshape("redraw", target, drawn, clip=False, summary=f"redrew {code}")

    def undo(self) -> Edit:
        """Restore the grids as they were before the draft's last edit (with their
        worker assignments), removing the grids it created."""
        last = self.conn.execute(sa.text(
            "SELECT id, op, summary, before, created FROM plan_edits WHERE plan_id = :p "
            "ORDER BY id DESC LIMIT 1"), {"p": self.plan_id}).first()
        if last is None:
            raise Conflict("there is no edit of this draft to undo")
        restored_ids = [int(r["id"]) for r in last.before]
        self._check_scope(list(last.created) + [
            i for i in restored_ids if self._exists(i)])
        if self.scope_grids is not None:  # grids the edit removed: by their community
            self._check_communities({r["community_id"] for r in last.before})
        removed = self.conn.execute(sa.text(
            "DELETE FROM grids WHERE id = ANY(:ids) AND plan_id = :p RETURNING code"),
            {"ids": list(last.created), "p": self.plan_id}).scalars().all()
        try:
            with self.conn.begin_nested():
                restored = self.conn.execute(sa.text("""
                    INSERT INTO grids (id, plan_id, code, name, community_id, external_id,
                                       properties, geom)
                    SELECT (r->>'id')::bigint, :p, r->>'code', r->>'name',
                           (r->>'community_id')::bigint, r->>'external_id', r->'properties',
                           ST_GeomFromEWKB(decode(r->>'geom', 'hex'))
                    FROM jsonb_array_elements(CAST(:before AS jsonb)) r
                    ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code,
                        name = EXCLUDED.name, community_id = EXCLUDED.community_id,
                        external_id = EXCLUDED.external_id,
                        properties = EXCLUDED.properties, geom = EXCLUDED.geom
                    RETURNING code"""), {"p": self.plan_id, "before": json.dumps(last.before)}
                ).scalars().all()
        except sa.exc.IntegrityError:
            raise Conflict("the draft changed since that edit (a grid code it would restore "
                           "is taken): undo is not possible") from None
        if any("assignments" in r for r in last.before):
            self.conn.execute(sa.text(
                "DELETE FROM grid_assignments WHERE grid_id = ANY(:ids)"),
                {"ids": restored_ids})
            self.conn.execute(sa.text("""
                INSERT INTO grid_assignments (worker_id, grid_id, role, since)
                SELECT (a->>'worker_id')::bigint, (r->>'id')::bigint, a->>'role',
                       (a->>'since')::date
                FROM jsonb_array_elements(CAST(:before AS jsonb)) r,
                     jsonb_array_elements(coalesce(r->'assignments', '[]')) a
                WHERE EXISTS (SELECT 1 FROM workers w WHERE w.id = (a->>'worker_id')::bigint)
                ON CONFLICT DO NOTHING"""), {"before": json.dumps(last.before)})
        self.conn.execute(sa.text("DELETE FROM plan_edits WHERE id = :id"), {"id": last.id})
        return Edit(int(last.id), "undo", f"undid: {last.summary}", sorted(restored),
                    [], sorted(set(removed) - set(restored)))

    def _exists(self, grid_id: int) -> bool:
        return self.conn.execute(sa.text("SELECT 1 FROM grids WHERE id = :g"),
                                 {"g": grid_id}).first() is not None

    def _check_communities(self, community_ids: set) -> None:
        allowed = set(self.conn.execute(sa.text(
            "SELECT community_id FROM grids WHERE id = ANY(:scope)"),
            {"scope": sorted(self.scope_grids or ())}).scalars())
        if not {c for c in community_ids} <= allowed:
            raise Forbidden("that edit changed grids outside your scope")

    # -- the parts -----------------------------------------------------------------------

    def _reshape(self, op: str, target: _Grid, drawn: BaseGeometry, *, clip: bool,
                 summary: str) -> Edit:
        near = self._neighbourhood(target, drawn)
        extent = self._community(target.community_id)
        result = self._explained(geometry.reshape, target.code, drawn,
                                 {c: g.geom for c, g in near.items()}, extent, clip=clip,
                                 snap_m=self.tol.snap_m, sliver_m2=self.tol.sliver_m2)
        self._check_scope([near[c].id for c in result])
        before = self._snapshot([near[c].id for c in result])
        for code, geom in result.items():
            self._update(near[code].id, geom)
        changed = sorted(result)
        others = [c for c in changed if c != target.code]
        if others:
            summary += f" (from or to {', '.join(others)})"
        return self._log(op, summary, before, [], Edit(0, op, "", changed, [], []))

    def _explained(self, operation, *args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except EditRefused as refused:
            refusal_details(refused, self.srid)
            raise

    def _refuse(self, message: str, shape_: BaseGeometry, **details) -> None:
        refused = EditRefused(message, shape_, **details)
        refusal_details(refused, self.srid)
        raise refused

    def _grids(self, codes: list[str]) -> dict[str, _Grid]:
        rows = self.conn.execute(sa.text(
            "SELECT id, code, name, community_id, properties, ST_AsBinary(geom) AS wkb "
            "FROM grids WHERE plan_id = :p AND code = ANY(:codes) FOR UPDATE"),
            {"p": self.plan_id, "codes": codes}).all()
        found = {r.code: _Grid(r.id, r.code, r.name, r.community_id, r.properties,
                               shapely.from_wkb(r.wkb)) for r in rows}
        missing = [c for c in codes if c not in found]
        if missing:
            raise NotFound(f"the draft has no grid {', '.join(missing)}", field="grids")
        self._check_scope([g.id for g in found.values()])
        return found

    def _neighbourhood(self, target: _Grid, drawn: BaseGeometry) -> dict[str, _Grid]:
        """The target and the grids of its community that the drawing or the target
        touches (within the snapping distance)."""
        reach = shapely.union(target.geom, drawn).buffer(self.tol.snap_m + 1)
        rows = self.conn.execute(sa.text(
            "SELECT id, code, name, community_id, properties, ST_AsBinary(geom) AS wkb "
            "FROM grids WHERE plan_id = :p AND community_id IS NOT DISTINCT FROM :c "
            "AND ST_Intersects(geom, ST_GeomFromWKB(:reach, :srid)) FOR UPDATE"),
            {"p": self.plan_id, "c": target.community_id, "reach": reach.wkb,
             "srid": self.srid}).all()
        near = {r.code: _Grid(r.id, r.code, r.name, r.community_id, r.properties,
                              shapely.from_wkb(r.wkb)) for r in rows}
        near[target.code] = target
        return near

    def _community(self, community_id: int | None) -> BaseGeometry | None:
        if community_id is None:
            return None
        wkb = self.conn.execute(sa.text("SELECT ST_AsBinary(geom) FROM areas WHERE id = :c"),
                                {"c": community_id}).scalar()
        return None if wkb is None else shapely.from_wkb(wkb)

    def _check_scope(self, grid_ids: list[int]) -> None:
        """A scoped user edits the grids of their scope's communities only (a grid with
        no community is outside every scope)."""
        if self.scope_grids is None or not grid_ids:
            return
        outside = self.conn.execute(sa.text(
            "SELECT code FROM grids WHERE id = ANY(:ids) AND (community_id IS NULL OR NOT "
            "community_id = ANY(ARRAY(SELECT community_id FROM grids "
            "WHERE id = ANY(:scope) AND community_id IS NOT NULL))) ORDER BY code"),
            {"ids": grid_ids, "scope": sorted(self.scope_grids)}).scalars().all()
        if outside:
            raise Forbidden(f"grids {', '.join(outside)} lie outside your scope",
                            grids=list(outside))

    def _new_codes(self, code: str, count: int, wanted: list[str] | None) -> list[str]:
        taken = set(self.conn.execute(sa.text(
            "SELECT code FROM grids WHERE plan_id = :p"), {"p": self.plan_id}).scalars())
        if wanted:
            if len(wanted) != count:
                raise InvalidInput(f"the line cuts {code} into {count + 1} pieces: give "
                                   f"{count} new codes, not {len(wanted)}", field="new_codes")
            clash = [c for c in wanted if c in taken or not c.strip() or len(c) > 100]
            if clash or len(set(wanted)) != len(wanted):
                raise InvalidInput(f"new codes must be new, distinct and 1–100 characters: "
                                   f"{', '.join(clash) or 'repeated'}", field="new_codes")
            return wanted
        codes: list[str] = []
        n = 2
        while len(codes) < count:
            if f"{code}-{n}" not in taken:
                codes.append(f"{code}-{n}")
            n += 1
        return codes

    def _snapshot(self, ids: list[int]) -> list[dict]:
        """The grids as they are, with their worker assignments (for undo)."""
        return self.conn.execute(sa.text("""
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                'id', g.id, 'code', g.code, 'name', g.name, 'community_id', g.community_id,
                'external_id', g.external_id, 'properties', g.properties,
                'geom', encode(ST_AsEWKB(g.geom), 'hex'),
                'assignments', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                    'worker_id', a.worker_id, 'role', a.role,
                                    'since', a.since)), '[]')
                                FROM grid_assignments a WHERE a.grid_id = g.id))), '[]')
            FROM grids g WHERE g.id = ANY(:ids)"""), {"ids": ids}).scalar_one()

    def _update(self, grid_id: int, geom: BaseGeometry) -> None:
        self.conn.execute(sa.text(
            "UPDATE grids SET geom = ST_Multi(ST_GeomFromWKB(:wkb, :srid)) WHERE id = :id"),
            {"wkb": geometry.clean(geom).wkb, "srid": self.srid, "id": grid_id})

    def _insert(self, like: _Grid, code: str, geom: BaseGeometry, n: int) -> int:
        return self.conn.execute(sa.text(
            "INSERT INTO grids (plan_id, code, name, community_id, properties, geom) "
            "VALUES (:p, :code, :name, :c, CAST(:props AS jsonb), "
            "ST_Multi(ST_GeomFromWKB(:wkb, :srid))) RETURNING id"),
            {"p": self.plan_id, "code": code,
             "name": f"{like.name} ({n})" if like.name else None, "c": like.community_id,
             "props": json.dumps(like.properties), "wkb": geometry.clean(geom).wkb,
             "srid": self.srid}).scalar_one()

    def _log(self, op: str, summary: str, before: list[dict], created: list[int],
             edit: Edit) -> Edit:
        edit.id = self.conn.execute(sa.text(
            "INSERT INTO plan_edits (plan_id, op, summary, actor, before, created) "
            "VALUES (:p, :op, :s, :a, CAST(:b AS jsonb), :c) RETURNING id"),
            {"p": self.plan_id, "op": op, "s": summary, "a": self.actor,
             "b": json.dumps(before), "c": created}).scalar_one()
        edit.summary = summary
        return edit

    def _metric(self, geojson: dict) -> BaseGeometry:
        try:
            geom = shape(geojson)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError,
                shapely.errors.GEOSException) as exc:
            raise InvalidInput(f"the geometry is not valid GeoJSON: {exc}",
                               field="geometry") from None
        if geom.is_empty or shapely.get_num_coordinates(geom) > MAX_VERTICES:
            raise InvalidInput(f"the geometry is empty or has more than {MAX_VERTICES} "
                               "vertices", field="geometry")
        bounds = geom.bounds
        if not (-180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90):
            raise InvalidInput("coordinates are WGS84 longitude, latitude", field="geometry")
        return _reproject(geom, 4326, self.srid)


def edit_log(conn: sa.Connection, plan_id: int, limit: int = 200) -> list[dict]:
    """A plan's edits, newest first (the one undo restores first)."""
    return [dict(r._mapping) for r in conn.execute(sa.text(
        "SELECT id, op, summary, actor, at FROM plan_edits WHERE plan_id = :p "
        "ORDER BY id DESC LIMIT :n"), {"p": plan_id, "n": limit})]


def refusal_details(refused: EditRefused, srid: int) -> None:
    """Put the offending shape into the error's details, as WGS84 GeoJSON."""
    if refused.shape is not None and not refused.shape.is_empty:
        shown = _reproject(refused.shape, srid, 4326)
        refused.details["geometry"] = mapping(shapely.set_precision(shown, 1e-7))


def _reproject(geom: BaseGeometry, source: int, target: int) -> BaseGeometry:
    return shapely.transform(geom, _transformer(source, target).transform, interleaved=False)


@cache
def _transformer(source: int, target: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)
