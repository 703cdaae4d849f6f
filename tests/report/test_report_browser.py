"""The report in a real browser: headless Chromium loads it offline, logs nothing, and draws the charts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import read_jsonl
from tests.curated_data import RATIO, curated

from equidata.report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH; `make test` installs Debian's package (apt-get install -y chromium) when it can")

# Offline: no background traffic, and every host name fails to resolve.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
]


def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()], capture_output=True, text=True, timeout=120)


def console_messages(stderr: str) -> list[str]:
    """What the page logged to its console: errors, CSP violations (blocked loads), anything at all."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_check_catches_a_planted_error_and_a_blocked_load(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src \'unsafe-inline\'"></head>'
        '<body><script>console.error("planted")</script><img src="https://example.com/x.png"></body></html>'
    )
    messages = console_messages(chromium(page, tmp_path, "--dump-dom").stderr)
    assert any("planted" in m for m in messages)
    assert any("example.com" in m for m in messages)


def test_report_loads_offline_without_console_errors_and_draws_its_charts(tmp_path: Path) -> None:
    files = curated(tmp_path)
    emb = tmp_path / "classified.npy"
    np.save(emb, np.random.default_rng(0).standard_normal((len(read_jsonl(files["classified"])), 16)).astype(np.float16))
    report = tmp_path / "report.html"
    build_report(files["classified"], report, balanced=files["mix"], manifest=files["manifest"], masks=files["masks"], embeddings=emb, ratio=RATIO)

    proc = chromium(report, tmp_path, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console_messages(proc.stderr) == []
    svgs = re.findall(r"<svg\b.*?</svg>", proc.stdout, re.S)
    assert len(svgs) == 5
    for svg in svgs:  # every chart holds drawn data: bars, lines or markers
        assert len(re.findall(r"<(?:path|use)\b", svg)) >= 10
    assert "AMA masks" in proc.stdout and 'class="kept"' in proc.stdout

    shot = tmp_path / "report.png"
    proc = chromium(report, tmp_path, f"--screenshot={shot}", "--window-size=1200,2400")
    assert proc.returncode == 0 and console_messages(proc.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
