"""``classify --engine ray``: the classify step on the Ray Data engine."""

from __future__ import annotations

import itertools
from collections import Counter
from functools import partial
from pathlib import Path

from equidata.classifier.predict import ClassifyStep, RiskClassifier
from equidata.classifier.api import ClassifyResult
from equidata.engines.local import DEFAULT_CHUNK_SIZE, Progress
from equidata.engines.ray import run_ray, shard_paths
from equidata.groups import RISK_GROUPS
from equidata.io import RecordSource, Row
from equidata.schemas import detect_schema_of


def _make_step(head: str | None, model: str | None, batch_size: int | None, prompt_field: str | None, source: str, turns: str) -> ClassifyStep:
    classifier = RiskClassifier(head, model=model, device="auto", batch_size=batch_size)
    return ClassifyStep(classifier, prompt_field=prompt_field, source=source, turns=turns)


def _first_schema(input: str | Path, prompt_field: str | None, chunk_size: int) -> list[str] | None:
    """The schema the local engine would detect: from the first matching row of the first shard's first chunk."""
    source = RecordSource.open(shard_paths(input)[0])
    rows = itertools.islice((r.data for r in source if isinstance(r, Row)), chunk_size)
    schema = detect_schema_of(rows, prompt_field, source=source.name)
    return [schema.name, schema.field] if schema else None


def classify_ray(
    input: str | Path,
    output: str | Path,
    *,
    head: str | Path | None = None,
    model: str | None = None,
    batch_size: int | None = None,
    prompt_field: str | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    address: str | None = None,
    actors: int | None = None,
    progress: Progress | None = None,
    turns: str = "all",
) -> ClassifyResult:
    """As :func:`~equidata.classifier.classify_file`, on Ray (see :mod:`equidata.engines.ray`)."""
    groups: Counter[str] = Counter()
    factory = partial(_make_step, str(head) if head else None, model, batch_size, prompt_field, str(input), turns)
    counts = run_ray(
        input, factory, output, initial_state={"schema": _first_schema(input, prompt_field, chunk_size), "groups": {}},
        on_state=lambda state: groups.update(state["groups"]), on_error=on_error, rejects=rejects,
        chunk_size=chunk_size, address=address, actors=actors, progress=progress,
    )
    return ClassifyResult(counts, {g: groups.get(g, 0) for g in RISK_GROUPS})
