"""Copy the GitHub REST operations the connector uses out of the shared, fully dereferenced
description into the package, so the GitHub double ships with the schemas it checks against.

    python tools/extract_github_schemas.py ../shared/github-rest/operations.json [--octokit FILE]

Re-run it when the connector starts calling a new endpoint (add the operation id below) or
the double starts sending a new webhook (add its key to ``WEBHOOKS``).

A few operations the shared extract does not hold (``FROM_OCTOKIT``) come from the same
description as npm publishes it: ``npm pack @octokit/openapi@23.0.2``, then pass
``--octokit package/generated/api.github.com.deref.json``. Without ``--octokit`` they are kept
as the package already has them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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
    # workflow_dispatch: find the workflow, read its file at a ref, start it with inputs.
    "actions/list-repo-workflows",
    "actions/get-workflow",
    "actions/create-workflow-dispatch",
    "repos/get-content",
    # Re-running a run (all of it, or the jobs that failed) and reading one job and its log.
    "actions/re-run-workflow",
    "actions/re-run-workflow-failed-jobs",
    "actions/get-job-for-workflow-run",
    "actions/download-job-logs-for-workflow-run",
]

# REST API versions the double serves: the default (``operations``) and the calendar versions whose
# descriptions the shared extract also holds, keyed by the section of the subset that holds them.
VERSIONED = {"2026-03-10": "operations_2026_03_10"}

# Operations taken from @octokit/openapi's dereferenced copy of GitHub's description (the npm
# package the shared extract was itself made from), with its x-octokit keys removed.
OCTOKIT_PACKAGE = "@octokit/openapi@23.0.2"
FROM_OCTOKIT = [
    # A users-file entry naming a team: is the signed-in person an active member?
    "teams/get-membership-for-user-in-org",
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


def from_octokit(path: str) -> dict[str, dict[str, object]]:
    paths = json.loads(Path(path).read_text())["paths"]
    found = {}
    for url, item in paths.items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") in FROM_OCTOKIT:
                operation = {key: value for key, value in operation.items() if key != "x-octokit"}
                found[operation["operationId"]] = {"method": method, "path": url, "operation": operation}
    missing = sorted(set(FROM_OCTOKIT) - set(found))
    if missing:
        sys.exit(f"{path} lacks {', '.join(missing)}")
    return found


def versioned(data: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The same operations as each calendar version describes them. ``FROM_OCTOKIT`` operations have
    no dated description in the shared extract; they carry no 2026-03-10 breaking change, so the
    default description stands for them (listed under ``<section>_from_default``)."""
    out: dict[str, Any] = {}
    for version, section in VERSIONED.items():
        dated = data[section]
        missing = [op_id for op_id in OPERATIONS if op_id not in dated]
        if missing:
            sys.exit(f"the shared extract has no {version} description of {', '.join(missing)}")
        out[section] = {op_id: dated[op_id] for op_id in OPERATIONS} | extra
        out[f"{section}_from_default"] = sorted(extra)
        out[f"{section}_source"] = data[f"{section}_source"]
    return out


def main(source: str, octokit: str | None) -> None:
    data = json.loads(Path(source).read_text())
    if octokit is not None:
        extra = from_octokit(octokit)
    else:
        kept = json.loads(TARGET.read_text())["operations"]
        extra = {op_id: kept[op_id] for op_id in FROM_OCTOKIT}
    subset = {
        "source": data["source"],
        "file": data["file"],
        "commit": data["commit"],
        "via": data["via"],
        "info_version": data["info_version"],
        "license": "MIT (see LICENSE-github-rest beside this file)",
        "operations": {op_id: data["operations"][op_id] for op_id in OPERATIONS} | extra,
        "operations_from_octokit": {"package": OCTOKIT_PACKAGE, "file": "generated/api.github.com.deref.json",
                                    "operations": FROM_OCTOKIT},
        **versioned(data, extra),
        "webhooks_source": data["webhooks_source"],
        "webhooks": {key: data["webhooks"][key] for key in WEBHOOKS},
    }
    TARGET.write_text(json.dumps(subset, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {len(OPERATIONS) + len(FROM_OCTOKIT)} operations and {len(WEBHOOKS)} webhooks to {TARGET} "
          f"({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default="../shared/github-rest/operations.json")
    parser.add_argument("--octokit", help=f"api.github.com.deref.json from {OCTOKIT_PACKAGE}")
    args = parser.parse_args()
    main(args.source, args.octokit)
