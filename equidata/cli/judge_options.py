"""Options of the commands that call an LLM judge (label, synthesize, annotate-masks --scorer judge)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from equidata.judge.client import CACHE_ENV, MODEL_ENV, URL_ENV, JudgeConfig, default_cache_path

Endpoint = Annotated[Optional[str], typer.Option("--endpoint", help=f"OpenAI-compatible base URL, e.g. http://localhost:8000/v1 (default: ${URL_ENV}).", show_default=False)]
JudgeModel = Annotated[Optional[str], typer.Option("--judge-model", help=f"Model name the server knows (default: ${MODEL_ENV}).", show_default=False)]
ApiKeyEnv = Annotated[str, typer.Option("--api-key-env", help="Environment variable holding the API key (never pass the key itself; none needed for a local server).")]
Concurrency = Annotated[int, typer.Option("--concurrency", min=1, help="Requests in flight at once.")]
Timeout = Annotated[float, typer.Option("--timeout", min=0.001, help="Seconds to wait for one answer before retrying.")]
Retries = Annotated[int, typer.Option("--retries", min=0, help="Retries of a request on 429, 5xx, timeouts and connection errors (exponential backoff with jitter, Retry-After honoured).")]
Temperature = Annotated[float, typer.Option("--judge-temperature", min=0.0, help="Sampling temperature of the judge.")]
Seed = Annotated[int, typer.Option("--judge-seed", help="Seed sent with each request (vLLM, SGLang and OpenAI honour it).")]
MaxRequests = Annotated[Optional[int], typer.Option("--max-requests", min=0, help="Budget: stop (resumably) before sending more HTTP requests than this.", show_default=False)]
MaxTokens = Annotated[Optional[int], typer.Option("--max-tokens", min=0, help="Budget: stop (resumably) once the judge has used this many tokens.", show_default=False)]
Cache = Annotated[Optional[Path], typer.Option("--cache", help=f"SQLite response cache (default: ${CACHE_ENV} or {default_cache_path()}).", show_default=False)]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Keep answers in memory only (a rerun asks again).")]


def judge_config(
    endpoint: str | None, judge_model: str | None, api_key_env: str, *, concurrency: int, timeout: float, retries: int,
    temperature: float, seed: int, max_requests: int | None, max_tokens: int | None, cache: Path | None, no_cache: bool,
) -> JudgeConfig:
    """The :class:`JudgeConfig` a command line asks for."""
    return JudgeConfig(
        endpoint=endpoint, model=judge_model, api_key_env=api_key_env, concurrency=concurrency, timeout=timeout, retries=retries,
        temperature=temperature, seed=seed, max_requests=max_requests, max_tokens=max_tokens,
        cache=None if no_cache else (cache or default_cache_path()),
    )

