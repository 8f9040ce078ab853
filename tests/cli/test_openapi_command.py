"""`taskapi openapi`: the document a client's type generator reads is the same on every run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.serving import ROOT


def _document(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "AUTH_MODE": "none"}
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli.main", "openapi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_document_does_not_depend_on_the_hash_seed() -> None:
    """clients/typescript commits what it generates from it, and CI compares."""
    first, second = _document("1"), _document("2")

    assert json.loads(first)["paths"]
    assert first == second
