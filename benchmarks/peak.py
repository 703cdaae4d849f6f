"""Wall time and peak RSS of one command, measured so that the benchmark's own memory does not leak in.

A child's ``ru_maxrss`` starts from its parent's resident size at ``fork`` and survives ``exec``,
so a benchmark that generated a large dataset in memory would report at least its own size for
every command it starts. :func:`measure` therefore starts the command from a small fresh Python
process and reports that process's child.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

_LAUNCH = (
    "import json, os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:])\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_maxrss]), file=sys.stderr)\n"
)


def measure(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, stdout: int | IO[bytes] | None = None) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, peak RSS in MiB). Raises SystemExit when it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCH, *cmd], env=env, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    *lines, last = err.decode(errors="replace").rstrip("\n").split("\n")
    code, rss = json.loads(last)
    if code != 0:
        sys.stderr.write("\n".join(lines) + "\n")
        raise SystemExit(f"exit {code}: {' '.join(cmd)}")
    return wall, rss / 1024  # Linux reports KiB


def rss_summary(runs: list[dict[str, Any]], json_path: Path | None) -> None:
    """Print the peak-RSS ratio of the largest run to the smallest (goal <= 1.2); save all to ``json_path``."""
    ratio = runs[-1]["peak_rss_mib"] / runs[0]["peak_rss_mib"]
    summary = {"rss_ratio_largest_to_smallest": round(ratio, 3), "goal": "<= 1.2", "met": ratio <= 1.2}
    print(json.dumps(summary))
    if json_path:
        json_path.write_text(json.dumps({"runs": runs, **summary}, indent=2) + "\n")
