"""Interactive API docs with Swagger UI served locally (works offline)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from gridgis.maps import assets

from ..deps import AssetsDep
from ..routing import StrictQueryRoute

router = APIRouter(include_in_schema=False, route_class=StrictQueryRoute)


@router.get("/docs")
def swagger(request: Request, _assets: AssetsDep) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title="gridgis API",
        swagger_js_url=assets.url("swagger-ui-dist", "swagger-ui-bundle.js"),
        swagger_css_url=assets.url("swagger-ui-dist", "swagger-ui.css"),
        swagger_favicon_url=assets.url("swagger-ui-dist", "favicon-32x32.png"))
