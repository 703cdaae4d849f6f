"""Torture run: every command against every class of hostile input or option, through the real entry point.

A case is *handled* when the command ends with exit 0, 1 or 2 and no traceback, an error (exit 1
or 2) says so in one ``error:`` line, every output line is strict JSON (RFC 8259), no ``.partial``,
``.tmp`` or checkpoint file is left behind, and the input and a planted victim file are unchanged.

    python -m tests.torture                 # print the table
    python -m tests.torture --write-docs    # also rewrite docs/reliability.md

``tests/cli/test_torture.py`` runs it (slow: classify, evaluate and annotate-masks load the model).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
PAIR = {"prompt": "How do I pick a lock?", "chosen": "I can't help with that.", "rejected": "Use a tension wrench.",
        "risk_group": "explicit", "risk_confidence": 0.9, "category": "EHD", "id": 1}
GOOD = json.dumps(PAIR)


@dataclass
class Outcome:
    """Exit code, stdout bytes, stderr text, and the traceback of an exception that escaped ``main``."""

    code: int
    stdout: bytes
    stderr: str
    traceback: str | None = None


def run_main(args: list[str], cwd: Path, stdin: bytes = b"") -> Outcome:
    """Run ``equidata.cli.main`` in this process, in ``cwd``, with ``args`` and ``stdin``."""
    from equidata.cli import main

    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    saved = sys.argv, sys.stdin, sys.stdout, sys.stderr, os.getcwd()
    sys.argv, sys.stdin, sys.stdout, sys.stderr = ["equidata", *args], io.TextIOWrapper(io.BytesIO(stdin)), out, err
    os.chdir(cwd)
    code, trace = 0, None
    try:
        main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:  # noqa: BLE001 -- a traceback the user would see: the case failed
        code, trace = 1, traceback.format_exc()
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved[:4]
        os.chdir(saved[4])
    out.flush()
    err.flush()
    return Outcome(code, out.buffer.getvalue(), err.buffer.getvalue().decode("utf-8", "replace"), trace)  # type: ignore[attr-defined]


def _lines(folder: Path, name: str, lines: list[str | bytes]) -> str:
    (folder / name).write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return name


#: Bad-input classes: each writes its input into a folder and returns the input argument.
INPUTS: dict[str, Callable[[Path], str]] = {
    "malformed JSON line": lambda d: _lines(d, "in.jsonl", [GOOD, '{"prompt": "unclosed', GOOD]),
    "deeply nested JSON": lambda d: _lines(d, "in.jsonl", [GOOD, '{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}"]),
    "lone surrogate": lambda d: _lines(d, "in.jsonl", [GOOD, '{"prompt": "\\ud800", "category": "EHD"}']),
    "bare NaN / Infinity": lambda d: _lines(d, "in.jsonl", [GOOD, GOOD.replace("0.9", "NaN"), GOOD.replace("0.9", "-Infinity")]),
    "invalid UTF-8": lambda d: _lines(d, "in.jsonl", [GOOD, b'{"prompt": "\xff\xfe"}']),
    "UTF-8 BOM": lambda d: _lines(d, "in.jsonl", [b"\xef\xbb\xbf" + GOOD.encode(), GOOD]),
    "empty file": lambda d: _lines(d, "in.jsonl", []),
    "blank lines only": lambda d: _lines(d, "in.jsonl", ["", "  ", ""]),
    "non-object rows": lambda d: _lines(d, "in.jsonl", ["[1, 2]", '"text"', "null"]),
    "pretty-printed JSON object": lambda d: _lines(d, "in.json", [json.dumps(PAIR, indent=2)]),
    "JSON array of non-objects": lambda d: _lines(d, "in.json", ["[1, 2, 3]"]),
    "non-string prompt in row 1": lambda d: _lines(d, "in.jsonl", [json.dumps({**PAIR, "prompt": 5}), GOOD]),
    "prompt of NUL and zero-width": lambda d: _lines(d, "in.jsonl", [GOOD, json.dumps({**PAIR, "prompt": "\u0000\u200b"})]),
    "missing fields": lambda d: _lines(d, "in.jsonl", ['{"text": "no prompt here"}']),
    "CSV unterminated quote": lambda d: _lines(d, "in.csv", ["prompt,category", '"open quote,EHD', "bye,EHD"]),
    "not Parquet": lambda d: _lines(d, "in.parquet", [GOOD]),
    "truncated .gz": lambda d: ((d / "in.jsonl.gz").write_bytes(gzip.compress((GOOD + "\n").encode() * 50)[:-10]), "in.jsonl.gz")[1],
    "empty folder": lambda d: ((d / "shards").mkdir(), "shards")[1],
    "folder of shards": lambda d: ((d / "shards").mkdir(), _lines(d / "shards", "part-0.jsonl", [GOOD]), "shards")[2],
    "unknown suffix": lambda d: _lines(d, "in.txt", [GOOD]),
    "missing file": lambda d: "nowhere.jsonl",
}

#: Hostile options: each prepares the folder and returns (input, extra args replacing the default output).
OPTIONS: dict[str, Callable[[Path], tuple[str, list[str]]]] = {
    "-o is the input": lambda d: (_lines(d, "in.jsonl", [GOOD]), ["-o", "in.jsonl"]),
    "--rejects is the input": lambda d: (_lines(d, "in.jsonl", [GOOD]), ["-o", "out.jsonl", "--on-error", "skip", "--rejects", "in.jsonl"]),
    "-o is an existing folder": lambda d: ((d / "out").mkdir(), _lines(d, "in.jsonl", [GOOD]), ["-o", "out"])[1:],
    "planted .partial link": lambda d: ((d / "out.jsonl.partial").symlink_to(d / "victim.txt"), _lines(d, "in.jsonl", [GOOD]), ["-o", "out.jsonl"])[1:],
    "FIFO input": lambda d: (_fifo(d), ["-o", "out.jsonl"]),
}

#: Each command: its arguments around INPUT (``{out}`` is replaced by the output options).
COMMANDS: dict[str, list[str]] = {
    "classify": ["classify", "{input}", "{out}", "--device", "cpu", "-q"],
    "export": ["export", "{input}", "{out}", "-q"],
    "stats": ["stats", "{input}"],
    "balance": ["balance", "{input}", "{out}", "--no-dedup", "--strategy", "random", "-q"],
    "train": ["train", "{input}", "{out}", "--encoder", "frozen", "--cv", "0", "--epochs", "1", "--device", "cpu", "-q"],
    "evaluate": ["evaluate", "{input}", "--device", "cpu"],
    "annotate-masks": ["annotate-masks", "{input}", "{out}", "--tokenizer", "sentence-transformers/all-MiniLM-L6-v2", "--device", "cpu", "-q"],
}
DEFAULT_OUT = {"train": ["-o", "head"]}
#: Row-level classes, also run with ``--on-error skip``: then every input row must be in the output or the rejects file.
ROW_LEVEL = ("malformed JSON line", "deeply nested JSON", "lone surrogate", "bare NaN / Infinity", "invalid UTF-8",
             "non-object rows", "non-string prompt in row 1", "prompt of NUL and zero-width")
#: Where each row-to-row command accounts for every input row in skip mode (lines summed over these files).
ACCOUNTED = {"classify": ("out.jsonl", "out.rejects.jsonl"), "export": ("out.jsonl", "out.rejects.jsonl"),
             "annotate-masks": ("out.jsonl", "out.rejects.jsonl"), "balance": ("out.manifest.jsonl",)}


def _fifo(folder: Path) -> str:
    fifo = folder / "in.jsonl"
    os.mkfifo(fifo)

    def feed() -> None:
        with contextlib.suppress(OSError), open(fifo, "wb") as fh:
            fh.write((GOOD + "\n").encode())

    threading.Thread(target=feed, daemon=True).start()
    return "in.jsonl"


def _unblock_fifo(folder: Path) -> None:
    """Let a feeder whose FIFO nobody read finish (open for reading, then close)."""
    fifo = folder / "in.jsonl"
    if fifo.is_fifo():
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


def _strict_json(path: Path) -> bool:
    def refuse(constant: str) -> None:
        raise ValueError(constant)

    try:
        for line in path.read_bytes().splitlines():
            if line.strip():
                json.loads(line, parse_constant=refuse)
    except ValueError:
        return False
    return True


def _count(path: Path) -> int:
    return sum(1 for line in path.read_bytes().splitlines() if line.strip()) if path.is_file() else 0


def check(command: str, args: list[str], folder: Path, before: dict[str, bytes], accounted: tuple[str, ...] = ()) -> tuple[int, str]:
    """Run one case; (exit code, why it was not handled or "")."""
    rows = _count(folder / "in.jsonl")
    outcome = run_main(args, folder)
    _unblock_fifo(folder)
    code = outcome.code
    if outcome.traceback:
        return code, "traceback: " + outcome.traceback.strip().splitlines()[-1]
    if code not in (0, 1, 2):
        return code, "exit code outside 0, 1, 2"
    if code == 0 and accounted and sum(_count(folder / name) for name in accounted) != rows:
        return code, f"{rows} rows read, but {' + '.join(accounted)} do not hold them all"
    if code and "error:" not in outcome.stderr:
        return code, "no error line"
    left = [p.name for p in folder.rglob("*") if p.name.endswith((".partial", ".tmp", ".checkpoint.json")) and not p.is_symlink()]
    if left:
        return code, f"left behind: {left}"
    now = _snapshot(folder)
    changed = [name for name, data in before.items() if now.get(name) != data]
    if changed:
        return code, f"changed or removed: {changed}"
    written = [folder / n for n in now if n not in before and n.endswith(".jsonl")]
    if command != "stats" and not all(_strict_json(p) for p in written):
        return code, "output is not strict JSON"
    return code, ""


@dataclass
class Case:
    command: str
    kind: str
    code: int
    why: str

    @property
    def handled(self) -> bool:
        return not self.why


def cases(commands: list[str] | None = None) -> Iterator[Case]:
    """Every command x every input class and hostile option."""
    for command in commands or list(COMMANDS):
        template = COMMANDS[command]
        plain = [(name, make, None, False) for name, make in INPUTS.items()]
        skip = [(f"{name}, --on-error skip", INPUTS[name], None, True) for name in ROW_LEVEL] if command != "stats" else []
        opts = [(name, None, make, False) for name, make in OPTIONS.items()] if "{out}" in template else []
        for kind, make_input, make_option, skipping in plain + skip + opts:
            with tempfile.TemporaryDirectory(prefix="equidata-torture-") as tmp:
                folder = Path(tmp)
                (folder / "victim.txt").write_text("VICTIM")
                if make_option is not None:
                    input_arg, out_args = make_option(folder)
                else:
                    input_arg, out_args = make_input(folder), DEFAULT_OUT.get(command, ["-o", "out.jsonl"])
                before = _snapshot(folder)
                args: list[str] = []
                for a in template:
                    args += out_args if a == "{out}" else [a.format(input=input_arg)]
                args += ["--on-error", "skip"] if skipping else []
                code, why = check(command, args, folder, before, ACCOUNTED.get(command, ()) if skipping else ())
                yield Case(command, kind, code, why)


def report(results: list[Case]) -> str:
    """docs/reliability.md: the counts, then the table of cases."""
    kinds = list(dict.fromkeys(c.kind for c in results))
    commands = list(dict.fromkeys(c.command for c in results))
    grid = {(c.command, c.kind): c for c in results}
    handled = sum(c.handled for c in results)
    lines = [
        "# Reliability: the torture run",
        "",
        f"**{handled} of {len(results)} cases handled** ({len(commands)} commands x {len(kinds)} hostile inputs and options; "
        "an option class only where the command writes a file).",
        "",
        "A case is handled when the command ends with exit 0 (the input was usable, bad rows failed or skipped by line), "
        "1 (environment) or 2 (bad input or usage) and no traceback; an error says so in one `error:` line naming the "
        "file, line and field where they apply; every output line is strict JSON (RFC 8259); no `.partial`, `.tmp` or "
        "checkpoint file is left; and the input and a planted victim file are unchanged.",
        "",
        "Reproduce: `python -m tests.torture --write-docs` (about two minutes on a CPU; the model-backed commands load "
        "the bundled MiniLM). `tests/cli/test_torture.py` runs the same cases and fails on any unhandled one.",
        "",
        "Behaviour the run relies on, in one place:",
        "",
        "- **Exit codes**: 0 success, 1 failure of the environment (a full disk, a read-only folder, no such device), 2 bad input or usage.",
        "- **Broken pipe** (`equidata ... | head`): every command stops quietly with exit 1, no message, as Python's own "
        "guidance for SIGPIPE advises; a file output (`-o`) is unaffected.",
        "- **Empty input**: exit 0, an empty output and a warning on stderr (shown even with `--quiet`).",
        "- **Side files**: rejects and manifests go next to `-o FILE`; reading stdin and writing stdout needs `--rejects` "
        "(and `--manifest` for balance), so piped stages never share one. A run without rejects writes no rejects file.",
        "- **Paths**: before any work every path a command reads and writes is compared (resolved, and `os.path.samefile`); "
        "a clash, or `-o` naming a folder, is exit 2. Partial files are created exclusively and never through a link.",
        "- **Input**: a FIFO is read once like stdin (no checkpoint, no `--resume`); a folder must be a `datasets` save; "
        "`.gz` and `.zst` are decompressed; a UTF-8 BOM is skipped; JSON must be strict (NaN, Infinity, lone surrogates "
        "and nesting deeper than 1024 are bad rows).",
        "",
        "Each cell gives the exit code. With `--on-error skip` the row-to-row commands must also account for every "
        "input row: output rows + rejected rows = rows read (balance: one manifest line per row).",
        "",
        "| case | " + " | ".join(commands) + " |",
        "|---|" + "---|" * len(commands),
    ]
    for kind in kinds:
        cells = []
        for command in commands:
            c = grid.get((command, kind))
            cells.append("-" if c is None else (f"ok ({c.code})" if c.handled else f"**FAIL** ({c.code}) {c.why}"))
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite {DOC.relative_to(ROOT)}")
    parser.add_argument("--command", action="append", choices=list(COMMANDS), help="only these commands")
    ns = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = []
    for case in cases(ns.command):
        results.append(case)
        print(f"{'ok  ' if case.handled else 'FAIL'} {case.code} {case.command:15} {case.kind:45} {case.why}", flush=True)
    text = report(results)
    if ns.write_docs:
        DOC.write_text(text, encoding="utf-8")
    print(text.splitlines()[2])
    return 0 if all(c.handled for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
