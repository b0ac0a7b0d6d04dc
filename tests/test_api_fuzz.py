"""Property-based API fuzzing: schemathesis against the live server's OpenAPI, as admin.

Finds any 5xx answer or any response that does not match its documented schema. The same
command is documented in the README under "Testing" for running against a dev server.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from live_server import admin_token, live_server

pytestmark = pytest.mark.slow

# Logout would revoke the fuzzer's own token and blind the rest of the run.
# Pack update downloads the archive it is given (by default SigmaHQ's): no test fetches from the internet.
EXCLUDED_PATHS = ["/api/v1/auth/logout", "/api/v1/detections/packs/update"]


def test_no_server_errors_or_schema_violations(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as base:
        token = admin_token(base)
        cmd = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{base}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--hypothesis-max-examples",
            "25",
            "--hypothesis-seed",
            "1",
            "--hypothesis-deadline",
            "5000",
            "--experimental",
            "openapi-3.1",
            "--no-color",
            *[arg for path in EXCLUDED_PATHS for arg in ("--exclude-path", path)],
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
