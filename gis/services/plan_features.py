"""A draft's grids as features a GIS client creates, replaces and deletes (OGC API –
Features Part 4), kept a partition by the rules of the planning edits (``reshape``):

* **create**: the drawn grid takes its land from the grids of its community that held
  it (and from uncovered land of the community); none of them may be emptied or cut;
* **replace**: a new outline is a redraw (land gained is taken from neighbours, land
  lost goes to the neighbour sharing most boundary); a new code or name is a rename;
  sending the grid as it is changes nothing (a client saving every feature it holds);
* **delete**: the grid is merged into the neighbour of its community sharing most
  boundary with it, which takes its land and its workers.

Each is logged in ``plan_edits`` like the other edits, so undo restores it.
"""

from __future__ import annotations

import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from ..errors import Conflict, InvalidInput, NotFound
from ..planning import reshape as geometry
from .plan_edits import DraftEditor, Edit, _Grid

MAX_CODE_CHARS = 100


class FeatureEditor(DraftEditor):
    """Create, replace and delete grids of one draft, in the caller's transaction."""

    def create(self, code: str, name: str | None, shape_: dict,
               community_id: int | None = None) -> tuple[int, Edit]:
        """The new grid's id and the edit."""
        self._check_code(code)
        drawn = self._polygon(shape_)
        if community_id is not None:
            self._check_community(community_id)
        community_id = community_id or self._community_under(drawn)
        self._refuse_other_communities(drawn, community_id)
        target = _Grid(0, code, name, community_id, {}, shapely.MultiPolygon())
        near = self._neighbourhood(target, drawn)
        result = self._explained(geometry.reshape, code, drawn,
                                 {c: g.geom for c, g in near.items()},
                                 self._community(community_id), clip=False,
                                 snap_m=self.tol.snap_m, sliver_m2=self.tol.sliver_m2)
        others = [c for c in result if c != code]
        self._check_scope([near[c].id for c in others])
        if self.scope_grids is not None:  # a scoped planner draws in their communities
            self._check_communities({community_id})
        before = self._snapshot([near[c].id for c in others])
        for other in others:
            self._update(near[other].id, result[other])
        new_id = self.conn.execute(sa.text(
            "INSERT INTO grids (plan_id, code, name, community_id, geom) VALUES "
            "(:p, :code, :name, :c, ST_Multi(ST_GeomFromWKB(:wkb, :srid))) RETURNING id"),
            {"p": self.plan_id, "code": code, "name": name, "c": community_id,
             "wkb": result[code].wkb, "srid": self.srid}).scalar_one()
        summary = f"drew {code}" + (f" (from {', '.join(sorted(others))})" if others else "")
        edit = self._log("create", summary, before, [new_id],
                         Edit(0, "create", "", sorted(result), [code], []))
        return new_id, edit

    def replace(self, grid_id: int, code: str, name: str | None,
                shape_: dict | None) -> list[Edit]:
        """The edits it took (none when the grid was sent as it is)."""
        current = self._grid(grid_id)
        done: list[Edit] = []
        if shape_ is not None:
            drawn = self._polygon(shape_)
            change = shapely.symmetric_difference(geometry.clean(drawn), current.geom).area
            if change >= self.tol.sliver_m2:
                done.append(self.redraw(current.code, shape_))
        if code != current.code or name != current.name:
            if code != current.code:
                self._check_code(code)
            before = self._snapshot([grid_id])
            self.conn.execute(sa.text("UPDATE grids SET code = :code, name = :name "
                                      "WHERE id = :id"),
                              {"code": code, "name": name, "id": grid_id})
            renamed = f"renamed {current.code} to {code}" if code != current.code else \
                f"named {code} {name!r}"
            done.append(self._log("rename", renamed, before, [],
                                  Edit(0, "rename", "", [code], [], [])))
        return done

    def delete(self, grid_id: int) -> Edit:
        current = self._grid(grid_id)
        rows = self.conn.execute(sa.text(
            "SELECT code, ST_AsBinary(geom) AS wkb FROM grids WHERE plan_id = :p "
            "AND id <> :id AND community_id IS NOT DISTINCT FROM :c "
            "AND ST_DWithin(geom, ST_GeomFromWKB(:wkb, :srid), :near)"),
            {"p": self.plan_id, "id": grid_id, "c": current.community_id,
             "wkb": current.geom.wkb, "srid": self.srid, "near": self.tol.snap_m}).all()
        shared = {r.code: shapely.intersection(
            current.geom.boundary, shapely.from_wkb(r.wkb).buffer(self.tol.snap_m)).length
            for r in rows}
        heir = max(shared, key=shared.__getitem__, default=None)
        if heir is None or shared[heir] <= 0:
            self._refuse(f"grid {current.code} has no neighbour in its community to take "
                         "its land: deleting it would leave the land in no grid",
                         current.geom, field="geometry")
        assert heir is not None
        return self.merge([heir, current.code], keep=heir)

    # -- the parts -----------------------------------------------------------------------

    def _grid(self, grid_id: int) -> _Grid:
        code = self.conn.execute(sa.text(
            "SELECT code FROM grids WHERE id = :id AND plan_id = :p"),
            {"id": grid_id, "p": self.plan_id}).scalar()
        if code is None:
            raise NotFound(f"the draft has no grid with id {grid_id}")
        return self._grids([code])[code]

    def version(self, grid_id: int) -> int:
        """The grid's version, locked for this edit."""
        current = self.conn.execute(sa.text(
            "SELECT version FROM grids WHERE id = :id AND plan_id = :p FOR UPDATE"),
            {"id": grid_id, "p": self.plan_id}).scalar()
        if current is None:
            raise NotFound(f"the draft has no grid with id {grid_id}")
        return int(current)

    def _check_community(self, community_id: int) -> None:
        level = self.conn.execute(sa.text("SELECT level FROM areas WHERE id = :c"),
                                  {"c": community_id}).scalar()
        if level != "community":
            raise InvalidInput(f"community_id {community_id} is not a community (area "
                               "level 'community')", field="community_id")

    def _check_code(self, code: str) -> None:
        if not code.strip() or code != code.strip() or len(code) > MAX_CODE_CHARS:
            raise InvalidInput(f"a grid code is 1–{MAX_CODE_CHARS} characters, without "
                               "spaces around it", field="code")
        taken = self.conn.execute(sa.text(
            "SELECT 1 FROM grids WHERE plan_id = :p AND code = :c"),
            {"p": self.plan_id, "c": code}).first()
        if taken:
            raise Conflict(f"the draft already has a grid {code}", field="code")

    def _polygon(self, shape_: dict) -> BaseGeometry:
        drawn = self._metric(shape_)
        if drawn.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidInput("a grid is a Polygon", field="geometry")
        return drawn

    def _community_under(self, drawn: BaseGeometry) -> int:
        """The community of the grids holding most of the drawing, or, on land no grid
        holds, the community holding most of it."""
        found = self.conn.execute(sa.text(
            "SELECT community_id FROM grids WHERE plan_id = :p AND community_id IS NOT NULL "
            "AND ST_Intersects(geom, ST_GeomFromWKB(:wkb, :srid)) GROUP BY community_id "
            "ORDER BY sum(ST_Area(ST_Intersection(geom, ST_GeomFromWKB(:wkb, :srid)))) "
            "DESC LIMIT 1"), {"p": self.plan_id, "wkb": drawn.wkb, "srid": self.srid}
        ).scalar()
        if found is None:
            found = self.conn.execute(sa.text(
                "SELECT id FROM areas WHERE level = 'community' "
                "AND ST_Intersects(geom, ST_GeomFromWKB(:wkb, :srid)) ORDER BY "
                "ST_Area(ST_Intersection(geom, ST_GeomFromWKB(:wkb, :srid))) DESC LIMIT 1"),
                {"wkb": drawn.wkb, "srid": self.srid}).scalar()
        if found is None:
            raise InvalidInput("the drawn grid lies in no community", field="geometry")
        return int(found)

    def _refuse_other_communities(self, drawn: BaseGeometry, community_id: int) -> None:
        """A grid lies in one community: a drawing over another community's grids is
        refused, with the overlap."""
        rows = self.conn.execute(sa.text(
            "SELECT code, ST_AsBinary(ST_Intersection(geom, ST_GeomFromWKB(:wkb, :srid))) "
            "AS overlap FROM grids WHERE plan_id = :p "
            "AND community_id IS DISTINCT FROM :c "
            "AND ST_Intersects(geom, ST_GeomFromWKB(:wkb, :srid))"),
            {"p": self.plan_id, "c": community_id, "wkb": drawn.wkb, "srid": self.srid}
        ).all()
        for code, overlap in rows:
            piece = geometry.clean(shapely.from_wkb(overlap))
            if piece.area >= self.tol.sliver_m2:
                self._refuse(f"the drawing covers {piece.area:.0f} m² of grid {code} of "
                             "another community: a grid lies in one community", piece,
                             field="geometry", grids=[code])
