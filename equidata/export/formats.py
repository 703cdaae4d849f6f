"""Trainer-ready record layouts for a :class:`~equidata.schemas.Pair`.

- ``trl``: TRL standard preference (``prompt``/``chosen``/``rejected`` strings, explicit prompt);
- ``trl-chat``: TRL conversational (``prompt`` is the message list, ``chosen``/``rejected`` are
  one-message assistant lists);
- ``openrlhf``: ``prompt``/``chosen``/``rejected`` strings, for ``--prompt_key prompt --chosen_key
  chosen --rejected_key rejected``;
- ``llamafactory``: Alpaca ranking columns ``instruction``/``input``/``chosen``/``rejected`` plus
  ``system`` and ``history`` (earlier ``[user, assistant]`` turns);
- ``prompt-only``: ``{"prompt": ...}`` for PPO/GRPO, responses dropped.

String formats render a multi-turn prompt as an HH-RLHF transcript (``\\n\\nHuman: ...\\n\\nAssistant:``);
a single-turn prompt is the user text unchanged.
"""

from __future__ import annotations

from typing import Any

from equidata.schemas import FieldProblem, Pair

FORMATS = ("trl", "trl-chat", "openrlhf", "llamafactory", "prompt-only")
META_FIELDS = ("risk_group", "risk_scores", "risk_confidence")
_SPEAKER = {"user": "Human", "human": "Human", "assistant": "Assistant"}


def render_prompt(messages: list[dict[str, str]]) -> str:
    """The user text of a single-turn prompt, or an HH-RLHF transcript ending with ``Assistant:``."""
    if len(messages) == 1:
        return messages[0]["content"]
    turns = "".join(f"\n\n{_SPEAKER.get(m['role'], m['role'].capitalize())}: {m['content']}" for m in messages)
    return turns + "\n\nAssistant:"


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
    if fmt == "trl-chat":
        rec: dict[str, Any] = {"prompt": pair.messages}
        if with_responses:
            rec["chosen"] = [{"role": "assistant", "content": pair.chosen}]
            rec["rejected"] = [{"role": "assistant", "content": pair.rejected}]
        return rec
    rec = {"prompt": render_prompt(pair.messages)}
    if with_responses:
        rec.update(chosen=pair.chosen, rejected=pair.rejected)
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
