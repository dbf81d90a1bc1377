#!/usr/bin/env bash
# Run the whole test suite (plus ruff and mypy) on a fresh machine: installs what is
# missing, then tests against a real embedded PostgreSQL + PostGIS and a real Chromium.
# Skipped tests count as failures.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/pytest -n "${GRIDGIS_TEST_WORKERS:-2}" -p no:cacheprovider "$@"
