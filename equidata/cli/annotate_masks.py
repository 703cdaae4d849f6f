"""`equidata annotate-masks`: AMA per-token weights for preference pairs, aligned to a tokenizer."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from equidata.ama.scorers import DEFAULT_SHARED_THRESHOLD, SCORERS
from equidata.ama.weights import WEIGHT_MODES
from equidata.cli import console
from equidata.cli.judge_options import (
    ApiKeyEnv, Cache, Concurrency, Endpoint, JudgeModel, MaxRequests, MaxTokens, NoCache, Retries, Seed, Temperature, Timeout, judge_config,
)
from equidata.cli.options import BatchSize, ChunkSize, Device, Input, Model, OnError, OnErrorChoice, Output, PreferChoice, PromptField, Quiet, Rejects, Resume, choice
from equidata.engines.local import DEFAULT_CHUNK_SIZE
from equidata.judge.client import DEFAULT_KEY_ENV, JudgeConfig

if TYPE_CHECKING:
    from equidata.ama import AnnotateResult

ScorerChoice = choice("ScorerChoice", SCORERS)
WeightsChoice = choice("WeightsChoice", WEIGHT_MODES)


def summary_tables(result: AnnotateResult) -> list[object]:
    """Kept-token shares, fallbacks and the histogram of segment values."""
    s = result.stats
    kept = console.table(
        f"AMA masks (baseline {result.baseline:.4f})", ["", "value"],
        [["chosen tokens kept", s.kept_share("chosen")], ["rejected tokens kept", s.kept_share("rejected")], ["fallback rows (all ones)", s.fallbacks]],
    )
    hist = result.histogram()
    peak = max((c for _, _, c in hist), default=0) or 1
    bars = console.table("segment values", ["bin", "segments", ""], [[f"[{lo:+.3f}, {hi:+.3f})", c, "█" * round(30 * c / peak)] for lo, hi, c in hist])
    return [kept, bars, console.counts_table(result.counts)]


def annotate_masks(
    input: Input,
    tokenizer: Annotated[str, typer.Option("--tokenizer", help="Tokenizer of the model you will train (hub name or local path; must be a fast tokenizer).", show_default=False)],
    output: Output = "-",
    scorer: Annotated[ScorerChoice, typer.Option("--scorer", help="contrast: segment contrast with the bundled MiniLM (offline). reward-model: reward increments. field: your own values. judge: an LLM judge rates each segment (--endpoint, docs/judge.md).")] = ScorerChoice.contrast,
    reward_model: Annotated[Optional[str], typer.Option("--reward-model", help="Sequence-classification reward model for --scorer reward-model.", show_default=False)] = None,
    values_field: Annotated[Optional[str], typer.Option("--values-field", help="For --scorer field: read chosen_<F> and rejected_<F> (per-token numbers or {start,end,value} spans).", show_default=False)] = None,
    baseline: Annotated[str, typer.Option("--baseline", help="zero, mean (over the dataset's token values) or a number.")] = "zero",
    weights: Annotated[WeightsChoice, typer.Option("--weights", help="binary: 1 on the keep side of the baseline, else 0. soft: sigmoid of the signed distance / temperature.")] = WeightsChoice.binary,
    temperature: Annotated[float, typer.Option("--temperature", help="Temperature of --weights soft.")] = 0.1,
    chat_template: Annotated[bool, typer.Option("--chat-template", help="Align to the completion ids TRL builds from the tokenizer's chat template.")] = False,
    shared_threshold: Annotated[float, typer.Option("--shared-threshold", help="Contrast scorer: character similarity (difflib ratio of the normalised texts) at or above which a segment counts as shared (value 0). 1.0: only the same text, ignoring case, punctuation and spacing.")] = DEFAULT_SHARED_THRESHOLD,
    model: Model = None,
    device: Device = "auto",
    batch_size: BatchSize = None,
    prompt_field: PromptField = None,
    prefer: Annotated[PreferChoice, typer.Option("--prefer", help="PKU-SafeRLHF rows: which response is chosen.")] = PreferChoice.safer,
    on_error: OnError = OnErrorChoice.fail,
    rejects: Rejects = None,
    resume: Resume = False,
    chunk_size: ChunkSize = DEFAULT_CHUNK_SIZE,
    quiet: Quiet = False,
    endpoint: Endpoint = None,
    judge_model: JudgeModel = None,
    api_key_env: ApiKeyEnv = DEFAULT_KEY_ENV,
    concurrency: Concurrency = 8,
    timeout: Timeout = 60.0,
    retries: Retries = 6,
    judge_temperature: Temperature = 0.0,
    judge_seed: Seed = 0,
    max_requests: MaxRequests = None,
    max_tokens: MaxTokens = None,
    cache: Cache = None,
    no_cache: NoCache = False,
) -> None:
    """Write AMA per-token weights: keep the chosen tokens that beat the baseline and the rejected tokens that fall below it.

    Example:  equidata annotate-masks pairs.jsonl -o masked.jsonl --tokenizer Qwen/Qwen2.5-0.5B-Instruct --chat-template
    """
    from equidata.ama import Aligner, annotate_file, build_scorer, load_tokenizer

    aligner = Aligner(load_tokenizer(tokenizer), "chat-template" if chat_template else "plain", name=tokenizer)

    def judge() -> JudgeConfig:
        return judge_config(
            endpoint, judge_model, api_key_env, concurrency=concurrency, timeout=timeout, retries=retries, temperature=judge_temperature,
            seed=judge_seed, max_requests=max_requests, max_tokens=max_tokens, cache=cache, no_cache=no_cache,
        )

    chosen_scorer = build_scorer(
        scorer.value, model=model, reward_model=reward_model, values_field=values_field, device=device, batch_size=batch_size, shared_threshold=shared_threshold,
        judge=judge,
    )
    total = console.input_total(input)
    with ExitStack() as stack, console.progress_bar("annotate-masks", quiet, total) as advance:
        stack.callback(getattr(chosen_scorer, "close", lambda: None))
        result = annotate_file(
            input, output, aligner=aligner, scorer=chosen_scorer, baseline=baseline, weights=weights.value, temperature=temperature,
            prompt_field=prompt_field, prefer=prefer.value, on_error=on_error.value, rejects=rejects, progress=advance,
            resume=resume, chunk_size=chunk_size,
        )
    console.empty_input_warning(result.counts.read, input)
    judged = getattr(chosen_scorer, "client", None)
    extra = [console.table("judge", ["", "count"], judged.stats.rows())] if judged is not None else []
    console.summary(quiet, *summary_tables(result), *extra)
