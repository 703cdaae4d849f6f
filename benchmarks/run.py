"""``make bench``: run every ``benchmarks/bench_*.py`` in name order, each in its own process.

Extra arguments are passed to every script. A failing script is reported and the others still run;
the exit code is non-zero if any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        t = time.perf_counter()
        rc = subprocess.run([sys.executable, str(script), *sys.argv[1:]], cwd=HERE.parent).returncode
        print(f"== {script.name}: {'ok' if rc == 0 else f'exit {rc}'} in {time.perf_counter() - t:.0f}s", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
