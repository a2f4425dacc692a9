"""Copy the GitHub REST operations the connector uses out of the shared, fully dereferenced
description into the package, so the GitHub double ships with the schemas it checks against.

    python tools/extract_github_schemas.py ../shared/github-rest/operations.json

Re-run it when the connector starts calling a new endpoint (add the operation id below) or
the double starts sending a new webhook (add its key to ``WEBHOOKS``).
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
    # People signed in with GitHub: may they (organisation membership)?
    "orgs/list-for-authenticated-user",
    "orgs/get-membership-for-authenticated-user",
    "orgs/check-membership-for-user",
    # /health/ready: is GitHub's API answering? (uncounted against any quota, needs no token)
    "rate-limit/get",
    # GitHub Actions: the runs a repository_dispatch starts, their jobs, and cancelling one.
    "actions/list-workflow-runs-for-repo",
    "actions/get-workflow-run",
    "actions/cancel-workflow-run",
    "actions/list-jobs-for-workflow-run",
]

# Webhook deliveries the double sends (keys of the description's ``x-webhooks``), so their
# payloads can be checked against GitHub's own schemas too.
WEBHOOKS = [
    "workflow-run-requested",
    "workflow-run-in-progress",
    "workflow-run-completed",
    "workflow-job-queued",
    "workflow-job-in-progress",
    "workflow-job-completed",
    "ping",
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
        "webhooks_source": data["webhooks_source"],
        "webhooks": {key: data["webhooks"][key] for key in WEBHOOKS},
    }
    TARGET.write_text(json.dumps(subset, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {len(OPERATIONS)} operations and {len(WEBHOOKS)} webhooks to {TARGET} "
          f"({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/github-rest/operations.json")
