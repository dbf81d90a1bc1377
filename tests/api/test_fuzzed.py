"""The whole HTTP contract, fuzzed: schemathesis generates requests from /openapi.json
(examples, coverage, fuzzing, and stateful sequences along the links: create, then get,
update, delete) against a live service, and checks every answer: no server error, every
status, media type, header and body as the document declares, invalid requests refused.

One check is left out on purpose: `positive_data_acceptance` expects every request the
schema admits to succeed, but the domain refuses, with a 422 that says why, some values
no schema can express for every deployment: locations outside the area the deployment
covers, dates before GRIDGIS_EARLIEST_DATE or in the future, references to rows that do
not exist.
"""

from __future__ import annotations

import re
import subprocess
import sys

from gridgis.api.app import create_app
from gridgis.api.settings import ApiSettings, Settings
from tests.accounts import token_for
from tests.browser import live_server
from tests.seed import add_hot_cluster

SEED = 20261129
EXAMPLES = 5


def test_the_openapi_contract_holds_under_fuzzing(seeded, tmp_path):
    db, _ = seeded
    with db.engine.begin() as conn:
        add_hot_cluster(conn)
    settings = Settings(api=ApiSettings(analytics_wait_s=60, max_bbox_km2=500))
    with live_server(create_app(settings, database=db)) as base:
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json",
             "--header", f"Authorization: Bearer {token_for(db)}",
             "--checks", "all", "--exclude-checks", "positive_data_acceptance",
             "--seed", str(SEED), "--max-examples", str(EXAMPLES), "--no-shrink",
             "--generation-deterministic", "--continue-on-failure", "--warnings", "off",
             "--request-timeout", "120",
             "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=540, cwd=tmp_path)
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary
    generated = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert generated and generated.group(1) == generated.group(2), summary
    assert int(generated.group(1)) > 5000, summary
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}", result.stdout), summary
