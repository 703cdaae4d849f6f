"""Resumable file output: ``.partial`` files plus a checkpoint written after every flushed chunk.

A run that writes to a file writes ``OUT.partial`` (and ``REJECTS.partial``) and, after each
chunk is flushed and fsynced, ``OUT.checkpoint.json`` recording how many input records are done,
the committed byte size of each partial file, the row counts, the step's state, and a fingerprint
of the input and the step (model, head, settings). On success the partial files are renamed into
place and the checkpoint is deleted. A kill (any signal) leaves them behind; ``resume=True`` then
truncates the partial files to the committed sizes and continues after the last completed chunk,
so the final bytes equal an uninterrupted run's. Bad input (exit 2) removes them: rerunning the
same data would fail the same way; so does a failure (a full disk) before the first checkpoint.
Partial files are created exclusively and never through a link; a resume refuses a partial file
that is not a regular file. An empty rejects file is not left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from equidata.errors import EquidataError
from equidata.io import RunCounts, STDIN, sidecar_path, write_json

FORMAT = "equidata-checkpoint/1"
_PROBE = 1 << 20  # bytes hashed at the head and at the tail of each input file


class ResumeError(EquidataError):
    """A checkpoint that does not belong to this run (exit 2)."""

    exit_code = 2


def checkpoint_path(output: str | Path) -> Path:
    """``out.jsonl`` -> ``out.checkpoint.json``."""
    return sidecar_path(output, "checkpoint.json")


def partial_path(path: str | Path) -> Path:
    """Where a file is written until the run completes."""
    return Path(f"{path}.partial")


def _file_print(path: Path) -> dict[str, Any]:
    st = path.stat()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read(_PROBE))
        if st.st_size > 2 * _PROBE:
            fh.seek(-_PROBE, os.SEEK_END)
        h.update(fh.read(_PROBE))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256_head_tail": h.hexdigest()}


def input_fingerprint(path: str | Path) -> dict[str, Any]:
    """Size, modification time and a hash of the first and last MiB of each input file."""
    p = Path(path)
    if str(path) == STDIN:
        raise ResumeError("cannot resume a run that reads stdin; read from a file")
    if p.is_dir():
        return {str(f.relative_to(p)): _file_print(f) for f in sorted(p.rglob("*")) if f.is_file()}
    return _file_print(p)


def model_fingerprint(path: str | Path) -> str:
    """A local model folder's files, printed as inputs are; a hub name stands for itself."""
    p = Path(path)
    if not p.is_dir():
        return str(path)
    prints = {str(f.relative_to(p)): _file_print(f) for f in sorted(p.rglob("*")) if f.is_file()}
    return hashlib.sha256(json.dumps(prints, sort_keys=True).encode()).hexdigest()


@dataclass
class ResumableOutput:
    """The output file and (with ``on_error="skip"``) rejects file of one run, written resumably."""

    output: Path
    rejects: Path | None
    identity: dict[str, Any]
    out: IO[bytes] = field(init=False)
    rej: IO[bytes] | None = field(init=False, default=None)
    done: dict[str, Any] = field(init=False, default_factory=dict)
    committed: bool = field(init=False, default=False)

    @property
    def checkpoint(self) -> Path:
        return checkpoint_path(self.output)

    def open(self, resume: bool) -> dict[str, Any]:
        """Open the partial files, fresh or (``resume``) cut back to the last checkpoint; returns it."""
        state = self._load() if resume else {}
        self.out = _open_at(partial_path(self.output), state.get("output_bytes"))
        if self.rejects is not None:
            self.rej = _open_at(partial_path(self.rejects), state.get("rejects_bytes"))
        self.done = state
        self.committed = bool(state)
        return state

    def _load(self) -> dict[str, Any]:
        if not self.checkpoint.is_file():
            return {}
        try:
            saved = json.loads(self.checkpoint.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ResumeError(f"cannot read checkpoint {self.checkpoint}: {exc}; delete it and run without --resume") from exc
        if saved.get("format") != FORMAT:
            raise ResumeError(f"{self.checkpoint} is not an equidata checkpoint; delete it and run without --resume")
        changed = [k for k in sorted(set(saved["identity"]) | set(self.identity)) if saved["identity"].get(k) != self.identity.get(k)]
        if changed:
            raise ResumeError(
                f"cannot resume from {self.checkpoint}: the {', '.join(changed)} changed since the interrupted run "
                "(resuming would mix two runs' results); run without --resume to start over"
            )
        for path, key in ((self.output, "output_bytes"), (self.rejects, "rejects_bytes")):
            if path is not None and not partial_path(path).is_file():
                raise ResumeError(f"cannot resume: {partial_path(path)} is missing; run without --resume to start over")
            if path is not None and partial_path(path).stat().st_size < saved[key]:
                raise ResumeError(f"cannot resume: {partial_path(path)} is shorter than its checkpoint says; run without --resume")
        return saved

    def commit(self, counts: RunCounts, step_state: dict[str, Any]) -> None:
        """Make the chunk just written durable, then record it in the checkpoint."""
        for fh in (self.out, self.rej):
            if fh is not None:
                self._sync(fh)
        write_json(self.checkpoint, {
            "format": FORMAT,
            "identity": self.identity,
            "read": counts.read,
            "written": counts.written,
            "rejected": counts.rejected,
            "output_bytes": self.out.tell(),
            "rejects_bytes": self.rej.tell() if self.rej is not None else 0,
            "step_state": step_state,
        })
        self.committed = True

    def finish(self) -> None:
        """Close the partial files, rename them into place and drop the checkpoint."""
        for fh in (self.out, self.rej):
            if fh is not None:
                self._sync(fh)
        no_rejects = self.rej is not None and self.rej.tell() == 0
        self.close()
        if self.rejects is not None:
            if no_rejects:
                partial_path(self.rejects).unlink()
            else:
                os.replace(partial_path(self.rejects), self.rejects)
        os.replace(partial_path(self.output), self.output)
        self.checkpoint.unlink(missing_ok=True)

    def interrupt(self) -> None:
        """Keep the partial files and checkpoint for ``--resume``; without a checkpoint there is nothing to resume."""
        if self.committed:
            self.close()
        else:
            self.discard()

    def discard(self) -> None:
        """Remove the partial files and the checkpoint (the run failed on its input)."""
        self.close()
        for path in (self.output, self.rejects):
            if path is not None:
                partial_path(path).unlink(missing_ok=True)
        self.checkpoint.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the partial files, flushing what can be flushed (a full disk still closes them).

        What a failed flush loses lies past the committed sizes, which a resume cuts back to.
        """
        for fh in (self.out, self.rej):
            if fh is not None and not fh.closed:
                with contextlib.suppress(OSError):
                    self._sync(fh)
                with contextlib.suppress(OSError):
                    fh.close()

    @staticmethod
    def _sync(fh: IO[bytes]) -> None:
        fh.flush()
        os.fsync(fh.fileno())


def _open_at(path: Path, size: int | None) -> IO[bytes]:
    """Open ``path`` for writing, never through a link: a new file, or (resuming) one cut to ``size`` bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if size is None:
        path.unlink(missing_ok=True)  # a stale partial file, or a planted link: the link goes, its target is untouched
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666), "wb")
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    except OSError as exc:
        raise ResumeError(f"cannot resume: {path} is not a regular file ({exc.strerror}); run without --resume to start over") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ResumeError(f"cannot resume: {path} is not a regular file; run without --resume to start over")
    fh = os.fdopen(fd, "r+b")
    fh.truncate(size)
    fh.seek(size)
    return fh
