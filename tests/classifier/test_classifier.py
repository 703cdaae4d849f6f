"""The risk classifier: both training recipes, safetensors round trips, quality on unseen prompts, train/evaluate CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from equidata.classifier import (
    FinetuneParams, HeadConfig, RiskClassifier, RiskHead, TrainParams, cross_validate, finetune, fit_head, load_head, save_head,
)
from equidata.classifier.metrics import classification_report
from equidata.text import normalise_text
from equidata.errors import EquidataError, ParameterError
from equidata.groups import PAPER_LABEL_MAP, RISK_GROUPS, parse_label_map
from tests.helpers import SHARED_DATA, run_cli, write_jsonl

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def shared_xy(shared_data: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """MiniLM embeddings and group labels of the shared data (embedded once per session)."""
    from equidata.embedding import Embedder

    texts = [r["question_y"] for r in shared_data]
    y = np.array([RISK_GROUPS.index(PAPER_LABEL_MAP[r["category"]]) for r in shared_data])
    return Embedder(device="cpu").encode(texts), y, texts


def _grouped_split(texts: list[str], test_share: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted({normalise_text(t) for t in texts})
    rng = np.random.default_rng(seed)
    held = set(rng.choice(keys, size=int(len(keys) * test_share), replace=False))
    test = np.array([normalise_text(t) in held for t in texts])
    return np.flatnonzero(~test), np.flatnonzero(test)


@pytest.fixture(scope="module")
def grouped_split(shared_xy: tuple[np.ndarray, np.ndarray, list[str]]) -> tuple[np.ndarray, np.ndarray]:
    _, _, texts = shared_xy
    train, test = _grouped_split(texts)
    assert not {normalise_text(texts[i]) for i in train} & {normalise_text(texts[i]) for i in test}
    return train, test


@pytest.fixture(scope="module")
def frozen_report(shared_xy: tuple[np.ndarray, np.ndarray, list[str]], grouped_split: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """The frozen-encoder recipe (``train --encoder frozen``) fitted on 80%, scored on the held-out 20%."""
    X, y, texts = shared_xy
    train, test = grouped_split
    head = fit_head(X[train], y[train], [texts[i] for i in train], TrainParams(), embedding_model="m")
    return classification_report(y[test], head.predict_proba(X[test]).argmax(axis=1))


def test_frozen_recipe_beats_logistic_regression(shared_xy: tuple[np.ndarray, np.ndarray, list[str]], grouped_split: tuple[np.ndarray, np.ndarray], frozen_report: dict[str, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y, _ = shared_xy
    train, test = grouped_split
    base = classification_report(y[test], LogisticRegression(max_iter=2000).fit(X[train], y[train]).predict(X[test]))
    assert frozen_report["macro_f1"] >= 0.43 and frozen_report["accuracy"] >= 0.50, frozen_report
    assert frozen_report["macro_f1"] > base["macro_f1"], (frozen_report["macro_f1"], base["macro_f1"])


def test_quality_on_unseen_prompts(shared_xy: tuple[np.ndarray, np.ndarray, list[str]], grouped_split: tuple[np.ndarray, np.ndarray], frozen_report: dict[str, Any]) -> None:
    """The shipped recipe (fine-tuning) trained on 80% of the authors' labels, scored on the other 20%.

    No normalised prompt sits on both sides. On this split the recipe scores macro-F1 0.514 and
    accuracy 0.600 (grouped 5-fold CV: 0.502 / 0.589, the model card); the floors leave 0.025 for
    numeric drift across CPUs, and it must beat the frozen recipe on the same split (0.479 / 0.576).
    """
    _, y, texts = shared_xy
    train, test = grouped_split
    ft = finetune([texts[i] for i in train], y[train], FinetuneParams(), model="sentence-transformers/all-MiniLM-L6-v2", device="cpu")
    report = classification_report(y[test], ft.predict_proba([texts[i] for i in test]).argmax(axis=1))
    assert report["macro_f1"] >= 0.49 and report["accuracy"] >= 0.575, report
    assert report["macro_f1"] > frozen_report["macro_f1"] + 0.01, (report["macro_f1"], frozen_report["macro_f1"])
    assert all(report["per_group"][g]["recall"] > 0.25 for g in RISK_GROUPS), report  # no group abandoned


def test_training_is_deterministic_and_cv_is_grouped(shared_xy: tuple[np.ndarray, np.ndarray, list[str]]) -> None:
    X, y, texts = shared_xy
    sub = np.arange(0, len(y), 3)
    params = TrainParams(epochs=3)
    a = fit_head(X[sub], y[sub], [texts[i] for i in sub], params, embedding_model="m")
    b = fit_head(X[sub], y[sub], [texts[i] for i in sub], params, embedding_model="m")
    assert all(np.array_equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    seen: list[tuple[set[str], set[str]]] = []

    def fit_predict(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
        seen.append(({normalise_text(texts[sub[i]]) for i in tr}, {normalise_text(texts[sub[i]]) for i in te}))
        return fit_head(X[sub][tr], y[sub][tr], [texts[sub[i]] for i in tr], params, embedding_model="m").predict_proba(X[sub][te])

    cv = cross_validate(fit_predict, y[sub], [texts[i] for i in sub], folds=3)
    assert cv["pooled"]["n"] == len(sub) and np.sum(cv["pooled"]["confusion"]) == len(sub)
    assert len(seen) == 3 and all(not (train_keys & test_keys) for train_keys, test_keys in seen)


@pytest.mark.parametrize("design", ["softmax", "two_axis"])
def test_head_round_trips_through_safetensors(tmp_path: Path, design: str) -> None:
    head = RiskHead(HeadConfig("m", 8, design=design, hidden=4))
    head.bias.fill_(0.25)
    save_head(head, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "head.safetensors"]
    loaded = load_head(tmp_path)
    x = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    probs = loaded.predict_proba(x)
    assert np.allclose(probs, head.predict_proba(x)) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert json.loads((tmp_path / "config.json").read_text())["design"] == design


def test_shipped_head_is_documented_and_loads() -> None:
    head = load_head()
    cfg = head.config
    assert cfg.embedding_model == "sentence-transformers/all-MiniLM-L6-v2" and cfg.labels == list(RISK_GROUPS)
    assert cfg.encoder_weights == "encoder.safetensors" and cfg.training["epochs"] == FinetuneParams().epochs
    held_back = cfg.metrics["held_back"]  # the shared dialogues `make head` kept out of training, and its score on them
    assert held_back["n"] == len(held_back["idx"]) > 100 and "fold 0" in held_back["rows"] and len(cfg.data_sha256) == 64
    card = (Path(load_head.__globals__["DEFAULT_HEAD_DIR"]) / "MODEL_CARD.md").read_text()
    assert "CC BY-NC 4.0" in card and "make head" in card
    assert f"{held_back['macro_f1']:.3f} / {held_back['accuracy']:.3f}" in card


def test_validation_at_the_edge(tmp_path: Path) -> None:
    for bad in ("inverse", 1.5):
        with pytest.raises(ParameterError, match="'class_weight' parameter must be"):
            TrainParams(class_weight=bad)
    assert TrainParams(class_weight=0.25).class_weight == 0.25
    with pytest.raises(ParameterError, match="'design' parameter"):
        HeadConfig("m", 8, design="tree")
    with pytest.raises(ParameterError, match="'encoder_weights' parameter"):
        HeadConfig("m", 8, encoder_weights="../elsewhere/encoder.safetensors")
    with pytest.raises(ParameterError, match="'warmup' parameter"):
        FinetuneParams(warmup=1.0)
    with pytest.raises(ParameterError, match="'label_map' parameter"):
        parse_label_map("unsafe=dangerous")
    assert parse_label_map("unsafe=explicit")["unsafe"] == "explicit"
    with pytest.raises(EquidataError, match="not a risk head"):
        load_head(tmp_path)


def test_train_and_evaluate_cli(tmp_path: Path, shared_data: list[dict[str, Any]]) -> None:
    rows = shared_data[:300]
    labels = write_jsonl(tmp_path / "labels.jsonl", [*rows, {"question_y": "hello?", "category": "WEIRD"}])
    head_dir = tmp_path / "head"
    bad = run_cli("train", str(labels), "-o", str(head_dir))
    assert bad.returncode == 2 and b"unknown label 'WEIRD'" in bad.stderr and not head_dir.exists()
    mixed_up = run_cli("train", str(labels), "-o", str(head_dir), "--hidden", "64")
    assert mixed_up.returncode == 2 and b"--encoder frozen" in mixed_up.stderr and not head_dir.exists()
    run_cli("train", str(labels), "-o", str(head_dir), "--cv", "2", "--epochs", "1", "--on-error", "skip", "-q", check=True)
    cfg = json.loads((head_dir / "config.json").read_text())
    assert cfg["metrics"]["rows_used"] == 300 and cfg["metrics"]["rows_rejected"] == 1 and cfg["training"]["epochs"] == 1
    assert cfg["encoder_weights"] == "encoder.safetensors" and cfg["metrics"]["cv"]["pooled"]["n"] == 300
    assert json.loads((head_dir / "rejects.jsonl").read_text())["reason"].startswith("unknown label")
    report = json.loads(run_cli("evaluate", str(SHARED_DATA), "--head", str(head_dir), "--json", check=True).stdout)
    assert report["n"] == len(shared_data) and 0.0 < report["macro_f1"] <= 1.0
    assert np.sum(report["confusion"]) == report["n"]
    # the frozen recipe replaces the fine-tuned head in place, stale encoder file included
    args = ("--encoder", "frozen", "--hidden", "0", "--class-weight", "0.5", "--cv", "0", "--on-error", "skip", "-q")
    run_cli("train", str(labels), "-o", str(head_dir), *args, check=True)
    cfg = json.loads((head_dir / "config.json").read_text())
    assert cfg["hidden"] == 0 and cfg["training"]["class_weight"] == 0.5
    assert cfg["encoder_weights"] == "" and not (head_dir / "encoder.safetensors").exists()


@pytest.fixture(scope="module")
def small_finetune(shared_data: list[dict[str, Any]]) -> tuple[Any, list[str]]:
    """One epoch of fine-tuning on 160 labelled prompts, and 40 prompts it did not see."""
    texts = [r["question_y"] for r in shared_data[:200]]
    y = np.array([RISK_GROUPS.index(PAPER_LABEL_MAP[r["category"]]) for r in shared_data[:200]])
    return finetune(texts[:160], y[:160], FinetuneParams(epochs=1), model="sentence-transformers/all-MiniLM-L6-v2", device="cpu"), texts[160:]


def test_finetuning_is_deterministic_and_ships_only_changed_float16_tensors(small_finetune: tuple[Any, list[str]], shared_data: list[dict[str, Any]]) -> None:
    ft, _ = small_finetune
    texts = [r["question_y"] for r in shared_data[:160]]
    y = np.array([RISK_GROUPS.index(PAPER_LABEL_MAP[r["category"]]) for r in shared_data[:160]])
    again = finetune(texts, y, FinetuneParams(epochs=1), model="sentence-transformers/all-MiniLM-L6-v2", device="cpu")
    assert ft.encoder.keys() == again.encoder.keys() and all(np.array_equal(ft.encoder[k], again.encoder[k]) for k in ft.encoder)
    names = set(ft.encoder)
    assert any(".layer.5." in n for n in names) and any(".layer.0." in n for n in names)
    assert not any("word_embeddings" in n or "pooler" in n for n in names)  # frozen or unused: not shipped
    assert all(np.array_equal(v.half().float(), v) for v in ft.encoder.values())  # already float16-exact


def test_finetuned_head_round_trips_and_classifies_as_trained(small_finetune: tuple[Any, list[str]], tmp_path: Path) -> None:
    ft, unseen = small_finetune
    save_head(ft.head, tmp_path, encoder=ft.encoder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "encoder.safetensors", "head.safetensors"]
    clf = RiskClassifier(tmp_path, device="cpu")
    assert clf.head.config.encoder_weights == "encoder.safetensors" and clf.head.config.input_scale == 10.0
    assert np.allclose(clf.predict_proba(unseen), ft.predict_proba(unseen), atol=1e-5)
    base = RiskClassifier(device="cpu").embedder.encode(unseen)
    assert not np.allclose(clf.embedder.encode(unseen), base, atol=1e-3)  # the overlay took effect
    # re-saving without an encoder drops the stale file, so the folder never mixes two heads
    save_head(load_head(tmp_path), tmp_path)
    assert not (tmp_path / "encoder.safetensors").exists() and load_head(tmp_path).config.encoder_weights == ""


def test_encoder_weights_of_another_model_are_refused(small_finetune: tuple[Any, list[str]], tmp_path: Path) -> None:
    from safetensors.torch import save_file

    ft, unseen = small_finetune
    save_head(ft.head, tmp_path, encoder=ft.encoder)
    save_file({"decoder.block.0.weight": next(iter(ft.encoder.values()))}, str(tmp_path / "encoder.safetensors"))
    with pytest.raises(EquidataError, match="tensors the model does not have.*fine-tuned from another model"):
        RiskClassifier(tmp_path, device="cpu").predict(unseen)
    (tmp_path / "encoder.safetensors").unlink()
    with pytest.raises(EquidataError, match="names encoder.safetensors, which is missing"):
        load_head(tmp_path)


@pytest.mark.slow
def test_evaluate_streams_in_chunks_with_the_whole_file_result(tmp_path: Path, shared_data: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    import equidata.classifier.api as api
    from equidata.classifier.data import load_labelled
    from equidata.classifier.predict import RiskClassifier

    labels = write_jsonl(tmp_path / "labels.jsonl", [*shared_data[:40], {"question_y": "hello?", "category": "WEIRD"}, *shared_data[40:90]])
    monkeypatch.setattr(api, "EVALUATE_CHUNK", 16)  # several chunks, one reject in the middle
    report = api.evaluate_file(labels, device="cpu", on_error="skip", rejects=tmp_path / "rej.jsonl")
    whole = load_labelled(labels, on_error="skip", rejects=tmp_path / "rej2.jsonl")
    expected = classification_report(whole.y, RiskClassifier(device="cpu").predict_proba(whole.texts).argmax(axis=1))
    assert {k: report[k] for k in expected} == expected and report["n"] == 90 and report["rows_rejected"] == 1
