"""The one check every command makes before any work: no path it writes is a path it reads or writes.

Paths are compared resolved (links followed) and, when both exist, with :func:`os.path.samefile`
(hard links, bind mounts). A clash, a file output naming an existing folder (or a folder output
naming a file) is bad usage (exit 2); a folder that cannot be written is an environment failure
(exit 1). ``-`` (stdin/stdout) and ``None`` are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from equidata.errors import EquidataError, ParameterError

PathLike = str | Path | None


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _writable_folder(name: str, path: Path) -> None:
    """Refuse a path whose nearest existing folder cannot be written (read-only mount, permissions)."""
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ParameterError(name, f"inside a folder ({folder} is a file)", str(path))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise EquidataError(f"cannot write {path}: the folder {folder} is not writable")


def check_paths(reads: Mapping[str, PathLike], writes: Mapping[str, PathLike], folders: Mapping[str, PathLike] | None = None) -> None:
    """Refuse, before any work, writes that would clobber an input or each other.

    ``reads`` and ``writes`` map an option name (``input``, ``--rejects``, ...) to its path;
    ``folders`` are written folders (``train -o``). Raises :class:`ParameterError` (exit 2) or
    :class:`EquidataError` (exit 1, an unwritable folder).
    """
    named = {k: Path(v) for k, v in reads.items() if v is not None and str(v) != "-"}
    out = {k: Path(v) for k, v in writes.items() if v is not None and str(v) != "-"}
    dirs = {k: Path(v) for k, v in (folders or {}).items() if v is not None}
    for name, path in out.items():
        if path.is_dir():
            raise ParameterError(name, "a file path, not an existing folder", str(path))
    for name, path in dirs.items():
        if path.exists() and not path.is_dir():
            raise ParameterError(name, "a folder path, not an existing file", str(path))
    seen = list(named.items())
    for name, path in [*out.items(), *dirs.items()]:
        for other, known in seen:
            if _same(path, known):
                raise ParameterError(name, f"a different file from {other}", f"{path} (the same file as {other} {known})")
        seen.append((name, path))
        _writable_folder(name, path if name not in dirs else path / "_")
