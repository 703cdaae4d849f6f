"""Detect which dataset schema a row follows and pull the prompt out of it.

Supported (checked in this order, first match wins):

- ``pku-saferlhf``: ``prompt`` plus ``response_0``/``response_1`` and ``safer_response_id`` or ``better_response_id``;
- ``trl-conversational``: ``prompt`` or ``messages`` as a list of ``{role, content}`` dicts; the prompt is
  the last user turn and the messages before it are kept as context;
- ``hh-rlhf``: ``chosen``/``rejected`` transcripts of ``"\\n\\nHuman: ..."``/``"\\n\\nAssistant: ..."`` turns;
  the prompt dialogue is everything before the final Assistant turn, its last Human turn the prompt;
- ``plain``: the first string field among :data:`PROMPT_KEYS` (``trl-preference`` when it also has
  ``chosen``/``rejected``).

``--prompt-field`` names the field outright; it may hold a string or a message list.

What the risk classifier reads is :meth:`Prompt.classified_text`: every user turn of the prompt
dialogue (``turns="all"``, the default), or only the last (``"last"``). A single-turn row reads the same
either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any

from equidata.errors import InputError


#: Fields tried, in order, for a plain prompt. ``question_y`` is the Equilibrate-RLHF authors' name.
PROMPT_KEYS: tuple[str, ...] = ("prompt", "question", "instruction", "query", "input", "question_y")
_HH_TURN = re.compile(r"\n\n(Human|Assistant):[ ]?")
_HH_ROLES = {"Human": "user", "Assistant": "assistant"}
USER_ROLES = ("user", "human")
#: ``--turns``: classify from every user turn of a dialogue, or from its last user turn only.
TURNS = ("all", "last")
#: Joins the user turns in the classified text.
TURN_SEPARATOR = "\n"


class FieldProblem(ValueError):
    """A row whose schema field is missing or unusable; becomes a reject for that row."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class Prompt:
    """The last user turn (``text``) and the conversation before it (``context``)."""

    text: str
    context: list[dict[str, str]] = field(default_factory=list)

    @property
    def user_turns(self) -> list[str]:
        """Every user turn of the prompt dialogue, oldest first; the last one is ``text``."""
        return [m["content"] for m in self.context if m["role"] in USER_ROLES] + [self.text]

    def classified_text(self, turns: str = "all") -> str:
        """What the risk classifier reads: the last user turn (``last``), or all of them (``all``).

        ``all`` joins the user turns most recent first, so that the encoder's window (256 tokens for
        MiniLM), which keeps a text's beginning, drops the oldest turns of a long dialogue first and
        never the latest. A single-turn prompt is its own text either way.
        """
        if turns not in TURNS:
            raise ValueError(f"turns must be one of {TURNS}, got {turns!r}")
        return self.text if turns == "last" else TURN_SEPARATOR.join(reversed(self.user_turns))


def parse_hh(transcript: str, field_name: str = "chosen") -> list[dict[str, str]]:
    """Split an HH-RLHF transcript into ``{role, content}`` messages."""
    parts = _HH_TURN.split(transcript)
    if len(parts) < 3:
        raise FieldProblem(field_name, "not an HH-RLHF transcript (no '\\n\\nHuman:' turn)")
    return [{"role": _HH_ROLES[role], "content": text.strip()} for role, text in zip(parts[1::2], parts[2::2])]


def normalise_messages(value: Any, field_name: str) -> list[dict[str, str]]:
    """Validate a TRL conversational list; content parts ``[{type: text, text}]`` are joined."""
    if not isinstance(value, list) or not value:
        raise FieldProblem(field_name, "expected a non-empty list of {role, content} messages")
    out = []
    for i, msg in enumerate(value):
        if not isinstance(msg, dict) or "role" not in msg or "content" not in msg:
            raise FieldProblem(field_name, f"message {i} is not a {{role, content}} dict")
        content = msg["content"]
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            raise FieldProblem(field_name, f"message {i} content is {type(content).__name__}, not text")
        out.append({"role": str(msg["role"]), "content": content})
    return out


def _last_user_turn(messages: list[dict[str, str]], field_name: str) -> Prompt:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i]["role"] in USER_ROLES:
            return Prompt(_non_empty(messages[i]["content"], field_name), messages[:i])
    raise FieldProblem(field_name, "no user turn in the conversation")


#: Text that shows nothing: whitespace, control characters (NUL...) and zero-width or format characters.
_BLANK = re.compile(r"[\s\x00-\x1f\x7f\u00ad\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]*")


def _non_empty(text: Any, field_name: str) -> str:
    if not isinstance(text, str):
        raise FieldProblem(field_name, f"expected text, got {type(text).__name__}")
    if _BLANK.fullmatch(text):
        raise FieldProblem(field_name, "empty prompt")  # also when only control or zero-width characters
    return text


@dataclass(frozen=True)
class Schema:
    """A detected schema: its name and the field the prompt is read from."""

    name: str
    field: str

    def prompt(self, row: dict[str, Any]) -> Prompt:
        """The row's prompt; raises :class:`FieldProblem` when it is missing or unusable."""
        if self.field not in row or row[self.field] is None:
            raise FieldProblem(self.field, "missing")
        value = row[self.field]
        if self.name == "hh-rlhf":
            turns = parse_hh(_non_empty(value, self.field), self.field)
            if turns[-1]["role"] == "assistant":
                turns = turns[:-1]
            return _last_user_turn(turns, self.field)
        if isinstance(value, list):
            return _last_user_turn(normalise_messages(value, self.field), self.field)
        return Prompt(_non_empty(value, self.field))


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "role" in m for m in value)


def detect_schema(row: dict[str, Any], prompt_field: str | None = None, *, source: str | None = None) -> Schema:
    """Choose the schema from one row (the first valid one of a file).

    Raises :class:`InputError` naming the fields that were found when nothing matches.
    """
    keys = set(row)
    if prompt_field:
        if prompt_field not in keys:
            raise InputError(f"prompt field not found; fields found: {sorted(keys)}", path=source, field=prompt_field)
        return Schema("conversational" if _is_messages(row[prompt_field]) else "plain", prompt_field)
    if "prompt" in keys and {"response_0", "response_1"} <= keys and keys & {"safer_response_id", "better_response_id"}:
        return Schema("pku-saferlhf", "prompt")
    for key in ("prompt", "messages"):
        if _is_messages(row.get(key)):
            return Schema("trl-conversational", key)
    if "prompt" not in keys and isinstance(row.get("chosen"), str) and "\n\nHuman:" in row["chosen"]:
        return Schema("hh-rlhf", "chosen")
    for key in PROMPT_KEYS:
        if isinstance(row.get(key), str):
            return Schema("trl-preference" if {"chosen", "rejected"} <= keys else "plain", key)
    raise InputError(
        f"no prompt field found; fields found: {sorted(keys)}; expected one of {list(PROMPT_KEYS)}, "
        "'messages', HH-RLHF 'chosen'/'rejected', or pass --prompt-field",
        path=source,
    )


def detect_schema_of(rows: Iterable[dict[str, Any]], prompt_field: str | None = None, *, source: str | None = None) -> Schema | None:
    """The schema of the first of ``rows`` that has one (a bad first row is rejected later, by line).

    ``None`` for no rows; when none of them matches, the first row's :class:`InputError`.
    """
    first: InputError | None = None
    for data in rows:
        try:
            return detect_schema(data, prompt_field, source=source)
        except InputError as exc:
            first = first or exc
    if first is not None:
        raise first
    return None


PREFER = ("safer", "better")


@dataclass(frozen=True)
class Pair:
    """A preference pair in one shape for every schema.

    ``messages`` is the prompt conversation (context plus the last user turn); ``chosen`` and
    ``rejected`` are the final assistant replies, both ``None`` for a prompt-only row.
    """

    messages: list[dict[str, str]]
    chosen: str | None = None
    rejected: str | None = None

    @property
    def prompt(self) -> str:
        """The last user turn."""
        return self.messages[-1]["content"]

    @property
    def has_responses(self) -> bool:
        return self.chosen is not None


def _reply(value: Any, field_name: str) -> str:
    """A response given as text or as a TRL conversational list ending in an assistant turn."""
    if isinstance(value, list):
        msgs = normalise_messages(value, field_name)
        if msgs[-1]["role"] != "assistant":
            raise FieldProblem(field_name, "the last message is not an assistant turn")
        return msgs[-1]["content"]
    if not isinstance(value, str):
        raise FieldProblem(field_name, "missing" if value is None else f"expected text, got {type(value).__name__}")
    return value


def _hh_split(row: dict[str, Any], field_name: str) -> tuple[list[dict[str, str]], str]:
    turns = parse_hh(_non_empty(row.get(field_name), field_name), field_name)
    if turns[-1]["role"] != "assistant":
        raise FieldProblem(field_name, "the transcript does not end with an Assistant turn")
    return turns[:-1], turns[-1]["content"]


def extract_pair(schema: Schema, row: dict[str, Any], prefer: str = "safer") -> Pair:
    """The preference pair of ``row`` (prompt-only when the row holds no responses).

    PKU-SafeRLHF rows are ordered by ``<prefer>_response_id`` (``safer`` by default). Raises
    :class:`FieldProblem` for a row whose responses are missing or inconsistent.
    """
    if prefer not in PREFER:
        raise ValueError(f"prefer must be one of {PREFER}, got {prefer!r}")
    if schema.name == "hh-rlhf":
        dialogue, chosen = _hh_split(row, "chosen")
        other, rejected = _hh_split(row, "rejected")
        if other != dialogue:
            raise FieldProblem("rejected", "chosen and rejected transcripts differ before the final Assistant turn")
        _last_user_turn(dialogue, "chosen")
        return Pair(dialogue, chosen, rejected)
    prompt = schema.prompt(row)
    messages = [*prompt.context, {"role": "user", "content": prompt.text}]
    if schema.name == "pku-saferlhf":
        key = f"{prefer}_response_id"
        best = row.get(key)
        if best not in (0, 1, "0", "1"):
            raise FieldProblem(key, f"expected 0 or 1, got {best!r}")
        best = int(best)
        return Pair(messages, _reply(row.get(f"response_{best}"), f"response_{best}"), _reply(row.get(f"response_{1 - best}"), f"response_{1 - best}"))
    if "chosen" in row or "rejected" in row:
        return Pair(messages, _reply(row.get("chosen"), "chosen"), _reply(row.get("rejected"), "rejected"))
    return Pair(messages)
