"""`equidata report`: one offline HTML file whose charts, examples and mask pairs reflect the inputs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import read_jsonl, run_cli
from tests.curated_data import RATIO, classified_rows, curated, write_jsonl

from equidata.errors import InputError, ParameterError
from equidata.report import build_report
from equidata.report.collect import Extremes
from equidata.report.render import mask_pieces
from equidata.tally import Reservoir


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    files = curated(tmp_path)
    rng = np.random.default_rng(0)
    files["embeddings"] = tmp_path / "classified.npy"
    np.save(files["embeddings"], rng.standard_normal((len(read_jsonl(files["classified"])), 16)).astype(np.float16))
    return files


def full_report(files: dict[str, Path], out: Path, **kw) -> str:
    build_report(files["classified"], out, balanced=files["mix"], manifest=files["manifest"], masks=files["masks"], embeddings=files["embeddings"], ratio=RATIO, **kw)
    return out.read_text(encoding="utf-8")


def test_report_is_self_contained_with_a_chart_per_section(files: dict[str, Path], tmp_path: Path) -> None:
    page = full_report(files, tmp_path / "report.html")
    assert page.count("<svg") == 5  # groups, confidence, fates, map, masks
    assert "<script" not in page and "<link" not in page and " src=" not in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("#") for h in hrefs)  # anchors and SVG-internal references only
    assert "Content-Security-Policy" in page


def test_same_inputs_and_seed_give_the_same_bytes(files: dict[str, Path], tmp_path: Path) -> None:
    assert full_report(files, tmp_path / "a.html") == full_report(files, tmp_path / "b.html")
    assert full_report(files, tmp_path / "c.html", seed=1) != full_report(files, tmp_path / "a.html")


def test_tables_count_the_rows(files: dict[str, Path], tmp_path: Path) -> None:
    page = full_report(files, tmp_path / "report.html")
    rows = classified_rows()
    explicit = sum(r["risk_group"] == "explicit" for r in rows)
    assert f"<td>explicit</td><td>{explicit} ({explicit / len(rows):.1%})</td>" in page
    fates = [m["fate"] for m in read_jsonl(files["manifest"])]
    assert f"<th>all</th><th>{fates.count('selected')}</th><th>{fates.count('over_quota')}</th><th>{len(fates)}</th>" in page


def test_examples_are_the_most_and_least_confident_prompts(files: dict[str, Path], tmp_path: Path) -> None:
    page = full_report(files, tmp_path / "report.html", examples=1)
    for group in ("explicit", "implicit", "mixed", "none"):
        members = [r for r in classified_rows() if r["risk_group"] == group]
        for r in (max(members, key=lambda r: r["risk_confidence"]), min(members, key=lambda r: r["risk_confidence"])):
            assert f"{r['risk_confidence']:.3f}</span> {r['prompt']}".replace("'", "&#39;") in page


def test_risk_turn_is_shown_when_the_field_exists(tmp_path: Path) -> None:
    rows = [{**r, "risk_turn": 2} for r in classified_rows()]
    build_report(write_jsonl(tmp_path / "c.jsonl", rows), tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert "risk in turn 3" in page
    build_report(write_jsonl(tmp_path / "d.jsonl", classified_rows()), tmp_path / "s.html")
    assert "risk in turn" not in (tmp_path / "s.html").read_text()


def test_mask_pairs_highlight_kept_and_grey_masked_segments(files: dict[str, Path], tmp_path: Path) -> None:
    page = full_report(files, tmp_path / "report.html")
    assert page.count('class="pair"') == 4
    masked = re.findall(r'<span class="masked"[^>]*>([^<]*)</span>', page)
    kept = re.findall(r'<span class="kept"[^>]*>([^<]*)</span>', page)
    assert masked and kept  # the curated masks drop each response's first sentence
    pairs = {p["chosen"]: p for p in read_jsonl(files["masks"])}
    assert any(text.startswith(m) for m in masked for text in pairs)


def test_mask_pieces_follow_the_character_spans() -> None:
    text = "No. That is dangerous. Ask a doctor."
    pieces = mask_pieces(text, [{"start": 0, "end": 3, "value": -0.2, "weight": 0.0}, {"start": 4, "end": 22, "value": 0.5, "weight": 1.0}])
    assert [(p["text"], p["kind"]) for p in pieces] == [("No.", "masked"), (" ", "plain"), ("That is dangerous.", "kept"), (" Ask a doctor.", "plain")]
    assert "".join(p["text"] for p in pieces) == text


def test_embeddings_must_match_the_classified_rows(files: dict[str, Path], tmp_path: Path) -> None:
    np.save(files["embeddings"], np.zeros((3, 16), dtype=np.float16))
    with pytest.raises(InputError, match="has 3 rows but the classified file has 40"):
        full_report(files, tmp_path / "report.html")


def test_report_never_overwrites_an_input(files: dict[str, Path]) -> None:
    before = files["classified"].read_bytes()
    with pytest.raises(ParameterError, match="not one of the inputs"):
        build_report(files["classified"], files["classified"])
    assert files["classified"].read_bytes() == before


def test_samples_stay_bounded() -> None:
    res = Reservoir(5, seed=0)
    for i in range(10_000):
        res.add(i)
    assert len(res.items) == 5 and res.seen == 10_000 and max(res.items) > 100  # later items get in
    ex = Extremes(2)
    for i in range(1000):
        ex.add("explicit", (i % 97) / 97, lambda i=i: i, i)
    assert len(ex.top["explicit"]) == 2 and len(ex.bottom["explicit"]) == 2
    assert ex.highest("explicit") == [96, 193] and ex.lowest("explicit") == [0, 97]


def test_cli_writes_the_report_and_exits_2_on_bad_input(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cli.html"
    proc = run_cli("report", str(files["classified"]), "--masks", str(files["masks"]), "-o", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    assert out.read_text().count("<svg") == 3
    plain = write_jsonl(tmp_path / "plain.jsonl", [{"prompt": "hi"}])
    proc = run_cli("report", str(plain), "-o", str(tmp_path / "x.html"))
    assert proc.returncode == 2 and b"risk_group" in proc.stderr and not (tmp_path / "x.html").exists()
