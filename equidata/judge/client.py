"""An async client for any OpenAI-compatible chat-completions server (vLLM, SGLang, TGI, Ollama, hosted APIs).

:class:`JudgeClient` sends many requests with bounded concurrency, retries 429, 5xx, malformed
bodies, timeouts and connection errors with exponential backoff and jitter (honouring
``Retry-After``), re-asks when an answer breaks the contract (:mod:`equidata.judge.contract`), keeps
every good answer in the SQLite cache, and stops before a request that would exceed the budget.
The API key is read from the environment variable the config names and only ever put in the
``Authorization`` header: it is never logged, cached or written.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2 as httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from equidata.errors import EquidataError, ParameterError
from equidata.judge.cache import ResponseCache, request_key
from equidata.judge.contract import ContractError, Task
from equidata.judge.prompts import TEMPLATE_VERSION

URL_ENV, MODEL_ENV, CACHE_ENV = "EQUIDATA_JUDGE_URL", "EQUIDATA_JUDGE_MODEL", "EQUIDATA_JUDGE_CACHE"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
MAX_RETRY_AFTER = 300.0


class JudgeError(EquidataError):
    """The judge cannot be used: unreachable, refusing the key, or failing past the retries (exit 1)."""


class BudgetExhausted(JudgeError):
    """The request or token budget is spent; answers so far are cached, so a rerun continues."""


class _Transient(Exception):
    """A reply worth retrying: 429, 5xx or a body that is not a chat completion."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Refused(Exception):
    """A 4xx reply about this one request (e.g. too long): that row is rejected."""


def default_cache_path() -> Path:
    """``$EQUIDATA_JUDGE_CACHE``, else ``$XDG_CACHE_HOME/equidata/judge.sqlite`` (``~/.cache`` by default)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "equidata" / "judge.sqlite"


def redact(url: str) -> str:
    """``url`` without any user:password part, for messages."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


@dataclass(frozen=True)
class JudgeConfig:
    """Where the judge is and how to talk to it. ``endpoint``/``model`` fall back to the environment."""

    endpoint: str | None = None
    model: str | None = None
    api_key_env: str = DEFAULT_KEY_ENV
    concurrency: int = 8
    timeout: float = 60.0
    retries: int = 6
    answer_retries: int = 2
    backoff: float = 1.0
    temperature: float = 0.0
    answer_tokens: int = 512
    seed: int = 0
    max_requests: int | None = None
    max_tokens: int | None = None
    cache: Path | None = field(default_factory=default_cache_path)

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoint", self.endpoint or os.environ.get(URL_ENV))
        object.__setattr__(self, "model", self.model or os.environ.get(MODEL_ENV))
        if not self.endpoint:
            raise ParameterError("endpoint", f"given (--endpoint URL or {URL_ENV}), e.g. http://localhost:8000/v1", self.endpoint)
        if urlsplit(self.endpoint).scheme not in ("http", "https"):
            raise ParameterError("endpoint", "an http:// or https:// URL", redact(self.endpoint))
        if not self.model:
            raise ParameterError("judge_model", f"given (--judge-model NAME or {MODEL_ENV})", self.model)
        for name, lo in (("concurrency", 1), ("retries", 0), ("answer_retries", 0), ("answer_tokens", 1)):
            if getattr(self, name) < lo:
                raise ParameterError(name, f"an integer >= {lo}", getattr(self, name))
        if not self.timeout > 0 or self.backoff < 0 or self.temperature < 0:
            raise ParameterError("timeout/backoff/temperature", "positive / non-negative", (self.timeout, self.backoff, self.temperature))

    @property
    def url(self) -> str:
        """The chat-completions URL: ``ENDPOINT/chat/completions`` unless the endpoint already is one."""
        base = str(self.endpoint).rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"

    def identity(self) -> dict[str, Any]:
        """What makes answers what they are (for resume checks): model, template, sampling; never the key."""
        return {"judge model": self.model, "judge templates": TEMPLATE_VERSION, "judge sampling": [self.temperature, self.answer_tokens, self.seed]}


@dataclass(frozen=True)
class Ask:
    """One request: its messages, the task its answer must meet, and which sample it is (votes)."""

    messages: list[dict[str, str]]
    task: Task
    sample: int = 0
    temperature: float | None = None


@dataclass(frozen=True)
class Failure:
    """A request whose answers all broke the contract (or that the server refused): why, and the last raw answer."""

    reason: str
    raw: str | None = None


@dataclass
class JudgeStats:
    """Counts for the summary. asked = cached + answered + failed (+ unsent when a budget stops a run).

    ``cached`` counts requests answered without sending: from the cache, or as a repeat of a request in the same batch.
    """

    asked: int = 0
    cached: int = 0
    answered: int = 0
    failed: int = 0
    http_requests: int = 0
    retries: int = 0
    bad_answers: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def rows(self) -> list[list[Any]]:
        return [[k.replace("_", " "), v] for k, v in vars(self).items()]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, (_Transient, httpx.TransportError))


class JudgeClient:
    """Send :class:`Ask` requests in batches: ``ask(asks)`` returns parsed values or :class:`Failure`, in order."""

    def __init__(self, config: JudgeConfig) -> None:
        self.config = config
        self.stats = JudgeStats()
        key = os.environ.get(config.api_key_env)
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._cache = ResponseCache(config.cache)
        self._loop = asyncio.new_event_loop()
        self._http: httpx.AsyncClient | None = None
        self._sem: asyncio.Semaphore | None = None
        self._backoff = wait_exponential_jitter(multiplier=config.backoff, max=60, jitter=config.backoff)

    def __enter__(self) -> JudgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections, the cache and the event loop."""
        if self._loop.is_closed():
            return
        if self._http is not None:
            self._loop.run_until_complete(self._http.aclose())
        self._loop.close()
        self._cache.close()

    def body(self, ask: Ask) -> dict[str, Any]:
        """The JSON body of ``ask``: model, messages, sampling settings and the answer's schema."""
        c = self.config
        return {
            "model": c.model,
            "messages": ask.messages,
            "temperature": c.temperature if ask.temperature is None else ask.temperature,
            "max_tokens": c.answer_tokens,
            "seed": c.seed + ask.sample,
            "response_format": ask.task.response_format(),
        }

    def ask(self, asks: Sequence[Ask]) -> list[Any]:
        """Answer every request (cache first); raises :class:`JudgeError` once all in flight have settled."""
        return self._loop.run_until_complete(self._ask_all(asks))

    async def _ask_all(self, asks: Sequence[Ask]) -> list[Any]:
        if self._http is None:
            c = self.config
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(c.timeout), limits=httpx.Limits(max_connections=c.concurrency, max_keepalive_connections=c.concurrency))
            self._sem = asyncio.Semaphore(c.concurrency)
        bodies = [self.body(a) for a in asks]
        keys = [request_key(b, TEMPLATE_VERSION) for b in bodies]
        first = {k: i for i, k in reversed(list(enumerate(keys)))}  # identical requests in a batch are sent once
        self.stats.asked += len(asks)
        self.stats.cached += len(asks) - len(first)
        results = await asyncio.gather(*(self._one(asks[i], bodies[i], k) for k, i in first.items()), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        by_key = dict(zip(first, results))
        return [by_key[k] for k in keys]

    def _spent(self) -> str | None:
        c, s = self.config, self.stats
        if c.max_requests is not None and s.http_requests >= c.max_requests:
            return f"--max-requests {c.max_requests}"
        if c.max_tokens is not None and s.prompt_tokens + s.completion_tokens >= c.max_tokens:
            return f"--max-tokens {c.max_tokens}"
        return None

    async def _one(self, ask: Ask, body: dict[str, Any], key: str) -> Any:
        hit = self._cache.get(key)
        if hit is not None:
            self.stats.cached += 1
            return ask.task.parse(hit)
        assert self._sem is not None
        async with self._sem:
            reason, raw = "", None
            for _ in range(1 + self.config.answer_retries):
                try:
                    raw, finish, usage = await self._post(body)
                except _Refused as exc:
                    self.stats.failed += 1
                    return Failure(str(exc))
                try:
                    if finish == "length":
                        raise ContractError(f"answer cut off at max_tokens {self.config.answer_tokens} (finish_reason length)")
                    value = ask.task.parse(raw)
                except ContractError as exc:
                    self.stats.bad_answers += 1
                    reason = str(exc)
                    continue
                self._cache.put(key, raw, *usage)  # type: ignore[arg-type]
                self.stats.answered += 1
                return value
            self.stats.failed += 1
            return Failure(f"the judge's answer broke the JSON contract {1 + self.config.answer_retries} times: {reason}", raw)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return max(self._backoff(state), getattr(exc, "retry_after", None) or 0.0)

    async def _post(self, body: dict[str, Any]) -> tuple[str | None, str | None, tuple[int, int]]:
        retrying = AsyncRetrying(stop=stop_after_attempt(1 + self.config.retries), wait=self._wait, retry=retry_if_exception(_transient), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        self.stats.retries += 1
                    return await self._send(body)
        except (_Transient, httpx.TransportError) as exc:
            what = f"{type(exc).__name__}: {exc}" if isinstance(exc, httpx.TransportError) else str(exc)
            raise JudgeError(
                f"the judge at {redact(self.config.url)} failed {1 + self.config.retries} times in a row ({what}); "
                "answers so far are cached: rerun (with --resume) when it is back"
            ) from None
        raise AssertionError("unreachable")

    async def _send(self, body: dict[str, Any]) -> tuple[str | None, str | None, tuple[int, int]]:
        spent = self._spent()
        if spent:
            raise BudgetExhausted(f"the judge budget ({spent}) is spent; answers so far are cached: rerun with --resume and a larger budget to continue")
        self.stats.http_requests += 1
        assert self._http is not None
        resp = await self._http.post(self.config.url, json=body, headers=self._headers)
        if resp.status_code == 429 or resp.status_code >= 500:
            raise _Transient(f"HTTP {resp.status_code}", _retry_after(resp.headers.get("retry-after")))
        if resp.status_code in (401, 403, 404):
            raise JudgeError(f"the judge at {redact(self.config.url)} answered HTTP {resp.status_code}: {resp.text[:300]} (check --endpoint, --judge-model and --api-key-env)")
        if resp.status_code >= 400:
            raise _Refused(f"the judge refused the request: HTTP {resp.status_code}: {resp.text[:300]}")
        try:
            data = resp.json()
            choice = data["choices"][0]
            content, finish = choice["message"].get("content"), choice.get("finish_reason")
            usage = data.get("usage") or {}
            tokens = (int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise _Transient("a reply that is not a chat completion") from None
        self.stats.prompt_tokens += tokens[0]
        self.stats.completion_tokens += tokens[1]
        return content, finish, tokens
