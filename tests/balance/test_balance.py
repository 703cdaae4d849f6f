"""balance: quotas, shortfall, dedup, selection strategies, manifest accounting, determinism, pipes."""

from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from equidata.balance import BalanceParams, apportion, balance_file, exact_duplicates, integer_weights, near_duplicates, parse_group_numbers, plan, select
from equidata.balance.select import by_confidence
from equidata.balance.vectors import EmbeddingFile
from equidata.errors import InputError, ParameterError
from equidata.groups import RISK_GROUPS
from tests.helpers import read_jsonl, run_cli, write_jsonl

DIM = 16


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def classified(counts: dict[str, int], seed: int = 0) -> tuple[list[dict], np.ndarray]:
    """Classified rows (distinct prompts, random confidences) and matching unit embeddings."""
    rng = np.random.default_rng(seed)
    rows = []
    for group, n in counts.items():
        for i in range(n):
            conf = round(float(rng.uniform(0.3, 1.0)), 4)
            scores = {g: (conf if g == group else round((1 - conf) / 3, 4)) for g in RISK_GROUPS}
            rows.append({"id": f"{group}-{i}", "prompt": f"{group} prompt number {i}", "risk_group": group, "risk_scores": scores, "risk_confidence": conf})
    return rows, _unit(rng.normal(size=(len(rows), DIM))).astype(np.float16)


def save(tmp_path: Path, rows: list[dict], emb: np.ndarray) -> tuple[Path, Path]:
    np.save(tmp_path / "emb.npy", emb)
    return write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "emb.npy"


def selected_groups(path: Path) -> Counter:
    return Counter(r["risk_group"] for r in read_jsonl(path))


# --- quotas -------------------------------------------------------------------------------

def test_ratio_parsing_and_integer_weights() -> None:
    assert integer_weights(parse_group_numbers("explicit=10,implicit=3,mixed=1", "ratio")) == {"explicit": 10, "implicit": 3, "mixed": 1}
    assert integer_weights(parse_group_numbers("explicit=2.5,none=0.5", "ratio")) == {"explicit": 5, "none": 1}
    assert integer_weights({"explicit": Fraction(20), "mixed": Fraction(10)}) == {"explicit": 2, "mixed": 1}
    for bad in ("explicit=0", "harmful=3", "explicit", "explicit=1,explicit=2", "explicit=x"):
        with pytest.raises(ParameterError, match="The 'ratio' parameter must be"):
            parse_group_numbers(bad, "ratio")


def test_apportion_is_within_one_row_of_the_exact_share() -> None:
    weights = {"explicit": 10, "implicit": 3, "mixed": 1}
    for total in (0, 1, 13, 100, 9999):
        got = apportion(weights, total)
        assert sum(got.values()) == total
        assert all(abs(got[g] - total * w / 14) < 1 for g, w in weights.items())


def test_plan_without_total_keeps_the_ratio_exactly() -> None:
    p = plan({"explicit": 10, "implicit": 3, "mixed": 1}, {"explicit": 500, "implicit": 100, "mixed": 7})
    assert p.taken == {"explicit": 70, "implicit": 21, "mixed": 7}


def test_plan_shortfall_scale_shrinks_every_group_and_fill_takes_what_exists() -> None:
    weights, available = {"explicit": 10, "implicit": 3, "mixed": 1}, {"explicit": 1000, "implicit": 30, "mixed": 1000}
    scaled = plan(weights, available, total=140, shortfall="scale")
    assert scaled.wanted == {"explicit": 100, "implicit": 30, "mixed": 10}
    assert scaled.taken == {"explicit": 100, "implicit": 30, "mixed": 10}
    short = plan(weights, {**available, "implicit": 15}, total=140, shortfall="scale")
    assert short.taken == {"explicit": 50, "implicit": 15, "mixed": 5}
    filled = plan(weights, {**available, "implicit": 15}, total=140, shortfall="fill")
    assert filled.taken == {"explicit": 100, "implicit": 15, "mixed": 10}


# --- selection and dedup units --------------------------------------------------------------

def test_diverse_selection_covers_every_cluster() -> None:
    rng = np.random.default_rng(0)
    sizes = [400, 10, 10, 10, 10]
    centres = _unit(rng.normal(size=(len(sizes), 32)))
    x = _unit(np.concatenate([c + 0.05 * rng.normal(size=(n, 32)) for c, n in zip(centres, sizes)])).astype(np.float32)
    cluster = np.repeat(np.arange(len(sizes)), sizes)
    conf = rng.uniform(size=len(x))
    diverse = select("diverse", 25, conf, seed=0, vectors=lambda: x)
    assert len(diverse) == 25 and len(set(diverse.tolist())) == 25
    assert set(cluster[diverse].tolist()) == set(range(len(sizes)))
    confident = select("confident", 25, conf, seed=0)
    assert sorted(conf[confident].tolist()) == sorted(np.sort(conf)[-25:].tolist())
    assert np.array_equal(select("random", 25, conf, seed=3), select("random", 25, conf, seed=3))
    assert not np.array_equal(select("random", 25, conf, seed=3), select("random", 25, conf, seed=4))


def _brute_force(x: np.ndarray, order: np.ndarray, t: float) -> np.ndarray:
    dup, kept = np.full(len(x), -1), []
    for i in order:
        sims = x[kept] @ x[i] if kept else np.zeros(0)
        if len(sims) and sims.max() > t:
            dup[i] = kept[int(sims.argmax())]
        else:
            kept.append(i)
    return dup


def test_near_dedup_below_the_block_limit_is_exact_all_pairs() -> None:
    rng = np.random.default_rng(0)
    x = _unit(rng.normal(size=(400, 4))).astype(np.float32)  # 4-d: many pairs above 0.95, chains included
    order = by_confidence(rng.uniform(size=len(x)))
    got = near_duplicates(x, order, 0.95)
    assert (got >= 0).sum() > 20
    assert np.array_equal(got, _brute_force(x, order, 0.95))


def test_blocked_near_dedup_finds_planted_duplicates_without_false_ones() -> None:
    """Above the all-pairs limit the search is blocked by k-means (approximate by design)."""
    rng = np.random.default_rng(1)
    base = _unit(rng.normal(size=(6000, 64)))  # unclustered random data: the hard case for blocking
    planted = rng.choice(len(base), 300, replace=False)
    copies = np.arange(6000, 6300)
    x = np.concatenate([base, _unit(base[planted] + 0.02 * rng.normal(size=(300, 64)))]).astype(np.float32)
    order = by_confidence(rng.uniform(size=len(x)))
    got = near_duplicates(x, order, 0.95, seed=0)
    found = (got[copies] == planted) | (got[planted] == copies)
    assert found.mean() >= 0.99
    dups = np.nonzero(got >= 0)[0]
    assert np.all(np.einsum("ij,ij->i", x[dups], x[got[dups]]) > 0.95)
    assert np.all(got[got[dups]] == -1)  # every duplicate points at a kept row


def test_exact_duplicates_keep_the_first_row_of_each_key_in_priority_order() -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 12, size=(500, 2)).astype(np.uint64)  # many collisions on purpose
    order = by_confidence(rng.uniform(size=500))
    first: dict[tuple[int, int], int] = {}
    expected = np.full(500, -1)
    for i in order.tolist():
        rep = first.setdefault(tuple(keys[i].tolist()), i)
        expected[i] = -1 if rep == i else rep
    assert (expected >= 0).sum() > 100
    assert np.array_equal(exact_duplicates(keys, order), expected)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_embedding_file_reads_scattered_and_dense_rows_by_blocks(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5000, 24)).astype(dtype)
    np.save(tmp_path / "e.npy", x)
    emb = EmbeddingFile(tmp_path / "e.npy", 5000)
    for pos in (np.arange(5000), np.sort(rng.choice(5000, 700, replace=False)), np.array([0, 1, 2, 4999]), np.arange(0)):
        want = x[pos].astype(np.float32)
        assert np.array_equal(emb.take(pos), want / np.maximum(np.linalg.norm(want, axis=1, keepdims=True), 1e-12))
    (tmp_path / "cut.npy").write_bytes((tmp_path / "e.npy").read_bytes()[:-10])
    with pytest.raises(InputError, match="cut short"):
        EmbeddingFile(tmp_path / "cut.npy", 5000)


# --- balance_file ---------------------------------------------------------------------------

def test_ratio_is_exact_and_the_manifest_accounts_for_every_row(tmp_path: Path) -> None:
    rows, emb = classified({"explicit": 120, "implicit": 40, "mixed": 9, "none": 30})
    src, npy = save(tmp_path, rows, emb)
    out = tmp_path / "mix.jsonl"
    report = balance_file(src, out, embeddings=npy)
    assert selected_groups(out) == {"explicit": 90, "implicit": 27, "mixed": 9}
    manifest = read_jsonl(tmp_path / "mix.manifest.jsonl")
    assert [m["line"] for m in manifest] == list(range(1, len(rows) + 1))
    assert [m["id"] for m in manifest] == [r["id"] for r in rows]
    fates = Counter(m["fate"] for m in manifest)
    assert fates == {"selected": 126, "over_quota": len(rows) - 126}
    assert all(m["fate"] == "over_quota" for m in manifest if m["risk_group"] == "none")
    assert report.read == len(rows) == sum(g.rows for g in report.groups) + report.rejected
    # the selected rows are the input rows unchanged
    ids = {m["id"] for m in manifest if m["fate"] == "selected"}
    assert read_jsonl(out) == [r for r in rows if r["id"] in ids]


@pytest.mark.parametrize(("shortfall", "expected"), [("scale", {"explicit": 40, "implicit": 12, "mixed": 4}), ("fill", {"explicit": 100, "implicit": 30, "mixed": 4})])
def test_total_under_both_shortfall_modes(tmp_path: Path, shortfall: str, expected: dict[str, int]) -> None:
    rows, emb = classified({"explicit": 200, "implicit": 80, "mixed": 4})
    src, npy = save(tmp_path, rows, emb)
    report = balance_file(src, tmp_path / "o.jsonl", BalanceParams(total=140, shortfall=shortfall, strategy="random"), embeddings=npy)
    assert selected_groups(tmp_path / "o.jsonl") == expected
    by = {g.group: g for g in report.groups}
    assert by["mixed"].wanted == 10 and by["mixed"].available == 4 and by["mixed"].selected == 4
    assert by["explicit"].wanted == 100 and by["explicit"].selected == expected["explicit"]


def test_per_group_quotas_and_none_group(tmp_path: Path) -> None:
    rows, emb = classified({"explicit": 50, "implicit": 50, "none": 50})
    src, npy = save(tmp_path, rows, emb)
    balance_file(src, tmp_path / "o.jsonl", BalanceParams(per_group="explicit=20,none=5", strategy="confident"), embeddings=npy)
    assert selected_groups(tmp_path / "o.jsonl") == {"explicit": 20, "none": 5}
    top = sorted((r for r in rows if r["risk_group"] == "explicit"), key=lambda r: -r["risk_confidence"])[:20]
    assert {r["id"] for r in read_jsonl(tmp_path / "o.jsonl") if r["risk_group"] == "explicit"} == {r["id"] for r in top}
    with pytest.raises(ParameterError, match="per_group"):
        balance_file(src, tmp_path / "o.jsonl", BalanceParams(per_group="explicit=20", total=10), embeddings=npy)


def test_exact_and_near_duplicates_keep_the_most_confident(tmp_path: Path) -> None:
    rows, emb = classified({"explicit": 30, "implicit": 10}, seed=2)
    emb = emb.astype(np.float32)
    # line 41: same text as line 1 up to case and spaces, more confident -> line 1 is its duplicate
    rows.append({**rows[0], "id": "exact", "prompt": "  EXPLICIT prompt   number 0 ", "risk_confidence": 0.999})
    # line 42: a near copy of line 2's embedding, less confident -> duplicate of line 2
    rows.append({**rows[1], "id": "near", "prompt": "a paraphrase of explicit prompt 1", "risk_confidence": min(rows[1]["risk_confidence"], 0.5) - 0.01})
    emb = np.concatenate([emb, emb[0:1], _unit(emb[1:2] + 0.01)]).astype(np.float16)
    src, npy = save(tmp_path, rows, emb)
    report = balance_file(src, tmp_path / "o.jsonl", BalanceParams(strategy="random"), embeddings=npy)
    fate = {m["id"]: m["fate"] for m in read_jsonl(tmp_path / "o.manifest.jsonl")}
    assert fate["explicit-0"] == "duplicate_of:41"
    assert fate["near"] == "duplicate_of:2"
    assert fate["exact"] in ("selected", "over_quota") and fate["explicit-1"] in ("selected", "over_quota")
    assert {g.group: g.duplicates for g in report.groups}["explicit"] == 2
    balance_file(src, tmp_path / "n.jsonl", BalanceParams(strategy="random", dedup=False), embeddings=npy)
    assert not any(m["fate"].startswith("duplicate") for m in read_jsonl(tmp_path / "n.manifest.jsonl"))


def test_min_confidence_drops_rows_first(tmp_path: Path) -> None:
    rows, emb = classified({"explicit": 40, "implicit": 12, "mixed": 4})
    src, npy = save(tmp_path, rows, emb)
    balance_file(src, tmp_path / "o.jsonl", BalanceParams(min_confidence=0.6), embeddings=npy)
    manifest = read_jsonl(tmp_path / "o.manifest.jsonl")
    conf = {r["id"]: r["risk_confidence"] for r in rows}
    assert all((m["fate"] == "low_confidence") == (conf[m["id"]] < 0.6) for m in manifest)
    assert all(r["risk_confidence"] >= 0.6 for r in read_jsonl(tmp_path / "o.jsonl"))


def test_same_seed_same_bytes_and_seed_matters(tmp_path: Path) -> None:
    rows, emb = classified({"explicit": 300, "implicit": 90, "mixed": 30}, seed=5)
    src, npy = save(tmp_path, rows, emb)
    outs = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        balance_file(src, tmp_path / f"{name}.jsonl", BalanceParams(total=70, seed=seed), embeddings=npy)
        outs.append(((tmp_path / f"{name}.jsonl").read_bytes(), (tmp_path / f"{name}.manifest.jsonl").read_bytes()))
    assert outs[0] == outs[1]
    assert outs[0][0] != outs[2][0]


def test_general_rows_are_mixed_in_by_ratio_and_tagged(tmp_path: Path) -> None:
    rows, emb = classified({"explicit": 20, "implicit": 6, "mixed": 2})
    src, npy = save(tmp_path, rows, emb)
    general = write_jsonl(tmp_path / "general.jsonl", [{"id": f"g{i}", "prompt": f"Write a poem about the number {i}"} for i in range(100)])
    report = balance_file(src, tmp_path / "o.jsonl", BalanceParams(general_ratio="1:3"), embeddings=npy, general=general)
    out = read_jsonl(tmp_path / "o.jsonl")
    assert Counter(r["risk_group"] for r in out) == {"explicit": 20, "implicit": 6, "mixed": 2, "general": 84}
    assert [r["risk_group"] for r in out[-84:]] == ["general"] * 84
    manifest = read_jsonl(tmp_path / "o.manifest.jsonl")
    assert len(manifest) == report.read == 128 and {m["source"] for m in manifest[-100:]} == {"general"}
    # too few general rows: scale shrinks the safety part too, fill keeps it
    balance_file(src, tmp_path / "s.jsonl", BalanceParams(general_ratio="1:10"), embeddings=npy, general=general)
    assert Counter(r["risk_group"] for r in read_jsonl(tmp_path / "s.jsonl")) == {"explicit": 7, "implicit": 2, "mixed": 1, "general": 100}
    balance_file(src, tmp_path / "f.jsonl", BalanceParams(general_ratio="1:10", shortfall="fill"), embeddings=npy, general=general)
    assert Counter(r["risk_group"] for r in read_jsonl(tmp_path / "f.jsonl")) == {"explicit": 20, "implicit": 6, "mixed": 2, "general": 100}


def test_bad_rows_fail_with_location_or_go_to_rejects(tmp_path: Path) -> None:
    rows, emb = classified({"explicit": 10, "implicit": 3, "mixed": 1})
    rows.insert(4, {"id": "unclassified", "prompt": "no risk fields here"})
    src, npy = save(tmp_path, rows, np.concatenate([emb[:4], emb[:1], emb[4:]]))
    proc = run_cli("balance", str(src), "-o", str(tmp_path / "o.jsonl"), "--embeddings", str(npy))
    assert proc.returncode == 2
    assert f"{src}:5: field 'risk_group': missing" in " ".join(proc.stderr.decode().split())
    assert not (tmp_path / "o.jsonl").exists()
    report = balance_file(src, tmp_path / "o.jsonl", embeddings=npy, on_error="skip")
    fate = {m["id"]: m["fate"] for m in read_jsonl(tmp_path / "o.manifest.jsonl")}
    assert fate["unclassified"].startswith("rejected:missing")
    assert report.rejected == 1 and read_jsonl(tmp_path / "o.rejects.jsonl")[0]["line"] == 5


def test_a_rejected_row_that_is_not_strict_json_reaches_the_rejects_file_as_text(tmp_path: Path) -> None:
    """A Parquet row with a NaN confidence is rejected; its rejects line keeps ``source`` first and the row as escaped text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, _ = classified({"explicit": 6, "implicit": 2, "mixed": 1})
    rows[3]["risk_confidence"] = float("nan")  # pyarrow keeps a NaN (pandas would write a null)
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    params = BalanceParams(ratio="explicit=2,implicit=1,mixed=1", strategy="random", dedup=False)
    report = balance_file(src, tmp_path / "o.jsonl", params, on_error="skip")
    line = (tmp_path / "o.rejects.jsonl").read_bytes()
    assert line.startswith(b'{"source": "input", "row_number": 4, "field": "risk_confidence", "reason": "expected a number in [0, 1], got nan", "raw": ')
    assert '"risk_confidence": NaN' in json.loads(line)["raw"] and line.count(b"\n") == 1
    assert (report.read, report.rejected, report.rejects_path) == (9, 1, tmp_path / "o.rejects.jsonl")
    assert {m["id"]: m["fate"] for m in read_jsonl(tmp_path / "o.manifest.jsonl")}["explicit-3"].startswith("rejected:expected a number")


def test_embeddings_file_must_match_the_input(tmp_path: Path) -> None:
    rows, emb = classified({"explicit": 10, "implicit": 3, "mixed": 1})
    src, npy = save(tmp_path, rows, emb[:-1])
    with pytest.raises(InputError, match="holds 13 embeddings but the input has 14 rows"):
        balance_file(src, tmp_path / "o.jsonl", embeddings=npy)
    np.save(npy, emb[:, 0])
    with pytest.raises(InputError, match="2-D float array"):
        balance_file(src, tmp_path / "o.jsonl", embeddings=npy)


def test_cli_stdin_to_stdout_keeps_side_files_out_of_the_stream(tmp_path: Path) -> None:
    rows, emb = classified({"explicit": 20, "implicit": 6, "mixed": 2})
    np.save(tmp_path / "emb.npy", emb)
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    proc = run_cli("balance", "-", "--embeddings", "emb.npy", "--total", "14", "--manifest", "m.jsonl", stdin=data, cwd=tmp_path, check=True)
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert Counter(r["risk_group"] for r in out) == {"explicit": 10, "implicit": 3, "mixed": 1}
    assert len(read_jsonl(tmp_path / "m.jsonl")) == len(rows)
    assert "balance" in proc.stderr.decode()  # the summary table goes to stderr


def test_stdin_is_read_twice_through_a_spool_and_gives_the_file_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows, emb = classified({"explicit": 30, "implicit": 9, "mixed": 3}, seed=6)
    src, npy = save(tmp_path, rows, emb)
    balance_file(src, tmp_path / "f.jsonl", BalanceParams(total=14, seed=1), embeddings=npy)
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    proc = run_cli("balance", "-", "--manifest", "piped.manifest.jsonl", "--embeddings", str(npy), "--total", "14", "--seed", "1", "-q",
                   stdin=src.read_bytes(), cwd=tmp_path, check=True)
    assert proc.stdout == (tmp_path / "f.jsonl").read_bytes()
    assert [m["fate"] for m in read_jsonl(tmp_path / "piped.manifest.jsonl")] == [m["fate"] for m in read_jsonl(tmp_path / "f.manifest.jsonl")]
    assert not any(spool.iterdir())  # the spooled copy is gone


def test_a_fifo_input_is_spooled_like_stdin_and_gives_the_file_result(tmp_path: Path) -> None:
    import os
    import threading

    rows, emb = classified({"explicit": 30, "implicit": 9, "mixed": 3}, seed=6)
    src, npy = save(tmp_path, rows, emb)
    balance_file(src, tmp_path / "f.jsonl", BalanceParams(total=14, seed=1), embeddings=npy)
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=lambda: fifo.write_bytes(src.read_bytes()), daemon=True)
    feeder.start()
    balance_file(fifo, tmp_path / "p.jsonl", BalanceParams(total=14, seed=1), embeddings=npy)  # read twice: would block on the FIFO
    feeder.join(5)
    assert (tmp_path / "p.jsonl").read_bytes() == (tmp_path / "f.jsonl").read_bytes()
    manifest = read_jsonl(tmp_path / "p.manifest.jsonl")
    assert [m["fate"] for m in manifest] == [m["fate"] for m in read_jsonl(tmp_path / "f.manifest.jsonl")]


@pytest.mark.parametrize("change", ["append", "truncate"])
def test_an_input_that_changes_between_the_two_passes_is_an_input_error(tmp_path: Path, change: str) -> None:
    import io

    from equidata.balance.rows import IS_OVER, scan, write_rows
    from equidata.io import ErrorPolicy

    rows, _ = classified({"explicit": 5, "implicit": 2})
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    table = scan(src, "input", ErrorPolicy("fail", str(src)), None)
    table.fate[:] = IS_OVER
    write_jsonl(src, rows + rows[:1] if change == "append" else rows[:-1])
    with pytest.raises(InputError, match="changed while balance was reading it"):
        write_rows(table, io.BytesIO(), io.BytesIO())


def test_pairs_that_export_would_refuse_are_rejected_before_selection(tmp_path: Path) -> None:
    """An HH row whose transcripts differ before the final turn never counts toward the ratio."""
    rows = []
    for i in range(8):
        group = ("explicit", "explicit", "implicit", "mixed")[i % 4]
        dialogue = f"\n\nHuman: question {i}\n\nAssistant: answer {i}\n\nHuman: follow-up {i}"
        rows.append({"id": f"r{i}", "chosen": f"{dialogue}\n\nAssistant: safe {i}", "rejected": f"{dialogue}\n\nAssistant: unsafe {i}",
                     "risk_group": group, "risk_confidence": 0.9})
    rows[3]["rejected"] = rows[3]["rejected"].replace("answer 3", "another answer")  # one of the two mixed rows
    src = write_jsonl(tmp_path / "hh.jsonl", rows)
    report = balance_file(src, tmp_path / "o.jsonl", BalanceParams(ratio="explicit=2,implicit=1,mixed=1", strategy="random", dedup=False), on_error="skip")
    fate = {m["id"]: m["fate"] for m in read_jsonl(tmp_path / "o.manifest.jsonl")}
    assert fate["r3"] == "rejected:chosen and rejected transcripts differ before the final Assistant turn"
    assert report.rejected == 1 and selected_groups(tmp_path / "o.jsonl") == {"explicit": 2, "implicit": 1, "mixed": 1}
    proc = run_cli("balance", str(src), "-o", str(tmp_path / "f.jsonl"), "--ratio", "explicit=2,implicit=1,mixed=1", "--no-dedup", "--strategy", "random")
    assert proc.returncode == 2 and f"{src}:4" in proc.stderr.decode() and "Traceback" not in proc.stderr.decode()


def test_help_shows_an_example() -> None:
    assert "Example:" in run_cli("balance", "--help", check=True).stdout.decode()


@pytest.mark.slow
def test_classify_keep_embeddings_feeds_balance(tmp_path: Path) -> None:
    """classify --keep-embeddings | balance --embeddings: same choice as recomputing the embeddings."""
    from tests.helpers import EXAMPLES

    proc = run_cli("classify", str(EXAMPLES / "prompts.jsonl"), "--device", "cpu", "-q", "--keep-embeddings", "emb.npy", cwd=tmp_path, check=True)
    stored = np.load(tmp_path / "emb.npy", mmap_mode="r")
    classified_rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert stored.dtype == np.float16 and stored.shape == (len(classified_rows), 384)
    src = write_jsonl(tmp_path / "classified.jsonl", classified_rows)
    args = ("--ratio", "explicit=1,implicit=1,mixed=1,none=1", "--device", "cpu", "-q")
    run_cli("balance", str(src), "-o", str(tmp_path / "a.jsonl"), "--embeddings", "emb.npy", *args, cwd=tmp_path, check=True)
    run_cli("balance", str(src), "-o", str(tmp_path / "b.jsonl"), *args, cwd=tmp_path, check=True)
    assert read_jsonl(tmp_path / "a.manifest.jsonl") == read_jsonl(tmp_path / "b.manifest.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
