"""Access-control benchmark (issue #15): what authorisation, masking and the read audit
cost on a list route and on /grids/at, 32 concurrent clients, with and without auth in
the same run (target: at most 10 % less throughput).

    .venv/bin/python tests/bench/bench_auth.py [--seconds 15] [--rounds 3]

Builds the demo district in a throw-away embedded cluster and serves it three ways, one
server at a time, each its own uvicorn process started the way `gridgis serve` starts it:
  - auth: the product as it is. The clients send bearer tokens: a viewer asks
    /grids/at; a police officer lists /people (names, ID numbers and phones masked, and
    every read of those people written to the audit log);
  - no auth (the baseline, as before access control): the same app whose token check
    answers an administrator from memory: no token lookup, no masking, no audit entries;
  - role, no token: the same, answering each route's role (the same masked answers as
    with auth) but no token lookup and no audit entries: what checking the token and
    writing the audit cost on their own.
The load comes from `wrk` (apt install wrk), 2 threads and 32 connections, random points
for /grids/at. Rounds run the servers in alternating order so that drift hits all.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import sqlalchemy as sa

from tests.browser import free_port

REPO = Path(__file__).resolve().parents[2]
CONNECTIONS, THREADS = 32, 2
RANDOM_POINT = """
local points = {%s}
math.randomseed(os.time())
request = function()
  local p = points[math.random(#points)]
  return wrk.format("GET", string.format("/grids/at?lon=%%.6f&lat=%%.6f", p[1], p[2]))
end
"""
POINTS_SQL = sa.text("""
    SELECT ST_X(p.geom), ST_Y(p.geom)
    FROM published_grids g,
         ST_Dump(ST_Transform(ST_GeneratePoints(g.geom, 20, 1), 4326)) AS p""")
ROUTES = {"/grids/at": ("viewer", None), "/people?limit=100": ("police", None)}
TARGETS = {"no auth": "tests.bench.bench_auth:app_without_auth",
           "role, no token": "tests.bench.bench_auth:app_without_auth",
           "auth": "gridgis.api.app:create_app"}
MODES = list(TARGETS)


def app_without_auth():
    """The baseline servers: the product's app whose token check answers from a fixed
    table without the database (the token sent is the role's name) and which writes no
    read audit. ``Bearer admin`` then stands for no access control at all (everything
    unmasked, nothing audited), as before access control; ``Bearer viewer`` or ``Bearer
    police`` give each route's masked answers without the token lookup and the audit.
    (FastAPI's dependency_overrides would not do: it inspects the override's signature
    on every request, which alone costs more than what is measured here.)"""
    from gridgis.api import auth
    from gridgis.api.app import create_app
    from gridgis.gis.access.principal import Principal
    from gridgis.gis.resources.guard import Guard

    fixed = {role: Principal("bench", frozenset({role}), user_id=0)
             for role in ("admin", *(r for r, _ in ROUTES.values()))}
    async def identify(state, secret, kind):
        return fixed.get(secret)

    auth._identify = identify
    Guard.audit_read = lambda self, conn, ids: None  # type: ignore[method-assign]
    return create_app()


def start_server(target: str, env: dict[str, str], work: Path) -> tuple[subprocess.Popen,
                                                                        str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "info", "--timeout-graceful-shutdown", "3"],
        env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            httpx.get(base + "/", timeout=2)
            return server, base
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"{target} did not start")


def wrk(base: str, route: str, token: str | None, seconds: float, work: Path,
        headers: list[str] = ()) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-2xx/3xx answers) of one wrk run."""
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:.0f}s", "--latency",
            "--timeout", "30s"]  # slow answers measured, not dropped as timeouts
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    for header in headers:
        args += ["-H", header]
    if route == "/grids/at":
        args += ["-s", str(work / "random_point.lua")]
    text = subprocess.run([*args, base + route], capture_output=True, text=True,
                          check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)

    def percentile(p: str) -> float:
        value, unit = re.search(rf"{p}%\s+([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rate, percentile("50"), percentile("99"), int(errors.group(1)) if errors else 0


def main() -> None:
    from gridgis.gis.access.accounts import create_token
    from gridgis.gis.demo import build_demo
    from tests.bench.scratch import scratch_database

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt install wrk")
    with scratch_database() as (cluster, db, work):
        build_demo(db)
        with db.engine.begin() as conn:
            tokens = {name: create_token(conn, name, label="bench", days=1)[1]
                      for name in {user for user, _ in ROUTES.values()}}
            people = conn.execute(sa.text("SELECT count(*) FROM people")).scalar_one()
            points = conn.execute(POINTS_SQL).all()
        (work / "random_point.lua").write_text(RANDOM_POINT % ", ".join(
            f"{{{x:.6f}, {y:.6f}}}" for x, y in points))
        env = {**os.environ, "GRIDGIS_DATABASE_URL": cluster.url(),
               "PYTHONPATH": str(REPO)}
        results: dict[tuple[str, str], list[tuple[float, float, float, int]]] = {}
        for round_ in range(args.rounds):
            order = MODES if round_ % 2 == 0 else MODES[::-1]
            for mode in order:
                target = TARGETS[mode]
                server, base = start_server(target, env, work)
                try:
                    for route, (user, _) in ROUTES.items():
                        token = {"auth": tokens[user], "role, no token": user,
                                 "no auth": "admin"}[mode]
                        wrk(base, route, token, 3, work)  # warm-up
                        figures = wrk(base, route, token, args.seconds, work)
                        if figures[3]:
                            raise SystemExit(f"{mode} {route}: {figures[3]} answers were not "
                                             "2xx; the figures would mean nothing")
                        results.setdefault((route, mode), []).append(figures)
                finally:
                    server.terminate()
                    server.wait(30)
        with db.engine.connect() as conn:
            audited = conn.execute(sa.text(
                "SELECT count(*) FROM audit_log WHERE action = 'read'")).scalar_one()
    print(f"demo district, {people} people; wrk {THREADS} threads, {CONNECTIONS} "
          f"connections, {args.seconds:.0f} s per run, {args.rounds} rounds (median shown)")
    print(f"{'route':20} {'mode':15} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7}")
    for route in ROUTES:
        rates = {}
        for mode in MODES:
            runs = results[(route, mode)]
            rates[mode] = statistics.median(r[0] for r in runs)
            print(f"{route:20} {mode:15} {rates[mode]:8.0f} "
                  f"{statistics.median(r[1] for r in runs):8.1f} "
                  f"{statistics.median(r[2] for r in runs):8.1f} {sum(r[3] for r in runs):7}")
        print(f"{route:20} auth against no auth: {1 - rates['auth'] / rates['no auth']:6.1%} "
              "less throughput (target <= 10 %)")
        print(f"{route:20} token check + audit alone: "
              f"{1 - rates['auth'] / rates['role, no token']:6.1%} less throughput")
    print(f"audit entries written for reads during the runs: {audited}")


if __name__ == "__main__":
    main()
