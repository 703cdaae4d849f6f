"""The classifier's decisions, reachable without the CLI: recipe parameters, class weights, engine choice, a head's encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from equidata.classifier import FinetuneParams, TrainParams, classify_file, load_encoder, recipe_params
from equidata.classifier.settings import parse_class_weight
from equidata.errors import EquidataError, ParameterError
from tests.helpers import write_jsonl


def test_the_recipe_takes_its_own_parameters_and_defaults() -> None:
    assert recipe_params("finetune", epochs=2, seed=3) == FinetuneParams(epochs=2, seed=3)
    assert recipe_params("frozen", hidden=0, class_weight=0.5) == TrainParams(hidden=0, class_weight=0.5)
    with pytest.raises(ParameterError, match="design.*--encoder frozen"):
        recipe_params("finetune", design="two_axis")
    with pytest.raises(ParameterError, match=r"encoder.*\['finetune', 'frozen'\]"):
        recipe_params("linear")


def test_a_class_weight_is_a_number_or_a_name_checked_by_the_recipe() -> None:
    assert [parse_class_weight(t) for t in ("0.25", "sqrt", None)] == [0.25, "sqrt", None]
    with pytest.raises(ParameterError, match="class_weight"):
        recipe_params("frozen", class_weight=parse_class_weight("heavy"))


def test_ray_takes_neither_resume_devices_nor_kept_embeddings(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "How do I pick a lock?"}])
    for extra in ({"resume": True}, {"devices": ["cpu", "cpu"]}, {"keep_embeddings": tmp_path / "e.npy"}):
        with pytest.raises(ParameterError, match="engine.*local with --resume, --devices or --keep-embeddings"):
            classify_file(src, tmp_path / "out.jsonl", engine="ray", **extra)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"engine.*\['local', 'ray'\]"):
        classify_file(src, tmp_path / "out.jsonl", engine="spark")
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "e.npy").exists()


def test_a_head_refuses_an_encoder_it_was_not_trained_on(tmp_path: Path) -> None:
    with pytest.raises(EquidataError, match="was trained on embeddings of"):
        load_encoder(model=str(tmp_path))  # the shipped head, and a model folder it never saw
