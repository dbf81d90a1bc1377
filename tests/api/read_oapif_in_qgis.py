"""Run by Debian's Python with QGIS's bindings (python3-qgis), not by pytest: opens each
collection of gridgis's OGC API with QGIS's own OAPIF provider, as a user who stored
their token in QGIS's authentication database (the Basic method, the token as the
password), and prints each layer's validity, feature count and CRS as JSON.

    /usr/bin/python3 read_oapif_in_qgis.py '{"url": ..., "token": ..., "layers": [...]}'
"""

import json
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QGIS_AUTH_DB_DIR_PATH"] = tempfile.mkdtemp(prefix="qgis-auth-")

from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsVectorLayer


def main() -> None:
    args = json.loads(sys.argv[1])
    app = QgsApplication([], False)
    app.initQgis()
    auth = QgsApplication.authManager()
    auth.setMasterPassword("gridgis-test", True)
    config = QgsAuthMethodConfig("Basic")
    config.setName("gridgis")
    config.setConfig("username", "token")
    config.setConfig("password", args["token"])
    if not auth.storeAuthenticationConfig(config)[0]:
        raise SystemExit("QGIS could not store the authentication configuration")
    found = {}
    for name in args["layers"]:
        uri = f"url='{args['url']}' typename='{name}' authcfg={config.id()}"
        layer = QgsVectorLayer(uri, name, "OAPIF")
        found[name] = {"valid": layer.isValid(),
                       "count": sum(1 for _ in layer.getFeatures()) if layer.isValid() else None,
                       "crs": layer.crs().authid() if layer.isValid() else None,
                       "error": layer.error().summary() if not layer.isValid() else None}
    print(json.dumps(found), flush=True)
    # QGIS 3.22's teardown of the network and authentication managers can crash after
    # a provider has used them; the answer is out, so leave without it
    os._exit(0)


if __name__ == "__main__":
    main()
