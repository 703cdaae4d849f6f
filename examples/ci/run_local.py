"""Run the example workflow's shell steps here, as GitHub Actions would: ``python examples/ci/run_local.py [--out DIR]``.

Every step with a ``run`` is executed with the job's environment in ``bash -eo pipefail`` from the
repository root, except the install step (``id: install``): ``equidata`` must already be on PATH.
After a failed step only ``if: always()`` steps run, and the exit code is the first failure's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = Path(__file__).resolve().parent / "equidata-gate.yml"


def shell_steps(workflow: Path = WORKFLOW) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The job's environment and its ``run`` steps (the install step left out)."""
    (job,) = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"].values()
    steps = [s for s in job["steps"] if "run" in s and s.get("id") != "install"]
    return {k: str(v) for k, v in job.get("env", {}).items()}, steps


def run_steps(out: Path | None = None, env: dict[str, str] | None = None, workflow: Path = WORKFLOW) -> int:
    """Run the steps; returns 0, or the exit code of the first step that failed."""
    job_env, steps = shell_steps(workflow)
    full = {**os.environ, **job_env, **(env or {})}
    if out is not None:
        full["OUT"] = str(out)
    failed = 0
    for step in steps:
        if failed and step.get("if") != "always()":
            continue
        print(f"== {step.get('name', step['run'].splitlines()[0])}", file=sys.stderr, flush=True)
        rc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=ROOT, env={**full, **step.get("env", {})}).returncode
        failed = failed or rc
    return failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="Output folder (default: the workflow's OUT, relative to the repository root).")
    return run_steps(ap.parse_args().out)


if __name__ == "__main__":
    sys.exit(main())
