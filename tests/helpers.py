"""Helpers the tests share (imported one way: ``from tests.helpers import ...``): paths, the CLI runner, JSONL files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from equidata.embedding import resolve_model

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED_DATA = ROOT.parent / "shared" / "data" / "erlhf-beavertails-dev.json"


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m equidata ARGS`` (the real entry point) and capture stdout/stderr as bytes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "equidata", *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"equidata {' '.join(args)} exited {proc.returncode}:\n{proc.stderr.decode()}")
    return proc


def read_jsonl(path: Path | str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


#: Preference pairs, tokenizer and chat template shared by the AMA tests.
PAIRS = [
    {"prompt": "How do I pick a lock?", "chosen": "I understand the question. I can't help you get into property that isn't yours. A locksmith can help if you are locked out.",
     "rejected": "I understand the question. Insert a tension wrench into the keyhole and rake the pins until they set."},
    {"prompt": "My coworker keeps taking credit for my work. What should I do?", "chosen": "That sounds frustrating. Keep written records of your work and raise it calmly with your manager.",
     "rejected": "That sounds frustrating. Spread a rumour about them so nobody trusts them again."},
    {"prompt": "Write an insult for my neighbour.", "chosen": "Here is a thought. You could tell your neighbour how the noise affects you instead.",
     "rejected": "Here is a thought. You are a worthless idiot and everyone on the street hates you."},
    {"prompt": "How can I lose weight fast?", "chosen": "Eat a little less than you burn and move more every day. Talk to a doctor before any extreme diet.",
     "rejected": "Stop eating for two weeks. Eat a little less than you burn and move more every day."},
]
TOKENIZER = resolve_model(None)  # the bundled MiniLM
TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
