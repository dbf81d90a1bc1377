#!/usr/bin/env bash
# Build the wheel, install it (not editable) into a fresh virtual environment outside the
# checkout, and check that the installed gridgis runs on its own: one import name, the
# command line, the demo on a throw-away home with its accounts, and the service answering
# /maps/grids and the API to a demo account's token (and refusing them without one).
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
# with the same pins as the checkout's .venv (constraints.txt, see scripts/lock.sh)
quietly "$work/venv/bin/python" -m pip install -c constraints.txt "$wheel"

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

step "an API token for a demo account"
token=$("$work/venv/bin/gridgis" users token admin --days 1 --label smoke-wheel \
        2>"$work/token.log") || { cat "$work/token.log"; exit 1; }
[[ $token == ggt_* && $token != *[[:space:]]* ]] || {
    echo "gridgis users token printed no token alone: '$token'"; cat "$work/token.log"; exit 1; }
COLUMNS=200 "$work/venv/bin/gridgis" users token admin --list >"$work/tokens.txt"
grep -q "smoke-wheel" "$work/tokens.txt" || { echo "--list shows no new token"; exit 1; }
if grep -qF "${token#ggt_}" "$work/tokens.txt"; then echo "--list shows the secret"; exit 1; fi
echo "made $(grep -o 'token [0-9]*' "$work/token.log") for admin"

step "the service"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/venv/bin/gridgis" serve --port "$port" >"$work/serve.log" 2>&1 &
server=$!
# the token through the environment, not the command line (which anyone may list)
SMOKE_TOKEN=$token "$py" - "$port" "$server" <<'PY' || { cat "$work/serve.log"; exit 1; }
import json, os, re, sys, time, urllib.error, urllib.request

port, server = sys.argv[1], int(sys.argv[2])
base = f"http://127.0.0.1:{port}"
signed_in = {"Authorization": f"Bearer {os.environ['SMOKE_TOKEN']}"}


def fetch(path: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get(path: str, headers: dict | None = None) -> bytes:
    status, body = fetch(path, headers)
    assert status == 200, f"{path}: {status} {body[:300]!r}"
    return body


for _ in range(240):
    try:
        get("/")
        break
    except OSError:
        os.kill(server, 0)  # raises when the server died
        time.sleep(0.5)
page = get("/maps/grids?lang=en", signed_in).decode()
assert "Grid map" in page, "no grid map"
assets = sorted(set(re.findall(r'/static/vendor/[^"]+', page)))
assert assets, "the page names no vendored assets"
for asset in assets:
    get(asset)
assert json.loads(get("/me", signed_in))["name"] == "admin"
assert json.loads(get("/grids?limit=1", signed_in))["numberMatched"] > 0
for path in ("/grids?limit=1", "/maps/grids?lang=en"):
    status, _ = fetch(path)
    assert status == 401, f"{path} without a token: {status}, not 401"
status, _ = fetch("/grids?limit=1", {"Authorization": "Bearer ggt_not-a-token"})
assert status == 401, f"/grids with a made-up token: {status}, not 401"
print(f"the installed wheel serves /maps/grids, its {len(assets)} assets and the API to "
      "a demo account's token, and 401 without one")
PY
