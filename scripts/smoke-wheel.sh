#!/usr/bin/env bash
# Build the wheel, install it (not editable) into a fresh virtual environment outside the
# checkout, and check that the installed gridgis runs on its own: one import name, the
# command line, the demo on a throw-away home, and the service answering /maps/grids.
# Needs what scripts/bootstrap.sh installs (PostgreSQL + PostGIS, npm) and a package index.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x .venv/bin/python ]] || scripts/bootstrap.sh

work=$(mktemp -d /tmp/gridgis-wheel-XXXXXX)
chmod 755 "$work"  # as root the embedded server runs as postgres, who must reach the home
server=""
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    GRIDGIS_HOME=$work/home "$work/venv/bin/gridgis" db stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

quietly() {  # run a command, showing its output only when it fails
    "$@" >"$work/step.log" 2>&1 || { cat "$work/step.log"; return 1; }
}

step "building the wheel"
rm -rf build  # setuptools' scratch directory: never let a stale copy into the wheel
quietly .venv/bin/python -m pip wheel --no-deps --wheel-dir "$work/dist" .
wheel=$(ls "$work"/dist/gridgis-*.whl)
python3 - "$wheel" <<'PY'
import sys, zipfile
names = {n.split("/")[0] for n in zipfile.ZipFile(sys.argv[1]).namelist()
         if ".dist-info/" not in n}
assert names == {"gridgis"}, f"the wheel installs other top-level names: {sorted(names)}"
PY

step "installing it into a fresh venv"
python3 -m venv "$work/venv"
quietly "$work/venv/bin/python" -m pip install "$wheel"

cd "$work"  # away from the checkout: nothing may come from the source tree
export GRIDGIS_HOME=$work/home GRIDGIS_ASSETS_DIR=$work/assets
py=$work/venv/bin/python
"$py" - <<'PY'
import importlib.util, pathlib, sys
import gridgis
where = pathlib.Path(gridgis.__file__).resolve()
assert "site-packages" in where.parts, f"gridgis imported from {where}, not the install"
for name in ("gis", "api", "maps", "layers", "cli"):
    assert importlib.util.find_spec(name) is None, f"the install exposes a top-level {name!r}"
print("one import name:", where.parent)
PY

step "the command line"
"$work/venv/bin/gridgis" --version
"$work/venv/bin/gridgis" --help >/dev/null

step "the demo on a throw-away home"
"$work/venv/bin/gridgis" assets fetch
"$work/venv/bin/gridgis" demo --no-serve --months 3

step "the service"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/venv/bin/gridgis" serve --port "$port" >"$work/serve.log" 2>&1 &
server=$!
"$py" - "$port" "$server" <<'PY' || { cat "$work/serve.log"; exit 1; }
import json, os, re, sys, time, urllib.request

port, server = sys.argv[1], int(sys.argv[2])
base = f"http://127.0.0.1:{port}"


def get(path: str) -> bytes:
    with urllib.request.urlopen(base + path, timeout=60) as response:
        return response.read()


for _ in range(240):
    try:
        get("/")
        break
    except OSError:
        os.kill(server, 0)  # raises when the server died
        time.sleep(0.5)
page = get("/maps/grids?lang=en").decode()
assert "Grid map" in page, "no grid map"
assets = sorted(set(re.findall(r'/static/vendor/[^"]+', page)))
assert assets, "the page names no vendored assets"
for asset in assets:
    get(asset)
assert json.loads(get("/grids?limit=1"))["numberMatched"] > 0
print(f"the installed wheel serves /maps/grids, its {len(assets)} assets and the API")
PY
