"""The answer contract between equidata and any judge: one JSON object per request.

Each task names a JSON schema, sent as ``response_format`` (``json_schema``, which vLLM, SGLang,
Ollama and OpenAI honour). The answer is accepted when the message content is exactly that JSON
object, bare or as the only thing in a fenced code block; anything else (prose, a truncated object,
a wrong label) is a :class:`ContractError`, which the client retries and then rejects.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from equidata.groups import RISK_GROUPS

_FENCE = re.compile(r"\A```[A-Za-z0-9_-]*[ \t]*\n(.*?)\n?```\Z", re.DOTALL)


class ContractError(ValueError):
    """An answer that is not the JSON object the task asks for."""


@dataclass(frozen=True)
class Task:
    """One kind of request: the schema the answer must follow and how to read it."""

    name: str
    schema: dict[str, Any]
    read: Callable[[dict[str, Any]], Any]

    def response_format(self) -> dict[str, Any]:
        """The ``response_format`` field of a chat-completions request."""
        return {"type": "json_schema", "json_schema": {"name": self.name, "schema": self.schema, "strict": True}}

    def parse(self, content: str | None) -> Any:
        """The task's value from an answer's message content, or :class:`ContractError`."""
        return self.read(load_object(content))


def load_object(content: str | None) -> dict[str, Any]:
    """The JSON object in ``content``: bare, or alone in a fenced code block."""
    if not isinstance(content, str) or not content.strip():
        raise ContractError("empty answer")
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(f"not a JSON object ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ContractError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ContractError(f"{key!r} must be a non-empty string")
    return value.strip()


def _label(obj: dict[str, Any]) -> tuple[str, str]:
    label = obj.get("label")
    if label not in RISK_GROUPS:
        raise ContractError(f"'label' must be one of {list(RISK_GROUPS)}, got {label!r}")
    rationale = obj.get("rationale", "")
    if not isinstance(rationale, str):
        raise ContractError("'rationale' must be a string")
    return label, rationale.strip()


LABEL = Task(
    "risk_label",
    {
        "type": "object",
        "properties": {"label": {"type": "string", "enum": list(RISK_GROUPS)}, "rationale": {"type": "string"}},
        "required": ["label", "rationale"],
        "additionalProperties": False,
    },
    _label,
)

QUERY = Task(
    "fused_query",
    {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"], "additionalProperties": False},
    lambda obj: _text(obj, "query"),
)


def scores_task(n: int) -> Task:
    """``{"scores": [n numbers in [-1, 1]]}``: one value per response segment."""

    def read(obj: dict[str, Any]) -> list[float]:
        scores = obj.get("scores")
        if not isinstance(scores, list) or len(scores) != n:
            raise ContractError(f"'scores' must be a list of {n} numbers, got {scores!r}"[:200])
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and -1.0 <= v <= 1.0 for v in scores)
        if not ok:
            raise ContractError("'scores' must hold numbers in [-1, 1]")
        return [float(v) for v in scores]

    number = {"type": "number", "minimum": -1, "maximum": 1}
    schema = {
        "type": "object",
        "properties": {"scores": {"type": "array", "items": number, "minItems": n, "maxItems": n}},
        "required": ["scores"],
        "additionalProperties": False,
    }
    return Task("segment_scores", schema, read)
