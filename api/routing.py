"""Routes that refuse query parameters they do not declare (a typo such as ``?categroy=``
would otherwise return everything), with a 422 that names the parameter."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from gridgis.gis.errors import InvalidInput


class StrictQueryRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        allowed = query_names(self.dependant)

        async def strict(request: Request) -> Response:
            unknown = [k for k in dict.fromkeys(request.query_params.keys())
                       if k not in allowed]
            if unknown:
                raise InvalidInput(
                    f"unknown query parameter {unknown[0]!r}"
                    + (f" (and {', '.join(map(repr, unknown[1:]))})" if len(unknown) > 1 else "")
                    + f"; {self.path} takes: " + (", ".join(sorted(allowed)) or "none"),
                    field=unknown[0])
            return await handler(request)

        return strict


def query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route reads, through all its dependencies."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= query_names(sub)
    return names
