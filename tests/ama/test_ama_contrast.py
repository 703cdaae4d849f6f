"""The contrast scorer: "shared" means the same text, never merely close in meaning; the nearly-all-ones warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from equidata.ama import Aligner, ContrastScorer, annotate_file
from equidata.ama.scorers import same_text
from equidata.text import normalise_segment
from equidata.ama.step import AnnotateResult, MaskStats
from equidata.embedding import resolve_model
from equidata.errors import EquidataWarning
from equidata.io import RunCounts
from tests.helpers import read_jsonl, run_cli, write_jsonl

TOKENIZER = resolve_model(None)
NEGATION = {"prompt": "Are there any safe ways to take a lot of sleeping pills?", "chosen": "No, there are not.", "rejected": "Yes, there are."}
SAME_OPENER = {
    "prompt": "How do I pick a lock?",
    "chosen": "Sure, I can talk about locks. I can't help you get into property that isn't yours.",
    "rejected": "sure,  I can talk about locks! Insert a tension wrench and rake the pins.",
}


def test_shared_means_the_same_text_after_normalising() -> None:
    assert normalise_segment("  Sure,  I can\u00a0talk about LOCKS! ") == "sure i can talk about locks"
    assert same_text(normalise_segment("Sure, I can talk about locks."), normalise_segment("sure,  I can talk about locks!"))
    assert not same_text(normalise_segment("No, there are not."), normalise_segment("Yes, there are."))
    assert not same_text(normalise_segment("I can help with that."), normalise_segment("I can't help with that."))  # a negation is a difference
    assert same_text("i can help with that", "i can help with thaat", 0.95)  # a typo, when near-identity is asked for


class CloseInMeaning:
    """An embedder for which any two different texts have cosine 0.95: close in meaning, as MiniLM finds a negation."""

    model_name = "close-in-meaning"

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        v = np.zeros((len(texts), len(texts) + 1), dtype=np.float32)
        v[:, 0] = 0.95**0.5
        v[np.arange(len(texts)), np.arange(len(texts)) + 1] = 0.05**0.5
        return v


def test_semantically_close_segments_keep_their_contrast(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    aligner = Aligner(AutoTokenizer.from_pretrained(TOKENIZER))
    src = write_jsonl(tmp_path / "in.jsonl", [NEGATION, SAME_OPENER])
    annotate_file(src, tmp_path / "out.jsonl", aligner=aligner, scorer=ContrastScorer(CloseInMeaning()))  # type: ignore[arg-type]
    neg, opener = read_jsonl(tmp_path / "out.jsonl")
    # cosine 0.95 used to make these "shared" (value 0, masked); different text keeps +-(1 - 0.95)
    assert [s["value"] for s in neg["chosen_segments"]] == [pytest.approx(0.05, abs=1e-4)]
    assert [s["value"] for s in neg["rejected_segments"]] == [pytest.approx(-0.05, abs=1e-4)]
    assert [s["weight"] for s in neg["chosen_segments"] + neg["rejected_segments"]] == [1.0, 1.0]
    # the same opener, written with other case, spacing and punctuation, is shared: value 0, masked
    assert [s["value"] for s in opener["chosen_segments"]] == [0.0, pytest.approx(0.05, abs=1e-4)]
    assert [s["value"] for s in opener["rejected_segments"]] == [0.0, pytest.approx(-0.05, abs=1e-4)]


@pytest.mark.slow
def test_cli_keeps_both_sides_of_a_negation_and_warns_when_the_mask_is_nearly_all_ones(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "pairs.jsonl", [NEGATION, SAME_OPENER])
    proc = run_cli("annotate-masks", str(src), "-o", str(tmp_path / "out.jsonl"), "--tokenizer", TOKENIZER, "-q")
    err = " ".join(proc.stderr.decode().split())
    assert proc.returncode == 0 and "Traceback" not in err, err
    neg, opener = read_jsonl(tmp_path / "out.jsonl")
    assert [s["weight"] for s in neg["chosen_segments"]] == [1.0] and [s["weight"] for s in neg["rejected_segments"]] == [1.0]
    assert neg["chosen_segments"][0]["value"] > 0 > neg["rejected_segments"][0]["value"]
    assert opener["chosen_segments"][0]["value"] == 0.0 and opener["rejected_segments"][0]["value"] == 0.0  # the shared opener
    assert "warning: the mask is nearly all ones" not in err  # the opener is masked: the mask is not all ones
    write_jsonl(src, [NEGATION, {**NEGATION, "chosen": "No. Please talk to a doctor or pharmacist first."}])
    proc = run_cli("annotate-masks", str(src), "-o", str(tmp_path / "out2.jsonl"), "--tokenizer", TOKENIZER, "-q")
    err = " ".join(proc.stderr.decode().split())
    assert proc.returncode == 0 and "warning: the mask is nearly all ones (100.0% of chosen and 100.0% of rejected tokens kept)" in err
    assert "AMA will act like plain DPO" in err and "--scorer judge" in err and "--scorer reward-model" in err and "--scorer field" in err


def test_the_warning_names_the_scorers_other_than_the_one_used() -> None:
    counts = RunCounts(read=10, written=10)
    nearly = AnnotateResult(counts, MaskStats({"chosen": 1000, "rejected": 1000}, {"chosen": 990, "rejected": 960}), 0.0, "reward-model")
    message = nearly.nearly_all_ones()
    assert message and "99.0% of chosen and 96.0% of rejected" in message
    assert "--scorer judge" in message and "--scorer reward-model" not in message
    one_side = AnnotateResult(counts, MaskStats({"chosen": 1000, "rejected": 1000}, {"chosen": 990, "rejected": 900}), 0.0)
    assert one_side.nearly_all_ones() is None
    with pytest.warns(EquidataWarning, match="nearly all ones"):
        from equidata.ama.step import _warned

        _warned(nearly)
