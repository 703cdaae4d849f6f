"""AMADPOTrainer on a tiny random Llama: hand-computed loss, zero-weight gradients, plain-DPO parity, training."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import read_jsonl, run_cli, write_jsonl
from tests.helpers import PAIRS, TEMPLATE, TOKENIZER

pytest.importorskip("trl")

pytestmark = pytest.mark.slow
BETA = 0.1


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """`annotate-masks` output (contrast scorer, MiniLM tokenizer) for pairs with shared openings."""
    tmp = tmp_path_factory.mktemp("ama")
    src = write_jsonl(tmp / "pairs.jsonl", PAIRS)
    run_cli("annotate-masks", str(src), "-o", str(tmp / "masked.jsonl"), "--tokenizer", TOKENIZER, "--quiet", check=True)
    return read_jsonl(tmp / "masked.jsonl")


def make_trainer(rows: list[dict[str, Any]], tok: Any, tiny_lm: Any, tmp_path: Path, cls: Any = None, **config: Any) -> Any:
    from datasets import Dataset
    from trl import DPOConfig

    from equidata.integrations.trl import AMADPOTrainer

    args = DPOConfig(
        str(tmp_path / "run"), max_steps=2, per_device_train_batch_size=2, use_cpu=True, report_to=[], save_strategy="no",
        beta=BETA, seed=0, **config,
    )
    return (cls or AMADPOTrainer)(tiny_lm(0), ref_model=tiny_lm(1), args=args, train_dataset=Dataset.from_list(rows), processing_class=tok)


def batch_of(trainer: Any, n: int = 2) -> dict[str, Any]:
    return trainer.data_collator([trainer.train_dataset[i] for i in range(n)])


def hand_logps(model: Any, batch: dict[str, Any]) -> Any:
    """Sum over completion tokens of weight * log p(token | prefix), from the model's plain logits."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    lp = logits[:, :-1].log_softmax(-1).gather(-1, batch["input_ids"][:, 1:, None]).squeeze(-1)
    w = batch["completion_mask"][:, 1:] * batch["ama_weights"][:, 1:]
    return (lp * w).sum(1)


def test_loss_equals_a_hand_computation(annotated: list[dict[str, Any]], minilm_tokenizer: Any, tiny_lm: Any, tmp_path: Path) -> None:
    import torch
    import torch.nn.functional as F

    trainer = make_trainer(annotated, minilm_tokenizer, tiny_lm, tmp_path)
    batch = batch_of(trainer)
    w = batch["ama_weights"]
    assert ((w == 0) & (batch["completion_mask"] == 1)).any() and (w[batch["completion_mask"] == 0] == 0).all()
    loss = trainer.compute_loss(trainer.model, batch)
    with torch.no_grad():
        pc, pr = hand_logps(trainer.model, batch).chunk(2)
        rc, rr = hand_logps(trainer.ref_model, batch).chunk(2)
    expected = -F.logsigmoid(BETA * ((pc - rc) - (pr - rr))).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-6)
    ref_c, ref_r = trainer.compute_ref_log_probs(trainer.ref_model, batch)
    assert torch.allclose(ref_c, rc, atol=1e-4) and torch.allclose(ref_r, rr, atol=1e-4)


def test_zero_weight_tokens_get_no_gradient(annotated: list[dict[str, Any]], minilm_tokenizer: Any, tiny_lm: Any, tmp_path: Path) -> None:
    trainer = make_trainer(annotated, minilm_tokenizer, tiny_lm, tmp_path)
    batch = batch_of(trainer)
    raw: list[Any] = []

    def keep_raw(module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        if kwargs.get("fused_lm_head") and output.log_probs.requires_grad:
            output.log_probs.retain_grad()
            raw.append(output.log_probs)

    handle = trainer.model.register_forward_hook(keep_raw, with_kwargs=True)  # runs before the AMA weighting hook
    trainer.compute_loss(trainer.model, batch).backward()
    handle.remove()
    (lp,) = raw
    completion = batch["completion_mask"][:, 1:] == 1
    zero = completion & (batch["ama_weights"][:, 1:] == 0)
    kept = completion & (batch["ama_weights"][:, 1:] > 0)
    assert zero[:2].any() and zero[2:].any()  # masked tokens in chosen and in rejected
    assert (lp.grad[zero] == 0).all()
    assert (lp.grad[kept] != 0).all()


def test_all_ones_equals_plain_dpo(annotated: list[dict[str, Any]], minilm_tokenizer: Any, tiny_lm: Any, tmp_path: Path) -> None:
    from trl import DPOTrainer

    ones = copy.deepcopy(annotated)
    for row in ones:
        for side in ("chosen", "rejected"):
            row[f"{side}_token_weights"] = [1.0] * len(row[f"{side}_token_weights"])
    ama = make_trainer(ones, minilm_tokenizer, tiny_lm, tmp_path)
    plain = make_trainer([{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in ones], minilm_tokenizer, tiny_lm, tmp_path, cls=DPOTrainer)
    a, p = batch_of(ama, 4), batch_of(plain, 4)
    assert (a["input_ids"] == p["input_ids"]).all()
    assert ama.compute_loss(ama.model, a).item() == pytest.approx(plain.compute_loss(plain.model, p).item(), abs=1e-6)


def test_two_optimizer_steps_from_annotate_masks_output(annotated: list[dict[str, Any]], minilm_tokenizer: Any, tiny_lm: Any, tmp_path: Path) -> None:
    import torch

    trainer = make_trainer(annotated, minilm_tokenizer, tiny_lm, tmp_path, precompute_ref_log_probs=True, learning_rate=1e-3)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    result = trainer.train()
    assert trainer.state.global_step == 2 and torch.isfinite(torch.tensor(result.training_loss))
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, trainer.model.parameters()))


def test_mismatched_annotation_is_refused_with_a_reannotation_hint(annotated: list[dict[str, Any]], minilm_tokenizer: Any, tiny_lm: Any, tmp_path: Path) -> None:
    from equidata.integrations.trl import AMAAlignmentError

    other_vocab = copy.deepcopy(annotated)
    for row in other_vocab:
        row["ama"]["vocab_sha256"] = "0" * 16
    with pytest.raises(AMAAlignmentError, match="vocabulary differs.*equidata annotate-masks DATA -o OUT --tokenizer"):
        make_trainer(other_vocab, minilm_tokenizer, tiny_lm, tmp_path)
    shifted = copy.deepcopy(annotated)
    shifted[1]["rejected_token_ids"] = shifted[1]["rejected_token_ids"][1:]
    shifted[1]["rejected_token_weights"] = shifted[1]["rejected_token_weights"][1:]
    with pytest.raises(AMAAlignmentError, match="row 1, rejected: TRL's completion ids differ"):
        make_trainer(shifted, minilm_tokenizer, tiny_lm, tmp_path)
    with pytest.raises(AMAAlignmentError, match="no .* columns; run `equidata annotate-masks`"):
        make_trainer([{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in annotated], minilm_tokenizer, tiny_lm, tmp_path)


def test_chat_template_annotation_trains_with_the_same_template(minilm_tokenizer: Any, tiny_lm: Any, tmp_path: Path) -> None:
    tok = copy.deepcopy(minilm_tokenizer)
    tok.chat_template = TEMPLATE
    tok.save_pretrained(tmp_path / "tok")
    conv = [{"prompt": [{"role": "user", "content": p["prompt"]}], "chosen": [{"role": "assistant", "content": p["chosen"]}],
             "rejected": [{"role": "assistant", "content": p["rejected"]}]} for p in PAIRS]
    src = write_jsonl(tmp_path / "conv.jsonl", conv)
    run_cli("annotate-masks", str(src), "-o", str(tmp_path / "masked.jsonl"), "--tokenizer", str(tmp_path / "tok"), "--chat-template", "--quiet", check=True)
    rows = read_jsonl(tmp_path / "masked.jsonl")
    trainer = make_trainer(rows, tok, tiny_lm, tmp_path)
    ex = trainer.train_dataset[0]
    assert ex["chosen_ids"] == rows[0]["chosen_token_ids"] and ex["ama_chosen_weights"] == rows[0]["chosen_token_weights"]
    from equidata.integrations.trl import AMAAlignmentError

    plain_tok = copy.deepcopy(minilm_tokenizer)
    plain_tok.chat_template = TEMPLATE.replace("<|end|>", "<|eot|>")
    with pytest.raises(AMAAlignmentError, match="another chat template.*--chat-template"):
        make_trainer(rows, plain_tok, tiny_lm, tmp_path)
