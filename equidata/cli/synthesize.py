"""`equidata synthesize`: new mixed-risk (MHD) prompts fused from explicit and implicit ones by an LLM judge."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from equidata.cli import console
from equidata.cli.judge_options import (
    ApiKeyEnv, Cache, Concurrency, Endpoint, JudgeModel, MaxRequests, MaxTokens, NoCache, Retries, Seed, Temperature, Timeout, judge_config,
)
from equidata.cli.options import Input, OnError, OnErrorChoice, Output, PromptField, Quiet, Rejects, choice
from equidata.judge.client import DEFAULT_KEY_ENV
from equidata.judge.synthesize import SYNTH_GROUPS, synthesize_file


GroupChoice = choice("GroupChoice", SYNTH_GROUPS)


def synthesize(
    input: Input,
    output: Output = "-",
    n: Annotated[int, typer.Option("--n", min=1, help="Rows wanted.")] = 100,
    group: Annotated[GroupChoice, typer.Option("--group", help="Group to synthesise (mixed: fuse an explicit and an implicit query).")] = GroupChoice.mixed,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the pair draw: same input, seed and judge answers, same bytes.")] = 0,
    verify: Annotated[bool, typer.Option("--verify", help="Keep a fused query only if the judge labels it mixed.")] = False,
    group_field: Annotated[Optional[str], typer.Option("--group-field", help="Field holding each input row's group (default: judge_group if present, else risk_group).", show_default=False)] = None,
    id_field: Annotated[str, typer.Option("--id-field", help="Field recorded in source_ids (rows without it: their line number).")] = "id",
    max_pairs: Annotated[Optional[int], typer.Option("--max-pairs", min=1, help="Pairs to try at most (default: 4 x --n).", show_default=False)] = None,
    endpoint: Endpoint = None,
    judge_model: JudgeModel = None,
    api_key_env: ApiKeyEnv = DEFAULT_KEY_ENV,
    concurrency: Concurrency = 8,
    timeout: Timeout = 60.0,
    retries: Retries = 6,
    temperature: Temperature = 0.0,
    judge_seed: Seed = 0,
    max_requests: MaxRequests = None,
    max_tokens: MaxTokens = None,
    cache: Cache = None,
    no_cache: NoCache = False,
    prompt_field: PromptField = None,
    on_error: OnError = OnErrorChoice.fail,
    rejects: Rejects = None,
    quiet: Quiet = False,
) -> None:
    """Synthesise mixed-risk prompts (the paper's MHD recipe): the judge fuses an explicit query with an implicit one.

    Input: classify or label output. Output rows: the query, risk_group mixed, source_ids; duplicates of the input and of each other are dropped.

    Example:  equidata synthesize classified.jsonl -o synth.jsonl --n 1000 --verify --endpoint http://localhost:8000/v1 --judge-model Qwen/Qwen2.5-7B-Instruct
    """
    config = judge_config(
        endpoint, judge_model, api_key_env, concurrency=concurrency, timeout=timeout, retries=retries, temperature=temperature, seed=judge_seed,
        max_requests=max_requests, max_tokens=max_tokens, cache=cache, no_cache=no_cache,
    )
    result = synthesize_file(
        input, output, config=config, n=n, seed=seed, verify=verify, group=group.value, group_field=group_field, prompt_field=prompt_field,
        id_field=id_field, max_pairs=max_pairs, on_error=on_error.value, rejects=rejects,
    )
    if result.written < n:
        console.err.print(f"[yellow]warning:[/] {result.written} of {n} rows: the pairs ran out (raise --max-pairs, or give more explicit/implicit prompts)")
    console.summary(quiet, console.table("synthesize", ["", "count"], result.rows()), console.table("judge", ["", "count"], result.stats.rows()))
