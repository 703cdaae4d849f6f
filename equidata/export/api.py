"""``export_file``: preference pairs (or prompts) from any supported schema, in a trainer's layout.

The first usable row fixes the export's kind: preference pairs when it has responses, prompt-only
(for PPO/GRPO) when it has none. Rows of the other kind are rejected, so the columns stay the same
throughout the file. Pairs whose chosen response is empty, or identical to the rejected one, are
rejected with that reason rather than written as training data.

Every other input field (``id``, ``risk_group``, ...) follows the layout's columns, in input order,
unless ``keep_fields`` is off; the fields the pair was read from are not repeated, and a field
named like a layout column gives way to that column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from equidata.engines.base import SchemaStep
from equidata.engines.local import DEFAULT_CHUNK_SIZE, Progress, run_chunked
from equidata.errors import ParameterError
from equidata.export.formats import FORMATS, META_FIELDS, dataset_info, render
from equidata.io import STDOUT, RecordSource, Reject, Row, RunCounts, check_paths, rejects_file, sidecar_path, write_json
from equidata.schemas import PREFER, FieldProblem, Pair, Schema, extract_pair


#: Fields a schema reads the pair from, besides its prompt field (not repeated next to the layout).
_PAIR_FIELDS = ("chosen", "rejected")
_SCHEMA_FIELDS = {"pku-saferlhf": ("response_0", "response_1", "safer_response_id", "better_response_id")}


def read_fields(schema: Schema) -> set[str]:
    """The input fields the pair of ``schema`` is built from."""
    return {schema.field, *_PAIR_FIELDS, *_SCHEMA_FIELDS.get(schema.name, ())}


def check_pair(pair: Pair) -> None:
    """Raise :class:`FieldProblem` for a pair that must not reach a trainer."""
    if not (pair.chosen or "").strip():
        raise FieldProblem("chosen", "empty chosen response")
    if pair.chosen.strip() == (pair.rejected or "").strip():  # type: ignore[union-attr]
        raise FieldProblem("rejected", "chosen and rejected responses are identical")


class ExportStep(SchemaStep):
    """Batch transform: detect the schema on the first row, extract each pair, render it in ``fmt``."""

    def __init__(
        self, fmt: str, *, prefer: str = "safer", drop_meta: bool = False, keep_fields: bool = True, prompt_field: str | None = None, source: str | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ParameterError("format", f"one of {list(FORMATS)}", fmt)
        if prefer not in PREFER:
            raise ParameterError("prefer", f"one of {list(PREFER)}", prefer)
        self.fmt, self.prefer, self.drop_meta, self.keep_fields, self.prompt_field, self.source = fmt, prefer, drop_meta, keep_fields, prompt_field, source
        self.pairs: bool | None = False if fmt == "prompt-only" else None

    def fingerprint(self) -> dict[str, Any]:
        """The settings that shape each record, for the resume check."""
        return {"export": {"format": self.fmt, "prefer": self.prefer, "drop_meta": self.drop_meta, "keep_fields": self.keep_fields, "prompt_field": self.prompt_field}}

    def state(self) -> dict[str, Any]:
        """The detected schema and the kind of records (pairs or prompts), saved with each checkpoint."""
        return {"schema": self.schema_state(), "pairs": self.pairs}

    def restore(self, state: dict[str, Any]) -> None:
        self.restore_schema(state["schema"])
        self.pairs = state["pairs"]

    def _one(self, row: Row) -> dict[str, Any]:
        pair = extract_pair(self.schema, row.data, self.prefer)  # type: ignore[arg-type]
        if self.pairs is None:
            self.pairs = pair.has_responses
        if self.pairs:
            if not pair.has_responses:
                raise FieldProblem("chosen", "no chosen/rejected responses, but this export holds preference pairs (decided by its first row)")
            check_pair(pair)
        elif pair.has_responses and self.fmt != "prompt-only":
            raise FieldProblem("chosen", "has responses, but this export is prompt-only (decided by its first row)")
        rec = render(self.fmt, pair, with_responses=bool(self.pairs))
        skip = read_fields(self.schema) | set(rec)  # type: ignore[arg-type]
        for key, value in row.data.items():
            meta = key in META_FIELDS
            if key not in skip and (self.keep_fields or meta) and not (meta and self.drop_meta):
                rec[key] = value
        return rec

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        self.detect(rows)
        out: list[dict[str, Any] | Reject] = []
        for row in rows:
            try:
                out.append(self._one(row))
            except FieldProblem as p:
                out.append(Reject.of(row, p.reason, p.field))
        return out


@dataclass
class ExportResult:
    """Row accounting, whether pairs (or prompts) were written, and the LLaMA-Factory snippet's path."""

    counts: RunCounts
    pairs: bool
    schema: str | None
    dataset_info_path: Path | None = None


def export_file(
    input: str | Path,
    output: str | Path = STDOUT,
    *,
    fmt: str = "trl",
    prefer: str = "safer",
    drop_meta: bool = False,
    keep_fields: bool = True,
    prompt_field: str | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
    resume: bool = False,
) -> ExportResult:
    """Export ``input`` as ``fmt`` records; with ``on_error="skip"`` unusable pairs go to the rejects file.

    Other input fields are kept after the layout's columns (``keep_fields=False``: only the risk
    metadata, which ``drop_meta`` drops too).

    For ``llamafactory`` a ``dataset_info.json`` entry is written next to the output
    (``OUT.dataset_info.json``; in the current folder when the output is stdout). ``resume``
    continues an interrupted run from its checkpoint, as classify does.
    """
    source = RecordSource.open(input)
    info = sidecar_path(output, "dataset_info.json", input, "output") if fmt == "llamafactory" else None
    check_paths({"input": input}, {"--output": output, "--rejects": rejects_file(on_error, rejects, output, source.path), "dataset_info": info})
    step = ExportStep(fmt, prefer=prefer, drop_meta=drop_meta, keep_fields=keep_fields, prompt_field=prompt_field, source=source.name)
    counts = run_chunked(source, step, output, on_error=on_error, rejects=rejects, chunk_size=chunk_size, progress=progress, resume=resume)
    result = ExportResult(counts, bool(step.pairs), step.schema.name if step.schema else None)
    if info is not None:
        name = Path(output).stem if str(output) != STDOUT else Path(str(input)).stem
        file_name = Path(output).name if str(output) != STDOUT else f"{name}.jsonl"
        result.dataset_info_path = info
        write_json(info, dataset_info(name, file_name, ranking=result.pairs))
    return result
