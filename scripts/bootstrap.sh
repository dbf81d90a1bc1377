#!/usr/bin/env bash
# Install what gridgis needs on a Debian/Ubuntu machine, only what is missing:
#   - PostgreSQL + PostGIS server packages (for the embedded database)
#   - with --test: Chromium (browser tests), CJK fonts (Chinese labels in screenshots),
#     GDAL's command-line tools and QGIS's Python bindings (real GIS clients of the
#     database)
#   - a virtual environment in .venv with gridgis and its Python dependencies
# Works as root or as a user with sudo; otherwise it stops and names the packages to install.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

missing=()
have_postgis() {
    compgen -G "/usr/share/postgresql/*/extension/postgis.control" >/dev/null &&
        compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
have_postgis || missing+=(postgresql postgresql-postgis)
python3 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
command -v npm >/dev/null || missing+=(npm)  # fetches Leaflet & co. once, for offline pages
if (( want_test )); then
    command -v chromium >/dev/null || missing+=(chromium)
    fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing+=(fonts-noto-cjk)
    command -v ogrinfo >/dev/null || missing+=(gdal-bin)  # GDAL as a client of our database
    # QGIS's own PostgreSQL provider, driven from Debian's Python, edits a draft in a test
    /usr/bin/python3 -c "import qgis.core" 2>/dev/null || missing+=(python3-qgis)
fi

if (( ${#missing[@]} )); then
    if [[ $(id -u) -eq 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo)
    elif command -v sudo >/dev/null && [[ -t 0 ]]; then
        sudo=(sudo)
    else
        echo "gridgis needs these Debian/Ubuntu packages, and this user cannot install them:" >&2
        echo "    apt-get install ${missing[*]}" >&2
        echo "Ask an administrator to run that, then run this command again." >&2
        exit 1
    fi
    echo "installing: ${missing[*]}"
    # A fresh machine's package lists may be missing or stale.
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    # Debian starts a system cluster on install; gridgis runs its own, so leave theirs alone.
fi

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
stamp=.venv/.gridgis-installed$(( want_test ? 1 : 0 ))
# Reinstall when the dependencies or their pins (constraints.txt, see scripts/lock.sh)
# changed since the last install.
if [[ ! -f $stamp || pyproject.toml -nt $stamp || constraints.txt -nt $stamp ]]; then
    .venv/bin/python -m pip install -q --upgrade pip
    if (( want_test )); then
        .venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
    else
        .venv/bin/python -m pip install -q -c constraints.txt -e .
    fi
    touch "$stamp"
fi
.venv/bin/gridgis assets fetch >/dev/null
