"""``equidata label``: the judge's risk group for each row's prompt dialogue, resumable like classify."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from equidata.engines.base import GroupCountingStep
from equidata.engines.local import Progress, run_chunked
from equidata.errors import ParameterError
from equidata.groups import RISK_GROUPS
from equidata.io import RecordSource, Reject, Row, RunCounts, encode_line
from equidata.judge.client import Ask, Failure, JudgeClient, JudgeConfig, JudgeStats
from equidata.judge.contract import LABEL
from equidata.judge.prompts import label_messages
from equidata.schemas import FieldProblem

DEFAULT_LABEL_CHUNK = 1024
DEFAULT_VOTE_TEMPERATURE = 0.7
RATIONALE_CHARS = 300


def vote(answers: list[tuple[str, str]]) -> tuple[str, str, dict[str, int]]:
    """Majority label of several samples; a tie goes to the tied label sampled first. Returns (label, rationale, votes)."""
    counts = Counter(label for label, _ in answers)
    top = max(counts.values())
    label, rationale = next((lab, why) for lab, why in answers if counts[lab] == top)
    return label, rationale, {g: counts[g] for g in RISK_GROUPS if counts[g]}


def label_asks(dialogue: list[dict[str, str]], votes: int, temperature: float | None) -> list[Ask]:
    """The requests for one dialogue: one, or ``votes`` samples at ``temperature``."""
    messages = label_messages(dialogue)
    if votes == 1:
        return [Ask(messages, LABEL)]
    return [Ask(messages, LABEL, sample=k, temperature=temperature) for k in range(votes)]


class LabelStep(GroupCountingStep):
    """Batch transform: ask the judge for each row's group; unparseable answers become rejects."""

    def __init__(self, client: JudgeClient, *, votes: int = 1, vote_temperature: float = DEFAULT_VOTE_TEMPERATURE, prompt_field: str | None = None, source: str | None = None) -> None:
        if votes < 1:
            raise ParameterError("votes", "an integer >= 1", votes)
        if votes > 1 and not vote_temperature > 0:
            raise ParameterError("vote_temperature", "above 0 with --votes (identical samples cannot vote)", vote_temperature)
        self.client, self.votes, self.vote_temperature = client, votes, vote_temperature
        self.prompt_field, self.source = prompt_field, source
        self.group_counts: Counter[str] = Counter()

    def fingerprint(self) -> dict[str, Any]:
        return {**self.client.config.identity(), "votes": [self.votes, self.vote_temperature], "prompt field": self.prompt_field}

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        self.detect(rows)
        out: list[dict[str, Any] | Reject] = []
        asks: list[Ask] = []
        where: list[tuple[int, Row]] = []
        for row in rows:
            try:
                prompt = self.schema.prompt(row.data)  # type: ignore[union-attr]
            except FieldProblem as p:
                out.append(Reject.of(row, p.reason, p.field))
                continue
            if isinstance(unwritable := encode_line(row, row.data), Reject):  # its output line could not be written: reject it before it costs requests (and a group count)
                out.append(unwritable)
                continue
            where.append((len(out), row))
            out.append(row.data)
            asks.extend(label_asks([*prompt.context, {"role": "user", "content": prompt.text}], self.votes, self.vote_temperature))
        answers = self.client.ask(asks)
        for k, (pos, row) in enumerate(where):
            mine = answers[k * self.votes : (k + 1) * self.votes]
            failed = next((a for a in mine if isinstance(a, Failure)), None)
            if failed is not None:
                out[pos] = Reject(row.index, row.line, failed.reason, self.schema.field, row=row.data, raw=failed.raw, unit=row.unit)  # type: ignore[union-attr]
                continue
            label, rationale, votes = vote(mine)
            self.group_counts[label] += 1
            fields: dict[str, Any] = {"judge_group": label, "judge_rationale": rationale[:RATIONALE_CHARS]}
            if self.votes > 1:
                fields["judge_votes"] = votes
            out[pos] = {**row.data, **fields}
        return out


@dataclass
class LabelResult:
    """Row accounting, rows per judge group, and the judge's request counts."""

    counts: RunCounts
    stats: JudgeStats
    groups: dict[str, int] = field(default_factory=dict)


def label_file(
    input: str | Path,
    output: str | Path = "-",
    *,
    config: JudgeConfig,
    votes: int = 1,
    vote_temperature: float = DEFAULT_VOTE_TEMPERATURE,
    prompt_field: str | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    chunk_size: int = DEFAULT_LABEL_CHUNK,
    progress: Progress | None = None,
    resume: bool = False,
) -> LabelResult:
    """Add ``judge_group``, ``judge_rationale`` (and with ``votes`` > 1 ``judge_votes``) to every row of ``input``.

    A row whose answers break the contract after the retries is rejected with the raw answer.
    A spent budget or an unreachable judge raises :class:`~equidata.judge.JudgeError` with the
    checkpoint kept: ``resume`` continues, and the cache answers what was already asked.
    """
    source = RecordSource.open(input)
    with JudgeClient(config) as client:
        step = LabelStep(client, votes=votes, vote_temperature=vote_temperature, prompt_field=prompt_field, source=source.name)
        counts = run_chunked(source, step, output, on_error=on_error, rejects=rejects, chunk_size=chunk_size, progress=progress, resume=resume)
    return LabelResult(counts, client.stats, {g: step.group_counts.get(g, 0) for g in RISK_GROUPS})
