"""Copy the GitHub REST operations the connector uses out of the shared, fully dereferenced
description into the package, so the GitHub double ships with the schemas it checks against.

    python tools/extract_github_schemas.py ../shared/github-rest/operations.json

Re-run it when the connector starts calling a new endpoint (add the operation id below).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OPERATIONS = [
    "repos/create-dispatch-event",
    "repos/get",
    "pulls/list",
    "pulls/get",
    "issues/get",
    "issues/create-comment",
    "issues/add-labels",
    "issues/list-labels-for-repo",
    # GitHub App authentication: the App (JWT) finds its installation and mints tokens.
    "apps/get-authenticated",
    "apps/get-installation",
    "apps/get-repo-installation",
    "apps/create-installation-access-token",
    "users/get-authenticated",
]

TARGET = Path(__file__).resolve().parent.parent / "connector" / "ghdouble" / "github-rest-subset.json"


def main(source: str) -> None:
    data = json.loads(Path(source).read_text())
    subset = {
        "source": data["source"],
        "file": data["file"],
        "commit": data["commit"],
        "via": data["via"],
        "info_version": data["info_version"],
        "license": "MIT (see LICENSE-github-rest beside this file)",
        "operations": {op_id: data["operations"][op_id] for op_id in OPERATIONS},
    }
    TARGET.write_text(json.dumps(subset, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {len(OPERATIONS)} operations to {TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/github-rest/operations.json")
