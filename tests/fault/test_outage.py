"""PostgreSQL goes away under load and comes back: 503s with Retry-After, no hang, no 500,
recovery without a restart, zero acknowledged writes lost.

Runs `scripts/fault_outage.py` (its own PostgreSQL 15 cluster and its own `taskapi serve`) as a
child process, so its processes and event loop stay apart from the rest of the suite, and fails
with the script's report when one of its checks fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "fault_outage.py"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TIMEOUT_SECONDS = 240  # the script takes ~45 s; it bounds every wait itself

pytestmark = pytest.mark.postgres


@pytest.mark.skipif(
    not (PG_BIN / "initdb").exists(), reason=f"needs Debian's PostgreSQL 15 binaries in {PG_BIN}"
)
def test_a_postgres_outage_answers_503_then_recovers_without_losing_acknowledged_writes() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the script has its own
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the script stops its service and cluster on SIGTERM
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        pytest.fail(f"fault_outage.py ran over {TIMEOUT_SECONDS} s:\n{output}")
    print(output)
    assert process.returncode == 0, f"fault_outage.py failed:\n{output}"
    assert "RESULT: PASS" in output
