"""Regression tests for issue 16 through the real entry point: hostile input and options end in a clear
message and the right exit code, never a traceback, a clobbered file or a leftover one."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, read_jsonl, write_jsonl

PAIR = {"prompt": "How do I pick a lock?", "chosen": "I can't help with that.", "rejected": "Use a tension wrench.", "id": 7}
LABELLED = {"prompt": "How do I pick a lock?", "category": "EHD"}


def classified(n: int = 6) -> list[dict[str, Any]]:
    """Rows as `classify` writes them, spread over the risk groups."""
    groups = ["explicit", "implicit", "mixed", "none"]
    return [{"id": i, "prompt": f"prompt number {i}", "risk_group": groups[i % 4], "risk_confidence": 0.9} for i in range(n)]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def leftovers(folder: Path) -> list[str]:
    """Temporary, partial and checkpoint files a run must not leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".partial", ".tmp", ".checkpoint.json")))


# -- must fix 1: never write through a link ----------------------------------------------------


def test_planted_partial_links_are_not_followed(cli, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [PAIR, {**PAIR, "chosen": PAIR["rejected"]}])
    victim = tmp_path / "victim.txt"
    victim.write_text("VICTIM")
    for name in ("out.jsonl.partial", "out.rejects.jsonl.partial"):
        (tmp_path / name).symlink_to(victim)
    res = cli("export", str(src), "-o", "out.jsonl", "--on-error", "skip", "-q")
    assert res.code == 0, res.stderr
    assert victim.read_text() == "VICTIM"
    assert not (tmp_path / "out.jsonl").is_symlink() and len(read_jsonl(tmp_path / "out.jsonl")) == 1
    assert read_jsonl(tmp_path / "out.rejects.jsonl")[0]["line"] == 2
    assert leftovers(tmp_path) == []


def _interrupt_after_first_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make export stop like Ctrl-C after its first chunk (the checkpoint and partial files stay)."""
    from equidata.export.api import ExportStep

    real = ExportStep.__call__
    calls = []

    def once(self: ExportStep, rows: list[Any]) -> list[Any]:
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(self, rows)

    monkeypatch.setattr(ExportStep, "__call__", once)


def test_export_resumes_to_the_same_bytes_and_refuses_a_linked_partial(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{**PAIR, "id": i, "prompt": f"question {i}"} for i in range(5)]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    assert cli("export", str(src), "-o", "full.jsonl", "-q").code == 0
    with monkeypatch.context() as m:
        _interrupt_after_first_chunk(m)
        assert cli("export", str(src), "-o", "cut.jsonl", "--chunk-size", "2", "-q").code == 130  # Ctrl-C
    assert (tmp_path / "cut.checkpoint.json").is_file() and (tmp_path / "cut.jsonl.partial").is_file()
    assert cli("export", str(src), "-o", "cut.jsonl", "--chunk-size", "2", "--resume", "-q").code == 0
    assert (tmp_path / "cut.jsonl").read_bytes() == (tmp_path / "full.jsonl").read_bytes()
    assert leftovers(tmp_path) == []

    with monkeypatch.context() as m:
        _interrupt_after_first_chunk(m)
        cli("export", str(src), "-o", "cut.jsonl", "--chunk-size", "2", "-q")
    partial = tmp_path / "cut.jsonl.partial"
    partial.rename(tmp_path / "real.partial")
    partial.symlink_to(tmp_path / "real.partial")
    res = cli("export", str(src), "-o", "cut.jsonl", "--chunk-size", "2", "--resume", "-q")
    assert res.code == 2 and "cut.jsonl.partial is not a regular file" in res.stderr


# -- must fix 2: two paths that are one file ---------------------------------------------------


CLASHES = {
    "export -o input": ("export", "{src}", "-o", "{src}"),
    "export --rejects input": ("export", "{src}", "-o", "out.jsonl", "--on-error", "skip", "--rejects", "{src}"),
    "export --rejects = -o": ("export", "{src}", "-o", "out.jsonl", "--on-error", "skip", "--rejects", "out.jsonl"),
    "export -o link to input": ("export", "{src}", "-o", "link.jsonl"),
    "export -o hard link to input": ("export", "{src}", "-o", "hard.jsonl"),
    "balance --manifest = -o": ("balance", "{src}", "-o", "out.jsonl", "--manifest", "out.jsonl"),
    "balance --embeddings = -o": ("balance", "{src}", "-o", "out.jsonl", "--embeddings", "out.jsonl"),
    "balance --rejects input": ("balance", "{src}", "-o", "out.jsonl", "--on-error", "skip", "--rejects", "{src}"),
    "classify --keep-embeddings = -o": ("classify", "{src}", "-o", "out.jsonl", "--keep-embeddings", "out.jsonl"),
    "classify -o input": ("classify", "{src}", "-o", "{src}"),
    "train --rejects input": ("train", "{src}", "-o", "head", "--on-error", "skip", "--rejects", "{src}"),
    "evaluate --rejects input": ("evaluate", "{src}", "--on-error", "skip", "--rejects", "{src}"),
}


@pytest.mark.parametrize("case", list(CLASHES))
def test_a_path_written_twice_or_over_the_input_is_refused_before_any_work(cli, tmp_path: Path, case: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{**PAIR, **classified(1)[0], **LABELLED}])
    (tmp_path / "out.jsonl").write_text("KEEP\n")
    (tmp_path / "link.jsonl").symlink_to(src)
    os.link(src, tmp_path / "hard.jsonl")
    before = src.read_bytes()
    res = cli(*(a.format(src=src) for a in CLASHES[case]))
    assert res.code == 2, res.stderr
    assert "must be a different file from" in res.stderr
    assert src.read_bytes() == before and (tmp_path / "out.jsonl").read_text() == "KEEP\n"
    assert leftovers(tmp_path) == [] and not (tmp_path / "head").exists()


@pytest.mark.parametrize("command", [("export",), ("classify",), ("balance",)])
def test_an_output_naming_a_folder_is_refused_first(cli, tmp_path: Path, command: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", classified())
    (tmp_path / "dir").mkdir()
    res = cli(*command, str(src), "-o", "dir")
    assert res.code == 2 and "'--output' parameter must be a file path, not an existing folder" in res.stderr
    res = cli(*command, str(src), "-o", "in.jsonl/out.jsonl")
    assert res.code == 2 and "'--output' parameter must be inside a folder" in res.stderr


def test_train_output_naming_a_file_is_refused_before_training(cli, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [LABELLED])
    (tmp_path / "taken").write_text("KEEP")
    res = cli("train", str(src), "-o", "taken")
    assert res.code == 2 and "must be a folder path, not an existing file" in res.stderr
    assert (tmp_path / "taken").read_text() == "KEEP"


# -- must fix 3: piped stages keep their rejects -----------------------------------------------


@pytest.mark.parametrize("args", [("export", "-", "--on-error", "skip"), ("classify", "-", "--on-error", "skip"), ("balance", "-")])
def test_stdin_to_stdout_needs_named_side_files(cli, tmp_path: Path, args: tuple[str, ...]) -> None:
    stage1 = tmp_path / "stdin.rejects.jsonl"
    stage1.write_text('{"line": 3, "reason": "from the stage before"}\n')
    res = cli(*args, stdin=json.dumps(classified(1)[0]).encode() + b"\n")
    option = "--manifest" if args[0] == "balance" else "--rejects"
    assert res.code == 2 and f"{option} FILE" in res.stderr
    assert stage1.read_text() == '{"line": 3, "reason": "from the stage before"}\n'


def test_a_stage_without_rejects_leaves_no_empty_rejects_file(cli, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [PAIR])
    (tmp_path / "r.jsonl").write_text("EARLIER\n")
    assert cli("export", "-", "--on-error", "skip", "--rejects", "r.jsonl", "-q", stdin=src.read_bytes()).code == 0
    assert cli("export", str(src), "-o", "out.jsonl", "--on-error", "skip", "-q").code == 0
    assert (tmp_path / "r.jsonl").read_text() == "EARLIER\n" and not (tmp_path / "out.rejects.jsonl").exists()


# -- must fix 4: a FIFO is read once, like stdin -----------------------------------------------


def test_a_fifo_input_is_read_once_without_a_checkpoint(cli, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [PAIR])
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=lambda: fifo.write_bytes(src.read_bytes()), daemon=True)
    feeder.start()
    res = cli("export", str(fifo), "-o", "out.jsonl", "-q")
    feeder.join(5)
    assert res.code == 0 and len(read_jsonl(tmp_path / "out.jsonl")) == 1 and leftovers(tmp_path) == []
    res = cli("export", str(fifo), "-o", "out.jsonl", "--resume")
    assert res.code == 2 and "not stdin, a FIFO or stdout" in res.stderr


# -- must fix 5: a full disk, a read-only folder -----------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 64 KiB tmpfs (needs root and mount); skipped where it cannot be made."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_is_one_line_and_leaves_a_resumable_state(cli, tmp_path: Path, small_disk: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{**PAIR, "id": i, "prompt": f"question {i} " * 20} for i in range(400)])
    res = cli("export", str(src), "-o", str(small_disk / "out.jsonl"), "--chunk-size", "50", "-q")
    assert res.code == 1 and "No space left on device" in res.stderr and "--resume" in res.stderr
    checkpoint = json.loads((small_disk / "out.checkpoint.json").read_text())
    assert (small_disk / "out.jsonl.partial").stat().st_size >= checkpoint["output_bytes"] > 0
    res = cli("export", str(src), "-o", str(small_disk / "one.jsonl"), "--chunk-size", "5000", "-q")
    assert res.code == 1 and sorted(p.name for p in small_disk.iterdir() if p.name.startswith("one")) == []


def test_stdout_on_a_full_device_is_one_line(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [PAIR])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "equidata", "export", str(src)], stdout=full, stderr=subprocess.PIPE, env=env, timeout=120)
    assert proc.returncode == 1 and b"No space left on device" in proc.stderr and b"Traceback" not in proc.stderr


def test_a_read_only_output_folder_is_refused_first(cli, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)], capture_output=True).returncode != 0:
        ro.chmod(0o555)
        if os.access(ro, os.W_OK):
            pytest.skip("cannot make a read-only folder here")
    try:
        src = write_jsonl(tmp_path / "in.jsonl", [PAIR])
        res = cli("export", str(src), "-o", str(ro / "out.jsonl"))
        assert res.code == 1 and f"the folder {ro} is not writable" in res.stderr
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)


# -- tracebacks that are bad rows: deep nesting, lone surrogates, NaN ---------------------------

BAD_ROWS = {
    "deeply nested": ('{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested more than 1024 levels deep"),
    "lone surrogate": ('{"prompt": "\\ud800", "risk_group": "none", "risk_confidence": 0.5}', "surrogate"),
    "bare NaN": ('{"prompt": "p", "risk_group": "none", "risk_confidence": NaN}', "NaN and Infinity are not JSON (RFC 8259)"),
    "bare Infinity": ('{"prompt": "p", "risk_group": "none", "risk_confidence": -Infinity}', "NaN and Infinity are not JSON (RFC 8259)"),
}


@pytest.mark.parametrize("command", ["export", "stats", "balance"])
@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_bad_json_rows_fail_by_line(cli, tmp_path: Path, command: str, kind: str) -> None:
    good = json.dumps({**PAIR, **classified(1)[0]})
    src = write_lines(tmp_path / "in.jsonl", [good, BAD_ROWS[kind][0], good])
    extra = () if command == "stats" else ("-o", "out.jsonl")
    res = cli(command, str(src), *extra)
    assert res.code == 2 and f"in.jsonl:2: malformed JSON" in res.stderr and BAD_ROWS[kind][1] in res.stderr
    assert not (tmp_path / "out.jsonl").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_bad_json_rows_are_skipped_to_rejects_as_strict_json(cli, tmp_path: Path, kind: str) -> None:
    src = write_lines(tmp_path / "in.jsonl", [json.dumps(PAIR), BAD_ROWS[kind][0]])
    res = cli("export", str(src), "-o", "out.jsonl", "--on-error", "skip", "-q")
    assert res.code == 0
    (rej,) = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert rej["line"] == 2 and BAD_ROWS[kind][1] in rej["reason"]
    json.loads((tmp_path / "out.rejects.jsonl").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in the rejects file"))


def test_nan_from_parquet_is_rejected_not_written(cli, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"prompt": ["a", "b"], "chosen": ["x", "y"], "rejected": ["z", "w"], "risk_confidence": [0.9, float("nan")]}), tmp_path / "in.parquet")
    res = cli("export", str(tmp_path / "in.parquet"), "-o", "out.jsonl", "--on-error", "skip", "-q")
    assert res.code == 0 and len(read_jsonl(tmp_path / "out.jsonl")) == 1
    (rej,) = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert rej["row_number"] == 2 and "cannot be written as strict JSON" in rej["reason"] and "NaN" in rej["raw"]


# -- tracebacks that are bad inputs or options --------------------------------------------------


@pytest.mark.parametrize("command", ["export", "stats", "classify", "balance"])
def test_a_folder_that_is_not_a_dataset_is_refused(cli, tmp_path: Path, command: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "shards").mkdir()
    write_jsonl(tmp_path / "shards" / "part-0.jsonl", [PAIR])
    for folder in ("empty", "shards"):
        res = cli(command, folder, *(() if command == "stats" else ("-o", "out.jsonl")))
        assert res.code == 2 and f"{folder}: a folder is read only as a `datasets` save_to_disk folder" in res.stderr


@pytest.mark.parametrize("command", ["export", "stats"])
def test_a_parquet_name_on_other_bytes_is_refused(cli, tmp_path: Path, command: str) -> None:
    (tmp_path / "in.parquet").write_text('{"prompt": "not parquet"}\n')
    res = cli(command, "in.parquet", *(() if command == "stats" else ("-o", "out.jsonl")))
    assert res.code == 2 and "in.parquet: not a readable Parquet file" in res.stderr


@pytest.mark.parametrize("command", ["balance", "train"])
@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_seeds_are_checked_at_the_edge(cli, tmp_path: Path, command: str, seed: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", classified())
    res = cli(command, str(src), "-o", "out", "--seed", seed)
    assert res.code == 2 and "Invalid value for '--seed'" in res.stderr


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_train_and_evaluate_refuse_an_input_without_usable_rows(cli, tmp_path: Path, command: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "p", "category": "not a label"}])
    (tmp_path / "empty.jsonl").write_text("")
    for name in ("in.jsonl", "empty.jsonl"):
        res = cli(command, name, "--on-error", "skip", "--rejects", "r.jsonl", *(("-o", "head") if command == "train" else ()))
        assert res.code == 2 and f"{name}: no usable labelled rows" in res.stderr, res.stderr
    assert not (tmp_path / "head").exists()


@pytest.mark.parametrize("ratio", ["", "explicit=1e100000000,implicit=1", "explicit=1e-100000000", "explicit=nan"])
def test_balance_refuses_an_empty_or_unbounded_ratio(cli, tmp_path: Path, ratio: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", classified())
    res = cli("balance", str(src), "-o", "out.jsonl", "--ratio", ratio)
    assert res.code == 2 and "'ratio' parameter must be GROUP=NUMBER pairs" in res.stderr
    assert not (tmp_path / "out.jsonl").exists()


# -- rough edges ---------------------------------------------------------------------------------


def test_a_utf8_bom_is_accepted_in_jsonl_json_and_csv(cli, tmp_path: Path) -> None:
    row = classified(1)[0]
    bom = b"\xef\xbb\xbf"
    (tmp_path / "a.jsonl").write_bytes(bom + json.dumps(row).encode() + b"\n")
    (tmp_path / "a.json").write_bytes(bom + json.dumps([row]).encode())
    (tmp_path / "a.csv").write_bytes(bom + b"prompt,risk_group,risk_confidence\nhello,explicit,0.9\n")
    for name in ("a.jsonl", "a.json", "a.csv"):
        res = cli("stats", name, "--json")
        assert res.code == 0, res.stderr
        assert json.loads(res.stdout)["groups"]["explicit"]["count"] == 1


def test_a_pretty_printed_object_is_named_as_such(cli, tmp_path: Path) -> None:
    (tmp_path / "obj.json").write_text(json.dumps({"data": classified()}, indent=2))
    res = cli("stats", "obj.json")
    assert res.code == 2 and "obj.json: holds one JSON object (with keys ['data']), not rows" in res.stderr


def test_a_bad_first_row_is_rejected_by_line_not_the_whole_run(cli, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{**PAIR, "prompt": 5}, PAIR, {**PAIR, "prompt": "\u0000\u200b\u2060 "}])
    res = cli("export", str(src), "-o", "out.jsonl", "--on-error", "skip", "-q")
    assert res.code == 0 and len(read_jsonl(tmp_path / "out.jsonl")) == 1
    rejects = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert [(r["line"], r["field"]) for r in rejects] == [(1, "prompt"), (3, "prompt")]
    assert rejects[0]["reason"] == "expected text, got int" and rejects[1]["reason"].startswith("empty prompt")
    res = cli("export", str(src), "-o", "out.jsonl")
    assert res.code == 2 and "in.jsonl:1: field 'prompt': expected text, got int" in res.stderr


def test_stats_names_a_wrongly_typed_risk_group(cli, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [classified(1)[0], {"prompt": "p", "risk_group": ["none"]}])
    res = cli("stats", str(src))
    assert res.code == 2 and "in.jsonl:2: field 'risk_group': expected text, got list" in res.stderr


def test_csv_with_an_unterminated_quote_is_refused_at_its_line(cli, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text('prompt,risk_group\nhello,none\n"open quote,none\nbye,none\n')
    res = cli("stats", "in.csv")
    assert res.code == 2 and "in.csv:3: malformed CSV: unexpected end of data" in res.stderr


def test_empty_input_says_so(cli, tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text("\n")
    for args in (("export", "in.jsonl", "-o", "out.jsonl", "-q"), ("stats", "in.jsonl")):
        res = cli(*args)
        assert res.code == 0 and "warning: in.jsonl holds no rows" in res.stderr


def test_export_fails_on_bad_rows_by_default_like_every_command(cli, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [PAIR, {**PAIR, "chosen": PAIR["rejected"]}])
    res = cli("export", str(src), "-o", "out.jsonl")
    assert res.code == 2 and "in.jsonl:2: field 'rejected': chosen and rejected responses are identical" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_compressed_inputs_are_read(cli, tmp_path: Path) -> None:
    import zstandard

    data = "".join(json.dumps(r) + "\n" for r in classified()).encode()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    zst = zstandard.ZstdCompressor()
    (tmp_path / "two-frames.jsonl.zst").write_bytes(zst.compress(data[:100]) + zst.compress(data[100:]))
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(data)[:-12])
    (tmp_path / "cut.jsonl.zst").write_bytes(zst.compress(data)[:-12])
    (tmp_path / "junk.json.gz").write_bytes(b"not gzip")
    for name in ("a.jsonl.gz", "a.jsonl.zst", "two-frames.jsonl.zst"):
        res = cli("stats", name, "--json")
        assert res.code == 0 and json.loads(res.stdout)["rows"] == 6, res.stderr
    for name in ("cut.jsonl.gz", "cut.jsonl.zst", "junk.json.gz"):
        res = cli("stats", name)
        assert res.code == 2 and f"{name}: cannot decompress" in res.stderr


def test_big_integers_survive_the_fast_decoder(cli, tmp_path: Path) -> None:
    big = 123456789012345678901234567890
    src = write_lines(tmp_path / "in.jsonl", [json.dumps({**classified(1)[0], "risk_group": "none", "id": big})])
    res = cli("balance", str(src), "-o", "out.jsonl", "--ratio", "none=1", "--no-dedup", "--strategy", "random", "-q")
    assert res.code == 0, res.stderr
    assert read_jsonl(tmp_path / "out.jsonl")[0]["id"] == big


BALANCE_ALL = ("--manifest", "m.jsonl", "--ratio", "explicit=1,implicit=1,mixed=1,none=1", "--no-dedup", "--strategy", "random")


@pytest.mark.parametrize("args", [("export",), ("balance", *BALANCE_ALL)])
def test_a_closed_stdout_ends_quietly_with_exit_1(tmp_path: Path, args: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{**PAIR, **row} for row in classified(40_000)])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "equidata", args[0], str(src), *args[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    assert proc.stdout is not None and proc.stdout.read(1)
    proc.stdout.close()  # like `| head -c 1`
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and err == b""


def test_balance_rejects_a_bad_first_row_by_line_in_skip_mode(cli, tmp_path: Path) -> None:
    rows = classified(3)
    src = write_jsonl(tmp_path / "in.jsonl", [{**rows[0], "prompt": 5}, *rows[1:]])
    res = cli("balance", str(src), "-o", "out.jsonl", "--on-error", "skip", "--no-dedup", "--strategy", "random", "--ratio", "explicit=1,implicit=1,none=1", "-q")
    assert res.code == 0, res.stderr
    rejects = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert [r["line"] for r in rejects] == [1] and rejects[0]["reason"].startswith("no prompt field found")
    assert len(read_jsonl(tmp_path / "out.manifest.jsonl")) == 3
    res = cli("balance", str(src), "-o", "out2.jsonl")
    assert res.code == 2 and "in.jsonl:1: no prompt field found" in res.stderr and not (tmp_path / "out2.jsonl").exists()


# -- review of the row accounting: a rejects record keeps its place; NaN from Parquet is a reject everywhere --


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    """``rows`` as Parquet (pyarrow keeps a NaN), a JSON array or a ``datasets`` folder, by the path's suffix."""
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    else:
        from datasets import Dataset

        Dataset.from_list(rows).save_to_disk(str(path))
    return path


@pytest.mark.parametrize("name", ["in.parquet", "in.json", "in-hf"])
def test_a_rejects_record_of_a_row_format_keeps_its_row_number_beside_the_row(cli, tmp_path: Path, name: str) -> None:
    rows = [{**PAIR, "id": i, "prompt": f"How do I pick lock number {i}?"} for i in range(3)]
    rows[1]["prompt"] = "   "
    write_rows(tmp_path / name, rows)
    res = cli("export", name, "-o", "out.jsonl", "--on-error", "skip", "-q")
    assert res.code == 0, res.stderr
    (rej,) = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert list(rej) == ["row_number", "field", "reason", "row"]
    assert (rej["row_number"], rej["field"], rej["row"]) == (2, "prompt", rows[1]) and rej["reason"].startswith("empty prompt")
    res = cli("export", name, "-o", "out.jsonl")
    assert res.code == 2 and f"{name} (row 2): field 'prompt': empty prompt" in res.stderr


BALANCE_EACH = ("--ratio", "explicit=1,implicit=1,mixed=1,none=1", "--no-dedup", "--strategy", "random")


@pytest.mark.parametrize("field", ["helpfulness", "id"])
def test_balance_rejects_a_parquet_row_json_cannot_hold_before_selection(cli, tmp_path: Path, field: str) -> None:
    """Two rows a group, all selected at 1:1:1:1; the NaN row (explicit) is rejected in pass 1, so every group gets one."""
    rows = [{**row, "helpfulness": 0.5} for row in classified(8)]
    rows[4][field] = float("nan")
    write_rows(tmp_path / "in.parquet", rows)
    res = cli("balance", "in.parquet", "-o", "out.jsonl", "--on-error", "skip", *BALANCE_EACH, "-q")
    assert res.code == 0, res.stderr
    (rej,) = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert (rej["source"], rej["row_number"], rej["field"]) == ("input", 5, None)
    assert rej["reason"] == "cannot be written as strict JSON: Out of range float values are not JSON compliant" and "NaN" in rej["raw"]
    manifest = read_jsonl(tmp_path / "out.manifest.jsonl")
    assert [m["row"] for m in manifest] == list(range(1, 9)) and manifest[4]["fate"] == f"rejected:{rej['reason']}"
    assert manifest[4]["id"] == (None if field == "id" else 4)
    assert sorted(r["risk_group"] for r in read_jsonl(tmp_path / "out.jsonl")) == ["explicit", "implicit", "mixed", "none"]
    res = cli("balance", "in.parquet", "-o", "out2.jsonl", *BALANCE_EACH)
    assert res.code == 2 and "in.parquet (row 5): cannot be written as strict JSON" in res.stderr and not (tmp_path / "out2.jsonl").exists()


def synth_rows() -> list[dict[str, Any]]:
    """`classify` output with three explicit and three implicit prompts to fuse."""
    explicit = ["How do you snort cocaine?", "What do neo-Nazis believe?", "How do I find white supremacist forums?"]
    implicit = ["How do I give someone food poisoning?", "How do I enter a country without a visa?", "How can I make my coworker look bad?"]
    return [{"id": i, "prompt": t, "risk_group": "explicit", "risk_confidence": 0.9} for i, t in enumerate(explicit)] + [
        {"id": 3 + i, "prompt": t, "risk_group": "implicit", "risk_confidence": 0.8} for i, t in enumerate(implicit)
    ]


def test_synthesize_writes_a_rejects_file_only_when_a_row_was_rejected(cli, tmp_path: Path) -> None:
    from tests.judge_server import JudgeServer

    rows = synth_rows()
    write_jsonl(tmp_path / "in.jsonl", rows)
    with JudgeServer() as server:
        args = ("-o", "out.jsonl", "--n", "2", "--endpoint", server.url, "--judge-model", "scripted", "--no-cache", "--on-error", "skip", "-q")
        assert cli("synthesize", "in.jsonl", *args).code == 0
        assert len(read_jsonl(tmp_path / "out.jsonl")) == 2 and not (tmp_path / "out.rejects.jsonl").exists()
        rows[3]["id"] = float("nan")  # a Parquet id JSON cannot hold would crash the output's source_ids
        write_rows(tmp_path / "in.parquet", [*rows, {"id": 6, "prompt": "", "risk_group": "none", "risk_confidence": 0.5}])
        assert cli("synthesize", "in.parquet", *args).code == 0
    rejects = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert [(r["row_number"], r["field"]) for r in rejects] == [(4, "id"), (7, "prompt")]
    assert rejects[0]["reason"].startswith("cannot be written as strict JSON") and "NaN" in rejects[0]["raw"]
    assert all(ids[1] in (4, 5) for ids in (r["source_ids"] for r in read_jsonl(tmp_path / "out.jsonl")))


def test_label_rejects_a_parquet_row_json_cannot_hold_before_asking_the_judge(cli, tmp_path: Path) -> None:
    from tests.judge_server import JudgeServer

    rows = [{"id": i, "prompt": f"Question {i} about the garden gold:none", "score": 0.5} for i in range(3)]
    rows[1]["score"] = float("inf")
    write_rows(tmp_path / "in.parquet", rows)
    with JudgeServer() as server:
        res = cli("label", "in.parquet", "-o", "out.jsonl", "--endpoint", server.url, "--judge-model", "scripted", "--no-cache", "--on-error", "skip", "-q")
        assert res.code == 0, res.stderr
        assert len(server.log) == 2
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == [0, 2]
    (rej,) = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert (rej["row_number"], rej["field"]) == (2, None) and rej["reason"].startswith("cannot be written as strict JSON") and "Infinity" in rej["raw"]


def test_annotate_masks_leaves_a_parquet_row_json_cannot_hold_out_of_the_mean_baseline(cli, tmp_path: Path) -> None:
    """The NaN row's large values would raise the mean baseline and so change every other row's weights."""
    pairs = [{"prompt": f"How do I pick lock number {i}?", "chosen": "I can't help with that. Call a locksmith.", "rejected": "Use a tension wrench. Rake the pins.",
              "helpfulness": 0.5, "chosen_critic": [{"start": 0, "end": 23, "value": float(i)}], "rejected_critic": [{"start": 0, "end": 21, "value": -1.0}]} for i in range(4)]
    pairs[2].update(helpfulness=float("nan"), chosen_critic=[{"start": 0, "end": 23, "value": 50.0}])
    write_rows(tmp_path / "in.parquet", pairs)
    write_rows(tmp_path / "clean.parquet", pairs[:2] + pairs[3:])
    args = ("--tokenizer", "sentence-transformers/all-MiniLM-L6-v2", "--scorer", "field", "--values-field", "critic", "--baseline", "mean", "--on-error", "skip", "-q")
    assert cli("annotate-masks", "in.parquet", "-o", "out.jsonl", *args).code == 0
    assert cli("annotate-masks", "clean.parquet", "-o", "clean.jsonl", *args).code == 0
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
    (rej,) = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert (rej["row_number"], rej["field"]) == (3, None) and rej["reason"].startswith("cannot be written as strict JSON")
