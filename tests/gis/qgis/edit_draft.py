"""Run by Debian's Python with QGIS's bindings (python3-qgis), not by pytest: edits a
draft plan's view the way a planner does in QGIS, through QGIS's own PostgreSQL
provider, and prints what happened as JSON.

    /usr/bin/python3 edit_draft.py '{"conninfo": {...}, "draft": 2, "published": 1, ...}'
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsDataSourceUri,
    QgsGeometry,
    QgsVectorLayer,
)


def layer(args: dict, plan: int) -> QgsVectorLayer:
    c = args["conninfo"]
    uri = QgsDataSourceUri()
    uri.setConnection(c.get("host", ""), str(c.get("port", "5432")), c["dbname"], c["user"],
                      c.get("password", ""))
    uri.setDataSource("gis", f"plan_{plan}", "geom", "", "id")
    found = QgsVectorLayer(uri.uri(False), f"plan {plan}", "postgres")
    if not found.isValid():
        raise SystemExit(f"QGIS cannot open gis.plan_{plan}: {found.error().summary()}")
    return found


def feature_ids(draft: QgsVectorLayer) -> dict[str, int]:
    return {f["code"]: f.id() for f in draft.getFeatures()}


LOG: list[str] = []  # QGIS's message log: where the provider reports database errors


def commit(target: QgsVectorLayer, changes: dict[str, str]) -> list[str]:
    """Change the grids' geometries (code: WKT) in one edit session and save; the
    errors QGIS reports (none when saved)."""
    ids = feature_ids(target)
    LOG.clear()
    target.startEditing()
    for code, wkt in changes.items():
        target.changeGeometry(ids[code], QgsGeometry.fromWkt(wkt))
    if target.commitChanges():
        return []
    errors = list(target.commitErrors()) + LOG
    target.rollBack()
    return errors


def main() -> None:
    args = json.loads(sys.argv[1])
    app = QgsApplication([], False)
    app.initQgis()
    QgsApplication.messageLog().messageReceived.connect(
        lambda message, tag, level: LOG.append(f"{tag}: {message}"))
    draft = layer(args, args["draft"])
    report = {"valid": draft.isValid(), "count": draft.featureCount(),
              "crs": draft.crs().authid(), "geometry": draft.wkbType(),
              "boundary_moved": commit(draft, args["move_boundary"]),
              "overlap": commit(draft, args["overlap"])}
    published = layer(args, args["published"])
    published.startEditing()
    first = next(published.getFeatures())
    published.changeAttributeValue(first.id(), published.fields().indexOf("name"), "x")
    report["published_saved"] = published.commitChanges()
    report["published_errors"] = list(published.commitErrors())
    published.rollBack()
    print(json.dumps(report))
    app.exitQgis()


main()
