"""A damaged head, a model or tokenizer that is not on this machine, a device it lacks: clean errors, no files left."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from equidata.classifier.head import CONFIG_FILE, WEIGHTS_FILE, HeadConfig, RiskHead, load_head, save_head
from equidata.embedding import available_devices, locate_model, resolve_device
from equidata.errors import EquidataError, InputError, ParameterError
from tests.helpers import run_cli, write_jsonl

PROMPTS = [{"id": 1, "prompt": "How do I pick a lock?"}, {"id": 2, "prompt": "What is the capital of France?"}]


@pytest.fixture(autouse=True)
def _wide_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one message, one line: paths are never folded


def clean_failure(proc: subprocess.CompletedProcess[bytes], code: int, *fragments: str) -> str:
    """Assert the exit code, a one-line message holding ``fragments``, and no traceback."""
    err = proc.stderr.decode()
    assert proc.returncode == code, err
    assert "Traceback" not in err and err.startswith("error: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def no_output_left(folder: Path, *kept: str) -> None:
    """Nothing but the test's own files: no output, partial, checkpoint or rejects file."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(kept)


def small_head(folder: Path, dim: int = 8, **config: Any) -> Path:
    head = RiskHead(HeadConfig("sentence-transformers/all-MiniLM-L6-v2", dim, **config))
    return save_head(head, folder)


def edit_config(head: Path, **changes: Any) -> None:
    cfg = json.loads((head / CONFIG_FILE).read_text())
    cfg.update(changes)
    (head / CONFIG_FILE).write_text(json.dumps(cfg))


def classify(tmp_path: Path, head: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    write_jsonl(work / "in.jsonl", PROMPTS)
    return run_cli("classify", str(work / "in.jsonl"), "-o", str(work / "out.jsonl"), "--head", str(head), "--device", "cpu", *extra)


def _unknown_key(h: Path) -> None:
    edit_config(h, temperature=0.7)


def _nan_scale(h: Path) -> None:
    (h / CONFIG_FILE).write_text((h / CONFIG_FILE).read_text().replace('"input_scale": 1.0', '"input_scale": NaN'))


def _list_json(h: Path) -> None:
    (h / CONFIG_FILE).write_text("[1, 2, 3]")


def _bad_json(h: Path) -> None:
    (h / CONFIG_FILE).write_text('{"format": ')


def _wrong_type(h: Path) -> None:
    edit_config(h, hidden="four")


def _wrong_dim(h: Path) -> None:
    edit_config(h, embedding_dim=384)


def _wrong_shape(h: Path) -> None:
    from safetensors.torch import save_file

    save_file({"net.1.weight": torch.zeros(4, 5), "net.1.bias": torch.zeros(4), "bias": torch.zeros(4)}, str(h / WEIGHTS_FILE))


def _missing_tensor(h: Path) -> None:
    from safetensors.torch import save_file

    save_file({"net.1.weight": torch.zeros(4, 8), "bias": torch.zeros(4)}, str(h / WEIGHTS_FILE))


def _nan_tensor(h: Path) -> None:
    from safetensors.torch import save_file

    save_file({"net.1.weight": torch.full((4, 8), math.nan), "net.1.bias": torch.zeros(4), "bias": torch.zeros(4)}, str(h / WEIGHTS_FILE))


def _not_safetensors(h: Path) -> None:
    (h / WEIGHTS_FILE).write_bytes(b"PK\x03\x04 this is a zip, not safetensors")


# (damage, file the message names, field it names, words of the reason)
DAMAGE = {
    "unknown key": (_unknown_key, CONFIG_FILE, "field 'temperature'", "unknown key"),
    "NaN input_scale": (_nan_scale, CONFIG_FILE, "", "NaN is not valid JSON"),
    "a list as JSON": (_list_json, CONFIG_FILE, "", "expected a JSON object"),
    "truncated JSON": (_bad_json, CONFIG_FILE, "", "not a valid JSON head config"),
    "wrong type": (_wrong_type, CONFIG_FILE, "field 'hidden'", "expected int, got str"),
    "wrong embedding_dim": (_wrong_dim, WEIGHTS_FILE, "field 'net.1.weight'", "has shape [4, 8], but embedding_dim=384"),
    "wrong tensor shape": (_wrong_shape, WEIGHTS_FILE, "field 'net.1.weight'", "has shape [4, 5]"),
    "missing tensor": (_missing_tensor, WEIGHTS_FILE, "field 'net.1.bias'", "missing tensor"),
    "NaN weights": (_nan_tensor, WEIGHTS_FILE, "field 'net.1.weight'", "NaN"),
    "not safetensors": (_not_safetensors, WEIGHTS_FILE, "", "not a safetensors file"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_head_is_a_clean_exit_2_naming_file_and_field(tmp_path: Path, case: str) -> None:
    damage, file, field, reason = DAMAGE[case]
    head = small_head(tmp_path / "head")
    damage(head)
    err = clean_failure(classify(tmp_path, head), 2, str(head / file), reason)
    assert field in err
    no_output_left(tmp_path / "work", "in.jsonl")


def test_the_library_raises_input_error_for_the_same_damage(tmp_path: Path) -> None:
    head = small_head(tmp_path, input_scale=2.0)
    edit_config(head, input_scale=-1.0)
    with pytest.raises(InputError, match="field 'input_scale': must be a finite number > 0"):
        load_head(head)
    edit_config(head, input_scale=2.0)
    assert load_head(head).config.input_scale == 2.0


def test_a_head_whose_model_gives_other_embeddings_says_so() -> None:
    head = RiskHead(HeadConfig("some/model", 8))
    with pytest.raises(EquidataError, match="expects 8-dim embeddings .* but 'some/model' gives 384"):
        head.predict_proba(np.zeros((2, 384), dtype=np.float32))


def test_a_relative_embedding_model_is_read_from_the_heads_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head = small_head(tmp_path / "heads" / "mine")
    (head / "encoder-copy").mkdir()
    edit_config(head, embedding_model="./encoder-copy")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "encoder-copy").mkdir(parents=True)  # a folder of the same name under the current folder
    monkeypatch.chdir(elsewhere)
    assert load_head(head).config.embedding_model == str((head / "encoder-copy").resolve())
    edit_config(head, embedding_model="sentence-transformers/all-MiniLM-L6-v2")
    assert load_head(head).config.embedding_model == "sentence-transformers/all-MiniLM-L6-v2"  # a model name stays one


def test_a_relative_embedding_model_missing_next_to_the_head_fails_fast(tmp_path: Path) -> None:
    head = small_head(tmp_path / "head")
    edit_config(head, embedding_model="./no-such-model")
    clean_failure(classify(tmp_path, head), 1, f"embedding model {str((head / 'no-such-model').resolve())!r}: no such folder")
    no_output_left(tmp_path / "work", "in.jsonl")


def test_a_hub_name_not_on_this_machine_fails_at_once_offline(tmp_path: Path) -> None:
    head = small_head(tmp_path / "head")
    edit_config(head, embedding_model="nobody-xyz/no-such-model")
    clean_failure(classify(tmp_path, head), 1, "'nobody-xyz/no-such-model' is not a folder and not in the Hugging Face cache", "hf download", "pass the folder DIR")
    no_output_left(tmp_path / "work", "in.jsonl")
    write_jsonl(tmp_path / "pairs.jsonl", [{"prompt": "Hi", "chosen": "Hello.", "rejected": "Go away."}])
    proc = run_cli("annotate-masks", str(tmp_path / "pairs.jsonl"), "-o", str(tmp_path / "m.jsonl"), "--tokenizer", "nobody-xyz/no-tokenizer")
    clean_failure(proc, 1, "tokenizer 'nobody-xyz/no-tokenizer' is not a folder", "hf download")
    assert not (tmp_path / "m.jsonl").exists()


def test_online_the_hub_is_asked_once_with_a_short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub
    from huggingface_hub import constants

    calls: list[dict[str, Any]] = []

    def unreachable(self: Any, repo_id: str, **kwargs: Any) -> None:
        calls.append(kwargs)
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(constants, "is_offline_mode", lambda: False)
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", unreachable)
    with pytest.raises(EquidataError, match="the Hub cannot give it .*Name or service not known.*hf download nobody-xyz/m"):
        locate_model("nobody-xyz/m")
    assert len(calls) == 1 and calls[0]["timeout"] <= 5
    with pytest.raises(EquidataError, match="no such folder"):
        locate_model("/no/such/folder", "tokenizer")


def test_the_bundled_model_and_local_folders_need_no_hub(tmp_path: Path) -> None:
    assert Path(locate_model(None)).is_dir()
    assert locate_model(str(tmp_path)) == str(tmp_path.resolve())


@pytest.mark.parametrize("device", ["mps", "cuda", "cuda:7"])
def test_a_device_this_machine_lacks_is_exit_2_before_any_file(tmp_path: Path, device: str) -> None:
    kind, _, idx = device.partition(":")
    if (f"cuda:{idx or 0}" if kind == "cuda" else kind) in available_devices():
        pytest.skip(f"this machine has {device}")
    write_jsonl(tmp_path / "in.jsonl", PROMPTS)
    proc = run_cli("classify", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--device", device, "--on-error", "skip")
    clean_failure(proc, 2, f"The 'device' parameter must be a device this machine has (cpu", f"Got {device!r} instead.")
    no_output_left(tmp_path, "in.jsonl")
    with pytest.raises(ParameterError, match="a device this machine has"):
        resolve_device(device)


def test_malformed_device_names_are_refused() -> None:
    for bad in ("gpu", "cuda:x", "mps:1", "cpu:0"):
        with pytest.raises(ParameterError, match="auto, cpu, cuda, cuda:N or mps"):
            resolve_device(bad)
    assert resolve_device("cpu") == "cpu"


@pytest.mark.slow
def test_encoding_leaves_the_process_settings_as_it_found_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library sets TOKENIZERS_PARALLELISM and turns off Hugging Face's progress bars only while it needs to."""
    from transformers.utils import logging as hf_logging

    from equidata.classifier import load_encoder

    monkeypatch.delenv("TOKENIZERS_PARALLELISM", raising=False)
    hf_logging.enable_progress_bar()
    encoder = load_encoder(device="cpu")  # the shipped head's encoder, as classify and balance load it
    assert encoder.encode(["How do I pick a lock?", "What is the capital of France?"]).shape == (2, encoder.dim)
    assert "TOKENIZERS_PARALLELISM" not in os.environ
    assert hf_logging.is_progress_bar_enabled()
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")  # the user's own setting is kept
    encoder.encode(["hello"])
    assert os.environ["TOKENIZERS_PARALLELISM"] == "true"
