"""`equidata label`: the LLM judge's risk group for each row (the paper's classification prompt)."""

from __future__ import annotations

from typing import Annotated

import typer

from equidata.cli import console
from equidata.cli.judge_options import (
    ApiKeyEnv, Cache, Concurrency, Endpoint, JudgeModel, MaxRequests, MaxTokens, NoCache, Retries, Seed, Temperature, Timeout, judge_config,
)
from equidata.cli.options import ChunkSize, Input, OnError, OnErrorChoice, Output, PromptField, Quiet, Rejects, Resume
from equidata.judge.client import DEFAULT_KEY_ENV
from equidata.judge.label import DEFAULT_LABEL_CHUNK, DEFAULT_VOTE_TEMPERATURE, label_file


def label(
    input: Input,
    output: Output = "-",
    endpoint: Endpoint = None,
    judge_model: JudgeModel = None,
    api_key_env: ApiKeyEnv = DEFAULT_KEY_ENV,
    votes: Annotated[int, typer.Option("--votes", min=1, help="Samples per row; the majority label wins (ties: the one sampled first).")] = 1,
    vote_temperature: Annotated[float, typer.Option("--vote-temperature", min=0.0, help="Sampling temperature of the --votes samples.")] = DEFAULT_VOTE_TEMPERATURE,
    concurrency: Concurrency = 8,
    timeout: Timeout = 60.0,
    retries: Retries = 6,
    temperature: Temperature = 0.0,
    seed: Seed = 0,
    max_requests: MaxRequests = None,
    max_tokens: MaxTokens = None,
    cache: Cache = None,
    no_cache: NoCache = False,
    prompt_field: PromptField = None,
    on_error: OnError = OnErrorChoice.skip,
    rejects: Rejects = None,
    resume: Resume = False,
    chunk_size: ChunkSize = DEFAULT_LABEL_CHUNK,
    quiet: Quiet = False,
) -> None:
    """Label each row's prompt dialogue explicit, implicit, mixed or none with an LLM judge (judge_group, judge_rationale).

    Rows whose answer breaks the JSON contract after the retries go to the rejects file with the raw answer.

    Example:  equidata label prompts.jsonl -o labelled.jsonl --endpoint http://localhost:8000/v1 --judge-model Qwen/Qwen2.5-7B-Instruct
    """
    config = judge_config(
        endpoint, judge_model, api_key_env, concurrency=concurrency, timeout=timeout, retries=retries, temperature=temperature, seed=seed,
        max_requests=max_requests, max_tokens=max_tokens, cache=cache, no_cache=no_cache,
    )
    with console.progress_bar("label", quiet, console.input_total(input)) as advance:
        result = label_file(
            input, output, config=config, votes=votes, vote_temperature=vote_temperature, prompt_field=prompt_field,
            on_error=on_error.value, rejects=rejects, chunk_size=chunk_size, progress=advance, resume=resume,
        )
    n = max(result.counts.written, 1)
    groups = console.table("judge groups", ["group", "rows", "share"], [[g, c, c / n] for g, c in result.groups.items()])
    console.summary(quiet, groups, console.table("judge", ["", "count"], result.stats.rows()), console.counts_table(result.counts))
