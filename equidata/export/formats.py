"""Trainer-ready record layouts for a :class:`~equidata.schemas.Pair`.

- ``trl``: TRL standard preference strings. TRL (and OpenRLHF without a chat template) join
  ``prompt + chosen`` as strings, so the prompt is an HH-RLHF transcript ending in
  ``\\n\\nAssistant:`` and each response starts with the separating space (on a token boundary,
  as TRL asks: ``"...Assistant:" + " Sure"``);
- ``trl-chat``: TRL conversational (``prompt`` is the message list, ``chosen``/``rejected`` are
  one-message assistant lists); the trainer applies the model's chat template;
- ``openrlhf``: OpenRLHF's own preference layout, ``chosen``/``rejected`` as whole conversations
  (prompt messages plus the reply), read with ``--apply_chat_template --chosen_key chosen
  --rejected_key rejected`` and no ``--prompt_key``;
- ``llamafactory``: Alpaca ranking columns ``instruction``/``input``/``chosen``/``rejected`` plus
  ``system`` and ``history`` (earlier ``[user, assistant]`` turns); LLaMA-Factory's ``template``
  renders them, so the texts carry no separators;
- ``prompt-only``: ``{"prompt": ...}`` for PPO/GRPO, responses dropped: the user text of a
  single-turn prompt, an HH-RLHF transcript of a multi-turn one.

See docs/export.md for the trainer flags that go with each.
"""

from __future__ import annotations

from typing import Any

from equidata.groups import RISK_FIELDS
from equidata.schemas import FieldProblem, Pair

FORMATS = ("trl", "trl-chat", "openrlhf", "llamafactory", "prompt-only")
META_FIELDS = RISK_FIELDS
_SPEAKER = {"user": "Human", "human": "Human", "assistant": "Assistant"}


#: Starts each response of a string format, after a prompt ending in ``Assistant:``.
RESPONSE_SEPARATOR = " "


def transcript(messages: list[dict[str, str]]) -> str:
    """An HH-RLHF transcript of the prompt, ending with ``\\n\\nAssistant:`` (what the reply follows)."""
    turns = "".join(f"\n\n{_SPEAKER.get(m['role'], m['role'].capitalize())}: {m['content']}" for m in messages)
    return turns + "\n\nAssistant:"


def render_prompt(messages: list[dict[str, str]]) -> str:
    """The user text of a single-turn prompt, or an HH-RLHF transcript (``prompt-only``)."""
    return messages[0]["content"] if len(messages) == 1 else transcript(messages)


def _alpaca_prompt(messages: list[dict[str, str]]) -> dict[str, Any]:
    """``system``, ``history`` pairs and the last user turn as ``instruction``."""
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    turns = messages[1:] if system else messages
    pairs = list(zip(turns[:-1:2], turns[1:-1:2]))
    if len(turns) % 2 == 0 or not all(u["role"] in ("user", "human") and a["role"] == "assistant" for u, a in pairs):
        raise FieldProblem("prompt", "the conversation does not alternate user and assistant turns; use --format trl-chat")
    history = [[u["content"], a["content"]] for u, a in pairs]
    return {"instruction": turns[-1]["content"], "input": "", "system": system, "history": history}


def render(fmt: str, pair: Pair, *, with_responses: bool) -> dict[str, Any]:
    """One exported record of ``pair`` in ``fmt`` (prompt-only when ``with_responses`` is false)."""
    if fmt == "llamafactory":
        rec = _alpaca_prompt(pair.messages)
        if with_responses:
            rec = {**{k: rec[k] for k in ("instruction", "input")}, "chosen": pair.chosen, "rejected": pair.rejected, "system": rec["system"], "history": rec["history"]}
        return rec
    if fmt in ("trl-chat", "openrlhf"):
        reply = {side: [{"role": "assistant", "content": text}] for side, text in (("chosen", pair.chosen), ("rejected", pair.rejected))}
        if not with_responses:
            return {"prompt": pair.messages}
        if fmt == "openrlhf":
            return {side: pair.messages + reply[side] for side in reply}
        return {"prompt": pair.messages, **reply}
    if fmt == "prompt-only":
        return {"prompt": render_prompt(pair.messages)}
    rec: dict[str, Any] = {"prompt": transcript(pair.messages)}
    if with_responses:
        rec.update({side: RESPONSE_SEPARATOR + text.lstrip(" ") for side, text in (("chosen", pair.chosen), ("rejected", pair.rejected))})  # type: ignore[union-attr]
    return rec


def dataset_info(name: str, file_name: str, *, ranking: bool) -> dict[str, Any]:
    """The LLaMA-Factory ``dataset_info.json`` entry for a ``llamafactory`` export."""
    columns = {"prompt": "instruction", "query": "input", "system": "system", "history": "history"}
    if ranking:
        columns.update(chosen="chosen", rejected="rejected")
    entry: dict[str, Any] = {"file_name": file_name, "formatting": "alpaca", "columns": columns}
    if ranking:
        entry["ranking"] = True
    return {name: entry}
