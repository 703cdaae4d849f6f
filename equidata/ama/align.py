"""Token alignment: the completion ids a trainer will see, and where each token sits in the response.

Two modes, recorded in each row's ``ama.alignment``:

- ``plain`` (default): ``tokenizer(response, add_special_tokens=False)``, followed by the EOS token
  that TRL appends to plain-text completions (when the tokenizer has one and the response does
  not already end with it);
- ``chat-template``: the completion ids TRL builds from the chat template, i.e. the ids of the
  full conversation minus the common prefix it shares with the prompt rendered with the
  generation prompt (for a pair, the shorter of the chosen and rejected prefixes, as TRL does).

Tokens outside the response text (EOS, end-of-turn and other template suffix tokens) carry no
offsets; annotate-masks gives them value 0, like text both responses share.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from equidata.errors import EquidataError, ParameterError
from equidata.schemas import FieldProblem

ALIGNMENTS = ("plain", "chat-template")


@dataclass(frozen=True)
class Completion:
    """Completion token ids and, per token, its ``[start, end)`` span in the response (``None``: template token)."""

    ids: list[int]
    spans: list[tuple[int, int] | None]

    @property
    def response_tokens(self) -> int:
        return sum(s is not None for s in self.spans)


def load_tokenizer(name: str) -> Any:
    """Load a fast tokenizer (offset mapping is required); refuse slow ones with a clear message."""
    from transformers import AutoTokenizer

    from equidata.embedding import locate_model

    try:
        tok = AutoTokenizer.from_pretrained(locate_model(name, "tokenizer"))
    except (OSError, ValueError) as exc:
        raise EquidataError(f"could not load tokenizer {name!r}: {exc}") from exc
    check_fast(tok, name)
    return tok


def check_fast(tok: Any, name: str) -> None:
    """Refuse a tokenizer without offset mapping (a slow, pure-Python one)."""
    if not getattr(tok, "is_fast", False):
        raise ParameterError(
            "tokenizer", "a fast tokenizer (one with a tokenizer.json, which provides the offset mapping used to align weights to tokens)",
            f"{name} ({type(tok).__name__}, a slow tokenizer)",
        )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def vocab_hash(tok: Any) -> str:
    """A short hash of the tokenizer's vocabulary (token → id)."""
    return _sha(json.dumps(sorted(tok.get_vocab().items()), ensure_ascii=False))


def template_hash(tok: Any) -> str | None:
    """A short hash of the tokenizer's chat template, ``None`` when it has none."""
    template = getattr(tok, "chat_template", None)
    if template is None:
        return None
    return _sha(template if isinstance(template, str) else json.dumps(template, sort_keys=True))


def common_prefix_length(a: list[int], b: list[int]) -> int:
    """Number of leading ids ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class Aligner:
    """Align responses to the completion ids of one tokenizer, in ``plain`` or ``chat-template`` mode."""

    def __init__(self, tokenizer: Any, mode: str = "plain", name: str | None = None) -> None:
        if mode not in ALIGNMENTS:
            raise ParameterError("alignment", f"one of {list(ALIGNMENTS)}", mode)
        self.tok, self.mode = tokenizer, mode
        self.name = name or getattr(tokenizer, "name_or_path", "")
        check_fast(tokenizer, self.name)
        if mode == "chat-template" and not getattr(tokenizer, "chat_template", None):
            raise ParameterError("chat_template", "used with a tokenizer that has a chat template", f"{self.name} (no chat template)")

    def metadata(self) -> dict[str, Any]:
        """Tokenizer identity recorded in each row's ``ama`` field."""
        return {"tokenizer": self.name, "vocab_sha256": vocab_hash(self.tok), "chat_template_sha256": template_hash(self.tok), "alignment": self.mode}

    def align_plain(self, responses: list[str]) -> list[Completion]:
        """Tokenise all ``responses`` in one call; append EOS as TRL does for plain text."""
        enc = self.tok(responses, add_special_tokens=False, return_offsets_mapping=True)
        eos = self.tok.eos_token_id
        out = []
        for ids, offsets in zip(enc["input_ids"], enc["offset_mapping"]):
            ids, spans = list(ids), [tuple(o) if o[1] > o[0] else None for o in offsets]
            if eos is not None and (not ids or ids[-1] != eos):
                ids.append(eos)
                spans.append(None)
            out.append(Completion(ids, spans))  # type: ignore[arg-type]
        return out

    def align_chat(self, messages: list[dict[str, str]], chosen: str, rejected: str) -> tuple[Completion, Completion]:
        """Completion ids of both replies under the chat template, with TRL's shared prompt prefix."""
        prompt_ids = self._template_ids(messages, add_generation_prompt=True)
        full = [self._render(messages, reply, side) for reply, side in ((chosen, "chosen"), (rejected, "rejected"))]
        prefix = min(common_prefix_length(prompt_ids, ids) for ids, _ in full)
        return tuple(Completion(ids[prefix:], spans[prefix:]) for ids, spans in full)  # type: ignore[return-value]

    def _template_ids(self, messages: list[dict[str, str]], **kwargs: Any) -> list[int]:
        return list(self.tok.apply_chat_template(messages, tokenize=True, return_dict=True, **kwargs)["input_ids"])

    def _render(self, messages: list[dict[str, str]], reply: str, side: str) -> tuple[list[int], list[tuple[int, int] | None]]:
        conversation = [*messages, {"role": "assistant", "content": reply}]
        text = self.tok.apply_chat_template(conversation, tokenize=False)
        lo = text.rfind(reply)
        offset, hi = lo, lo + len(reply)
        if lo < 0:  # templates that trim the content (`| trim`)
            core = reply.strip()
            lo = text.rfind(core)
            if lo < 0:
                raise FieldProblem(side, "the chat template rewrites the response text, so its tokens cannot be located")
            offset, hi = lo - (len(reply) - len(reply.lstrip())), lo + len(core)
        enc = self.tok(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        if ids != self._template_ids(conversation):
            raise EquidataError(f"tokenizer {self.name!r}: tokenising the rendered chat template does not give the ids apply_chat_template returns")
        spans = [(max(s, lo) - offset, min(e, hi) - offset) if s < hi and e > lo and e > s else None for s, e in enc["offset_mapping"]]
        return ids, spans
