"""Read labelled prompts (for train/evaluate) through the shared record I/O and error policy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from equidata.errors import InputError
from equidata.groups import PAPER_LABEL_MAP, RISK_GROUPS
from equidata.io import ErrorPolicy, RecordSource, Reject, RunCounts, STDOUT, atomic_output, read_chunks, rejects_file
from equidata.schemas import FieldProblem, detect_schema_of


@dataclass
class LabelledSet:
    """Prompts, their group indices into :data:`RISK_GROUPS`, and how the rows were accounted for."""

    texts: list[str]
    y: np.ndarray
    counts: RunCounts

    @property
    def sha256(self) -> str:
        """Hash of the (text, group) pairs in order: identifies the training data in a head's config."""
        h = hashlib.sha256()
        for text, k in zip(self.texts, self.y):
            h.update(json.dumps([text, RISK_GROUPS[k]], ensure_ascii=False).encode("utf-8") + b"\n")
        return h.hexdigest()

    @classmethod
    def join(cls, parts: Sequence[LabelledSet]) -> LabelledSet:
        """The rows of ``parts`` in order, their counts added up."""
        counts = RunCounts(*(sum(getattr(p.counts, k) for p in parts) for k in ("read", "written", "rejected")))
        return cls([t for p in parts for t in p.texts], np.concatenate([p.y for p in parts]), counts)


def labelled_chunks(
    path: str | Path,
    *,
    label_field: str = "category",
    label_map: dict[str, str] | None = None,
    prompt_field: str | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    counts: RunCounts | None = None,
    chunk_rows: int = 4096,
    turns: str = "all",
) -> Iterator[tuple[list[str], np.ndarray]]:
    """Stream prompts and group indices, about ``chunk_rows`` rows at a time; ``counts`` is filled as they go.

    A row's text is what ``classify --turns TURNS`` reads (:meth:`~equidata.schemas.Prompt.classified_text`),
    so single-turn and dialogue rows, of any supported schema, train and evaluate alike. An unknown or
    missing label is a reject like a bad prompt. With ``on_error="skip"`` rejects go to ``rejects``
    (default: ``<input stem>.rejects.jsonl`` in the current folder, since labelled data often sits in a
    read-only place).
    """
    mapping = label_map or dict(PAPER_LABEL_MAP)
    source = RecordSource.open(path)
    rejects = rejects_file(on_error, rejects, STDOUT, path)
    with atomic_output(rejects, skip_empty=True) if on_error == "skip" else nullcontext() as sink:
        policy = ErrorPolicy(on_error, source.name, sink, counts if counts is not None else RunCounts())
        schema = None
        for chunk in read_chunks(source, chunk_rows):
            schema = schema or detect_schema_of((r.data for r in chunk.rows), prompt_field, source=source.name)
            texts: list[str] = []
            ys: list[int] = []
            bad: list[Reject] = []
            for row in chunk.rows:
                label = row.data.get(label_field)
                try:
                    text = schema.prompt(row.data).classified_text(turns)
                    if label not in mapping:
                        raise FieldProblem(label_field, f"unknown label {label!r}; known: {sorted(mapping)} (extend with --label-map)")
                except FieldProblem as p:
                    bad.append(Reject.of(row, p.reason, p.field))
                    continue
                texts.append(text)
                ys.append(RISK_GROUPS.index(mapping[label]))
            policy.settle(chunk.records, [*chunk.rejects, *bad], len(texts))
            yield texts, np.asarray(ys, dtype=np.int64)
    policy.finish(rejects)
    if not policy.counts.written:
        raise InputError(f"no usable labelled rows ({policy.counts.read} read, {policy.counts.rejected} rejected)", path=source.name)


def load_labelled(
    path: str | Path,
    *,
    label_field: str = "category",
    label_map: dict[str, str] | None = None,
    prompt_field: str | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    turns: str = "all",
) -> LabelledSet:
    """All prompts and labels of ``path`` in memory (see :func:`labelled_chunks`)."""
    counts = RunCounts()
    texts: list[str] = []
    ys = [np.zeros(0, dtype=np.int64)]
    for chunk_texts, chunk_y in labelled_chunks(path, label_field=label_field, label_map=label_map, prompt_field=prompt_field, on_error=on_error, rejects=rejects, counts=counts, turns=turns):
        texts += chunk_texts
        ys.append(chunk_y)
    return LabelledSet(texts, np.concatenate(ys), counts)
