#!/usr/bin/env bash
# Audit the pinned dependencies (constraints.txt) for known vulnerabilities with pip-audit.
#
# pip-audit is installed into a throw-away virtual environment (it is no dependency of
# gridgis and never touches .venv) and checks every exact pin, without installing them,
# against a vulnerability database: PyPI's JSON API by default, or OSV with `-s osv`.
# Other arguments go to pip-audit too, e.g. `--ignore-vuln GHSA-xxxx` for an advisory
# that has been read and judged not to apply.
#
# The database must be reachable, so this is not part of CI (.ci/run, scripts/test.sh),
# which reaches only package registries. It first asks the database about a release with
# well-known advisories (requests 2.19.1, CVE-2018-18074); a database that is unreachable
# or knows nothing of it (a registry mirror, say) proves nothing and is reported as such.
#
# Exit codes:
#   0  every pin was audited and none has a known vulnerability
#   1  at least one pin has a known vulnerability (listed, with the fixed versions)
#   2  the vulnerability database could not be reached or did not answer for every pin:
#      nothing is proven either way
#   3  the audit could not run (pip-audit could not be installed, constraints.txt missing
#      or unreadable)
set -uo pipefail
cd "$(dirname "$0")/.."

pins=$PWD/constraints.txt
[[ -f $pins ]] || { echo "audit-deps: no constraints.txt (make it with scripts/lock.sh)" >&2; exit 3; }

tmp=$(mktemp -d /tmp/gridgis-audit-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "audit-deps: installing pip-audit into a throw-away environment"
if ! { python3 -m venv "$tmp/venv" &&
       "$tmp/venv/bin/python" -m pip install -q "pip-audit>=2.9,<3"; } >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    echo "audit-deps: could not install pip-audit (exit 3)" >&2
    exit 3
fi

# audit REQUIREMENTS_FILE REPORT [pip-audit args]: the pins as written, no resolution, no
# install; the answer as JSON in REPORT, pip-audit's own messages in REPORT.log.
audit() {
    local requirements=$1 report=$2
    shift 2
    "$tmp/venv/bin/pip-audit" --requirement "$requirements" --no-deps --disable-pip \
        --progress-spinner off --format json --output "$report" "$@" >"$report.log" 2>&1
}

printf 'requests==2.19.1\n' >"$tmp/canary.txt"
echo "audit-deps: checking that the vulnerability database answers (requests 2.19.1)"
audit "$tmp/canary.txt" "$tmp/canary.json" "$@"
if [[ -s $tmp/canary.json ]]; then  # no answer at all: spare the pins the same time-outs
    echo "audit-deps: auditing the pins in constraints.txt"
    audit "$pins" "$tmp/report.json" "$@"
fi

# Judge both answers; a crash of this judging is exit 3, never a pass or a "vulnerable".
"$tmp/venv/bin/python" - "$tmp" "$@" <<'PY'
import json
import sys
import traceback
from pathlib import Path

UNREACHABLE, CANNOT_RUN = 2, 3
tmp, args = Path(sys.argv[1]), sys.argv[2:]
service = "pypi"
for i, arg in enumerate(args):
    if arg in ("-s", "--vulnerability-service") and i + 1 < len(args):
        service = args[i + 1]
    elif arg.startswith("--vulnerability-service="):
        service = arg.split("=", 1)[1]
service = {"pypi": "PyPI's JSON API", "osv": "OSV"}.get(service, service)


def load(name: str) -> dict | None:
    """The JSON report, or None when pip-audit died before writing it (its error shown)."""
    try:
        return json.loads((tmp / name).read_text())
    except (OSError, ValueError):
        log = (tmp / f"{name}.log").read_text(errors="replace").strip().splitlines()
        errors = [line for line in log if "error" in line.lower()] or log
        print(f"audit-deps: pip-audit failed: {errors[-1] if errors else '(no output)'}",
              file=sys.stderr)
        return None


def unreachable(why: str) -> None:
    print(f"audit-deps: VULNERABILITY DATABASE UNREACHABLE ({service}): {why}.",
          file=sys.stderr)
    print("audit-deps: nothing was proven either way; run this where the database is "
          "reachable (exit 2)", file=sys.stderr)
    sys.exit(UNREACHABLE)


def main() -> int:
    canary = load("canary.json")
    if canary is None:
        unreachable("pip-audit could not ask it about requests 2.19.1")
    known = [v["id"] for d in canary["dependencies"] for v in d.get("vulns", [])]
    if not known:
        reasons = [d["skip_reason"] for d in canary["dependencies"] if "skip_reason" in d]
        unreachable("it has no advisory for requests 2.19.1, a release with well-known ones"
                    + (f" ({reasons[0]})" if reasons else "")
                    + "; what answers here is not the real database (a registry mirror?)")

    report = load("report.json")
    if report is None:
        unreachable("pip-audit could not ask it about the pins")
    deps = report["dependencies"]
    skipped = [d for d in deps if "skip_reason" in d]
    vulnerable = [d for d in deps if d.get("vulns")]
    for d in vulnerable:
        for v in d["vulns"]:
            fixed = ", ".join(v.get("fix_versions") or []) or "no fixed release"
            aliases = ", ".join(v.get("aliases") or [])
            print(f"VULNERABLE {d['name']}=={d['version']}: {v['id']}"
                  + (f" ({aliases})" if aliases else "") + f"; fixed in: {fixed}")
    for d in skipped:
        print(f"NOT AUDITED {d['name']}: {d['skip_reason']}", file=sys.stderr)
    if vulnerable:
        count = sum(len(d["vulns"]) for d in vulnerable)
        print(f"audit-deps: {count} known vulnerabilities in {len(vulnerable)} of "
              f"{len(deps)} pins ({service}); move them with "
              "scripts/lock.sh --upgrade-package NAME (exit 1)", file=sys.stderr)
        return 1
    if skipped:
        unreachable(f"{len(skipped)} of {len(deps)} pins could not be audited")
    print(f"audit-deps: no known vulnerabilities in the {len(deps)} pins of constraints.txt "
          f"({service}; advisories it has for requests 2.19.1: {len(known)})")
    return 0


try:
    sys.exit(main())
except Exception:
    traceback.print_exc()
    print("audit-deps: could not read pip-audit's answer (exit 3)", file=sys.stderr)
    sys.exit(CANNOT_RUN)
PY
