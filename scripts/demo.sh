#!/usr/bin/env bash
# Install what is missing, build the demo district on the embedded database (first run
# only) and serve gridgis on http://127.0.0.1:8000 . Extra arguments go to `gridgis demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/gridgis demo "$@"
