"""CQL2 filters (OGC API – Features Part 3) as SQLAlchemy clauses on a collection's
queryables. The text encoding is parsed by ``cql2`` (the reference Rust parser, as in
tipg and stac-fastapi) into CQL2 JSON, which is what is translated here, so that only
the queryables can be named, every literal is bound with its column's type, geometry
literals are moved from the filter's CRS into the table's, and what is not supported is
a clear refusal rather than a wrong answer.

Supported: comparisons, ``AND``/``OR``/``NOT``, ``LIKE``, ``BETWEEN``, ``IN``,
``IS NULL`` (*basic CQL2*, *advanced comparison operators*), ``CASEI`` (*case-insensitive
comparison*), the spatial functions ``S_INTERSECTS``, ``S_EQUALS``, ``S_DISJOINT``,
``S_TOUCHES``, ``S_WITHIN``, ``S_OVERLAPS``, ``S_CROSSES`` and ``S_CONTAINS`` with
geometry and ``BBOX`` literals (*spatial functions*), and the temporal functions
``T_AFTER``, ``T_BEFORE``, ``T_DURING``, ``T_EQUALS``, ``T_INTERSECTS`` and
``T_DISJOINT`` on instants (the collections' times are instants).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import cql2
import shapely
import sqlalchemy as sa

from ..errors import Forbidden, InvalidInput
from ..times import end_of_day, parse_instant
from .literals import to_table_crs

MAX_FILTER_CHARS = 20_000
MAX_DEPTH = 64  # nesting (brackets, NOTs): the parser recurses, and deep enough crashes
INT64 = 2 ** 63 - 1
FilterLang = Literal["cql2-text", "cql2-json"]
SPATIAL = {"s_intersects": "ST_Intersects", "s_equals": "ST_Equals",
           "s_disjoint": "ST_Disjoint", "s_touches": "ST_Touches", "s_within": "ST_Within",
           "s_overlaps": "ST_Overlaps", "s_crosses": "ST_Crosses", "s_contains": "ST_Contains"}
COMPARISONS = {"=": "__eq__", "<>": "__ne__", "<": "__lt__", "<=": "__le__",
               ">": "__gt__", ">=": "__ge__"}
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
TEMPORAL = ("t_after", "t_before", "t_during", "t_equals", "t_intersects", "t_disjoint")


@dataclass(frozen=True)
class Queryable:
    column: Any  # the SQLAlchemy column (or expression) it reads
    type: str  # text, int, float, bool, date, datetime or geometry


def parse_filter(text: str, lang: FilterLang = "cql2-text") -> Any:
    """The filter as CQL2 JSON; a syntax error is refused with where it is."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidInput(f"filter is {len(text):,} characters long; at most "
                           f"{MAX_FILTER_CHARS:,}", field="filter")
    if _depth(text) > MAX_DEPTH:
        raise InvalidInput(f"filter nests deeper than {MAX_DEPTH} levels", field="filter")
    try:
        if lang == "cql2-json":
            return cql2.parse_json(text).to_json()
        return cql2.parse_text(text).to_json()
    except (cql2.ParseError, cql2.ValidationError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise InvalidInput(f"filter is not valid {lang}: {reason}", field="filter") from None


class Translator:
    """A CQL2 JSON filter as a clause on ``queryables`` (name → column and type); names
    in ``hidden`` are refused as personal; geometry literals are in ``filter_srid``."""

    def __init__(self, queryables: Mapping[str, Queryable], table_srid: int,
                 filter_srid: int = 4326, hidden: frozenset[str] = frozenset(),
                 lat_first: bool = False) -> None:
        self.queryables = queryables
        self.table_srid = table_srid
        self.filter_srid = filter_srid
        self.hidden = hidden
        self.lat_first = lat_first  # the filter CRS is EPSG:4326 proper

    def clause(self, node: Any) -> Any:
        if isinstance(node, bool):
            return sa.true() if node else sa.false()
        if not isinstance(node, dict) or "op" not in node:
            raise InvalidInput(f"filter has {_shown(node)} where a condition is expected",
                               field="filter")
        op, args = str(node["op"]).lower(), list(node.get("args") or [])
        if op in ("and", "or"):
            parts = [self.clause(a) for a in args]
            return sa.and_(*parts) if op == "and" else sa.or_(*parts)
        if op == "not":
            return sa.not_(self.clause(_one(args, op)))
        if op in COMPARISONS:
            left, right = _two(args, op)
            if _is_property(right) and not _is_property(left):
                left, right, op = right, left, FLIPPED.get(op, op)  # 5 < x is x > 5
            column, value = self._pair(left, right)
            return getattr(column, COMPARISONS[op])(value)
        if op == "like":
            left, pattern = _two(args, op)
            column, value = self._pair(left, pattern, want="text")
            return column.like(value)
        if op == "between":
            if len(args) != 3:
                raise InvalidInput("BETWEEN needs a property and two values", field="filter")
            column, low = self._pair(args[0], args[1])
            _, high = self._pair(args[0], args[2])
            return column.between(low, high)
        if op == "in":
            left, options = _two(args, op)
            if not isinstance(options, list) or not options:
                raise InvalidInput("IN needs a list of values", field="filter")
            column = self._pair(left, options[0])[0]
            return column.in_([self._pair(left, o)[1] for o in options])
        if op == "isnull":
            return self._operand(_one(args, op)).is_(None)
        if op in SPATIAL:
            return self._spatial(op, *_two(args, op))
        if op in TEMPORAL:
            return self._temporal(op, *_two(args, op))
        raise InvalidInput(f"filter uses {op.upper()}, which this service does not "
                           "support (see /conformance)", field="filter")

    # -- operands ------------------------------------------------------------------------

    def _queryable(self, name: str) -> Queryable:
        if name in self.hidden:
            raise Forbidden(f"filtering by {name} would reveal personal fields your roles "
                            "may not see", field="filter")
        found = self.queryables.get(name)
        if found is None:
            raise InvalidInput(f"filter names {name!r}, which is not a queryable here; "
                               f"queryables: {', '.join(sorted(self.queryables))}",
                               field="filter")
        return found

    def _operand(self, node: Any) -> Any:
        """A property's column, or CASEI of one."""
        if _is_property(node):
            return self._queryable(node["property"]).column
        if isinstance(node, dict) and str(node.get("op", "")).lower() == "casei":
            return sa.func.lower(self._operand(_one(node.get("args") or [], "casei")))
        raise InvalidInput(f"filter has {_shown(node)} where a property is expected",
                           field="filter")

    def _pair(self, left: Any, right: Any, want: str | None = None) -> tuple[Any, Any]:
        """A property (or CASEI of one) and a value bound with the property's type, or
        two properties."""
        casei = isinstance(left, dict) and str(left.get("op", "")).lower() == "casei"
        inner = _one(left.get("args") or [], "casei") if casei else left
        if not _is_property(inner):
            raise InvalidInput(f"filter has {_shown(left)} where a property is expected "
                               "(name a property on one side)", field="filter")
        name = inner["property"]
        queryable = self._queryable(name)
        if (want or casei) and queryable.type != "text":
            raise InvalidInput(f"{name} is of type {queryable.type}; "
                               f"{'CASEI' if casei else 'LIKE'} needs text", field="filter")
        column = self._operand(left)
        if _is_property(right):
            other = self._queryable(right["property"])
            if {queryable.type, other.type} - {"int", "float"} and \
                    queryable.type != other.type:
                raise InvalidInput(f"{name} ({queryable.type}) and {right['property']} "
                                   f"({other.type}) cannot be compared", field="filter")
            return column, other.column
        if isinstance(right, dict) and str(right.get("op", "")).lower() == "casei":
            value = _one(right.get("args") or [], "casei")
            return column, sa.func.lower(_bound(name, queryable, value))
        bound = _bound(name, queryable, right)
        return column, sa.func.lower(bound) if casei else bound

    # -- spatial and temporal ------------------------------------------------------------

    def _spatial(self, op: str, left: Any, right: Any) -> Any:
        function = SPATIAL[op]
        if not _is_property(left):
            left, right = right, left
            function = {"ST_Within": "ST_Contains", "ST_Contains": "ST_Within"}.get(
                function, function)
        if not _is_property(left) or self._queryable(left["property"]).type != "geometry":
            raise InvalidInput(f"{op.upper()} needs the geometry property on one side",
                               field="filter")
        column = self._queryable(left["property"]).column
        return getattr(sa.func, function)(column, self._geometry(right))

    def _geometry(self, node: Any) -> Any:
        try:
            if isinstance(node, dict) and "bbox" in node:
                box = [float(v) for v in node["bbox"]]
                shape = shapely.box(*(box[:2] + box[2:4] if len(box) == 4 else
                                      box[:2] + box[3:5]))
            elif isinstance(node, dict) and "type" in node:
                shape = shapely.from_geojson(json.dumps(node))
            else:
                raise ValueError
        except (ValueError, TypeError, shapely.errors.GEOSException):
            raise InvalidInput("a spatial function needs a geometry (WKT or BBOX) on the "
                               "other side", field="filter") from None
        if not shape.is_valid:
            raise InvalidInput(f"the filter's geometry is not valid: "
                               f"{shapely.is_valid_reason(shape)}", field="filter")
        moved = to_table_crs(shape, self.filter_srid, self.table_srid,
                             lat_first=self.lat_first)
        return sa.func.ST_GeomFromText(sa.literal(moved.wkt), self.table_srid)

    def _temporal(self, op: str, left: Any, right: Any) -> Any:
        if not _is_property(left) or self._queryable(left["property"]).type != "datetime":
            raise InvalidInput(f"{op.upper()} needs a date-time property first",
                               field="filter")
        column = self._queryable(left["property"]).column
        if isinstance(right, dict) and "interval" in right:
            bounds = list(right["interval"])
            if len(bounds) != 2:
                raise InvalidInput("an INTERVAL has two ends", field="filter")
            start, end = _time(bounds[0], first=True), _time(bounds[1], first=False)
        else:
            start = end = _time(right, first=True)
            if isinstance(right, dict) and "date" in right:
                end = _time(right, first=False)  # a date is the whole day
        interval = isinstance(right, dict) and "interval" in right
        known = column.isnot(None)
        inside = sa.and_(known, *([column >= start] if start is not None else []),
                         *([column <= end] if end is not None else []))
        if op == "t_after":
            return column > end if end is not None else sa.false()
        if op == "t_before":
            return column < start if start is not None else sa.false()
        if op == "t_disjoint":
            return sa.and_(known, sa.not_(inside))
        if op == "t_during":
            if not interval:
                raise InvalidInput("T_DURING needs an INTERVAL", field="filter")
            return sa.and_(known, *([column > start] if start is not None else []),
                           *([column < end] if end is not None else []))
        if op == "t_equals" and interval:  # an instant equals a one-instant interval only
            return column == start if start is not None and start == end else sa.false()
        return inside  # t_equals of instants, t_intersects


def _is_property(node: Any) -> bool:
    return isinstance(node, dict) and "property" in node


def _one(args: list, op: str) -> Any:
    if len(args) != 1:
        raise InvalidInput(f"{op.upper()} takes one argument", field="filter")
    return args[0]


def _two(args: list, op: str) -> tuple[Any, Any]:
    if len(args) != 2:
        raise InvalidInput(f"{op.upper()} takes two arguments", field="filter")
    return args[0], args[1]


def _shown(node: Any) -> str:
    text = json.dumps(node, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _bound(name: str, queryable: Queryable, value: Any) -> Any:
    """The value as a bound parameter of the property's type, or a refusal naming both."""
    kind = queryable.type
    checked: Any = None
    if kind == "text" and isinstance(value, str):
        checked = value
    elif kind == "bool" and isinstance(value, bool):
        checked = value
    elif kind in ("int", "float") and isinstance(value, int | float) and \
            not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = float("inf")
        if kind == "float" and math.isfinite(number):
            checked = number
        elif kind == "int" and math.isfinite(number) and number.is_integer() and \
                abs(number) <= INT64:
            checked = int(number)
    elif kind in ("date", "datetime") and isinstance(value, dict) and \
            ("timestamp" in value or "date" in value):
        checked = _time(value, first=True)
        if kind == "date":
            checked = checked.date()
    if checked is None:
        raise InvalidInput(f"{name} is of type {kind}; the filter gives it "
                           f"{_shown(value)}", field="filter")
    return sa.bindparam(None, checked, type_=queryable.column.type)


def _time(node: Any, *, first: bool) -> dt.datetime | None:
    """A TIMESTAMP, DATE or interval end as a UTC date-time (a date: its first or last
    instant; '..': open, None)."""
    if node == "..":
        return None
    if isinstance(node, dict):
        node = node.get("timestamp", node.get("date"))
    moment = parse_instant(node, "filter") if isinstance(node, str) else None
    if moment is None:
        raise InvalidInput(f"filter has {_shown(node)} where a time is expected",
                           field="filter")
    return end_of_day(moment) if not first and len(node.strip()) == 10 else moment


def _depth(text: str) -> int:
    """How deep the filter nests: brackets outside quoted strings, and NOTs."""
    unquoted = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\"", "", text)
    steps = [1 if c in "([{" else -1 if c in ")]}" else 0 for c in unquoted]
    deepest = max(itertools.accumulate(steps), default=0)
    nots = len(re.findall(r"\bnot\b", unquoted, flags=re.IGNORECASE))
    return max(deepest, nots)
