"""``equidata synthesize``: the paper's MHD recipe, fusing an explicit query with an implicit one.

Candidates are the input rows the group field puts in ``explicit`` and ``implicit`` (classify's
``risk_group`` or label's ``judge_group``). Pairs (one of each) are drawn with ``seed``, without
repeats; the judge fuses each pair into one query. A query equal (case and whitespace aside) to an
input prompt or to a query already kept is dropped; with ``verify`` the judge also labels each new
query and only ``mixed`` ones are kept. Rounds of pairs continue until ``n`` rows are kept or
``max_pairs`` pairs were tried. Output rows carry the query (under the input's prompt field when it
is a plain one, else ``prompt``), ``risk_group: mixed``, ``risk_confidence: 1.0`` (by construction,
so that ``balance`` takes them) and ``source_ids`` (the pair's ``id`` fields, else line numbers).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from equidata.text import normalise_text
from equidata.errors import InputError, ParameterError
from equidata.io import ErrorPolicy, RecordSource, Reject, atomic_output, dumps_line, encode_line, rejects_file
from equidata.judge.client import Ask, Failure, JudgeClient, JudgeConfig, JudgeStats
from equidata.judge.contract import QUERY
from equidata.judge.label import label_asks
from equidata.judge.prompts import fuse_messages
from equidata.schemas import FieldProblem, Schema, detect_schema

GROUP_FIELDS = ("judge_group", "risk_group")
SOURCES = ("explicit", "implicit")
#: Groups :func:`synthesize_file` can make: mixed, fused from an explicit and an implicit query.
SYNTH_GROUPS = ("mixed",)


@dataclass
class Candidate:
    """An explicit or implicit input prompt: its provenance id and text."""

    id: Any
    text: str


@dataclass
class SynthResult:
    """What happened: input rows, pairs tried, and why fused queries were dropped."""

    read: int = 0
    rejected: int = 0
    candidates: dict[str, int] = field(default_factory=dict)
    pairs: int = 0
    failed: int = 0
    duplicates: int = 0
    not_mixed: int = 0
    written: int = 0
    stats: JudgeStats = field(default_factory=JudgeStats)

    def rows(self) -> list[list[Any]]:
        return [
            ["input rows", self.read], ["rejected input rows", self.rejected], *[[f"{g} candidates", c] for g, c in self.candidates.items()],
            ["pairs fused", self.pairs], ["answers breaking the contract", self.failed], ["duplicates dropped", self.duplicates],
            ["not mixed (--verify)", self.not_mixed], ["written", self.written],
        ]


def read_candidates(source: RecordSource, policy: ErrorPolicy, group_field: str | None, prompt_field: str | None, id_field: str) -> tuple[dict[str, list[Candidate]], set[str], Schema | None]:
    """Explicit and implicit candidates, the normalised text of every input prompt, the schema (``policy`` counts the rows)."""
    pools: dict[str, list[Candidate]] = {g: [] for g in SOURCES}
    seen: set[str] = set()
    schema: Schema | None = None
    for rec in policy.rows(source):
        try:
            if schema is None:
                schema = detect_schema(rec.data, prompt_field, source=source.name)
                group_field = group_field or next((f for f in GROUP_FIELDS if f in rec.data), GROUP_FIELDS[1])
            text = schema.prompt(rec.data).text
            group = rec.data.get(group_field)  # type: ignore[arg-type]
            if group is None:
                raise FieldProblem(group_field, "missing; run `equidata classify` or `equidata label` first")  # type: ignore[arg-type]
            ident = rec.data.get(id_field, rec.line)
            if not source.strict_json and isinstance(bad := encode_line(rec, {id_field: ident}), Reject):
                raise FieldProblem(id_field, bad.reason)  # the id is written in source_ids (a NaN id from Parquet cannot be)
        except FieldProblem as p:
            policy.reject(Reject.of(rec, p.reason, p.field))
            continue
        seen.add(normalise_text(text))
        if group in pools:
            pools[group].append(Candidate(ident, text))
    return pools, seen, schema


def pair_stream(n_explicit: int, n_implicit: int, seed: int) -> Any:
    """Distinct (explicit, implicit) index pairs in a seeded random order."""
    rng = np.random.default_rng(seed)
    total = n_explicit * n_implicit
    drawn: set[int] = set()
    while len(drawn) < total:
        k = int(rng.integers(total))
        if k not in drawn:
            drawn.add(k)
            yield divmod(k, n_implicit)


def synthesize_file(
    input: str | Path,
    output: str | Path = "-",
    *,
    config: JudgeConfig,
    n: int,
    seed: int = 0,
    verify: bool = False,
    group: str = "mixed",
    group_field: str | None = None,
    prompt_field: str | None = None,
    id_field: str = "id",
    max_pairs: int | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
) -> SynthResult:
    """Write up to ``n`` unique synthesised ``mixed`` rows fused from ``input``'s explicit and implicit prompts."""
    if group not in SYNTH_GROUPS:
        raise ParameterError("group", "mixed (the paper's recipe fuses an explicit and an implicit query)", group)
    if n < 1:
        raise ParameterError("n", "a positive integer", n)
    max_pairs = max_pairs if max_pairs is not None else 4 * n
    source = RecordSource.open(input)
    policy = ErrorPolicy(on_error, source.name)
    result = SynthResult()
    with ExitStack() as stack:
        if (rejects_path := rejects_file(on_error, rejects, output, source.path)) is not None:
            policy.sink = stack.enter_context(atomic_output(rejects_path, skip_empty=True))
        pools, seen, schema = read_candidates(source, policy, group_field, prompt_field, id_field)
        result.read, result.rejected = policy.counts.read, policy.counts.rejected
        result.candidates = {g: len(pools[g]) for g in SOURCES}
        if not all(pools.values()):
            raise InputError(f"no {' or '.join(g for g in SOURCES if not pools[g])} prompts to fuse (found {result.candidates})", path=source.name)
        key = schema.field if schema is not None and schema.name == "plain" else "prompt"
        client = stack.enter_context(JudgeClient(config))
        rows = _fuse(client, pools, seen, n, seed, verify, max_pairs, result)
        result.stats = client.stats
        with atomic_output(output) as out:
            for query, ids, verified in rows:
                row = {key: query, "risk_group": "mixed", "risk_confidence": 1.0, "source_ids": ids, "synth_model": config.model}
                out.write(dumps_line({**row, "judge_group": "mixed"} if verified else row))
    result.written = len(rows)
    return result


def _fuse(client: JudgeClient, pools: dict[str, list[Candidate]], seen: set[str], n: int, seed: int, verify: bool, max_pairs: int, result: SynthResult) -> list[tuple[str, list[Any], bool]]:
    """Rounds of fusion (and verification) until ``n`` queries are kept or the pairs run out."""
    explicit, implicit = pools["explicit"], pools["implicit"]
    pairs = pair_stream(len(explicit), len(implicit), seed)
    kept: list[tuple[str, list[Any], bool]] = []
    while len(kept) < n and result.pairs < max_pairs:
        batch = [p for _, p in zip(range(min(n - len(kept), max_pairs - result.pairs)), pairs)]
        if not batch:
            break
        result.pairs += len(batch)
        answers = client.ask([Ask(fuse_messages(explicit[e].text, implicit[i].text), QUERY) for e, i in batch])
        fresh = []
        for (e, i), query in zip(batch, answers):
            if isinstance(query, Failure):
                result.failed += 1
            elif normalise_text(query) in seen:
                result.duplicates += 1
            else:
                seen.add(normalise_text(query))
                fresh.append((query, [explicit[e].id, implicit[i].id]))
        labels = client.ask([a for q, _ in fresh for a in label_asks([{"role": "user", "content": q}], 1, None)]) if verify else [None] * len(fresh)
        for (query, ids), label in zip(fresh, labels):
            if isinstance(label, Failure):
                result.failed += 1
            elif verify and label[0] != "mixed":  # type: ignore[index]
                result.not_mixed += 1
            elif len(kept) < n:
                kept.append((query, ids, verify))
    return kept
