"""File-level entry points behind ``classify``, ``train`` and ``evaluate``."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from equidata import __version__
from equidata.classifier.data import LabelledSet, labelled_chunks, load_labelled
from equidata.classifier.embeddings_out import keep_embeddings as keeping_embeddings
from equidata.classifier.finetuning import finetune
from equidata.classifier.head import HeadConfig, RiskHead, save_head
from equidata.classifier.metrics import confusion_counts, confusion_report
from equidata.classifier.predict import ClassifyStep, RiskClassifier
from equidata.classifier.settings import ENGINES, FinetuneParams, TrainParams
from equidata.classifier.train import cross_validate, fit_head
from equidata.embedding import DEFAULT_MODEL, Embedder
from equidata.classifier.devices import DevicePool
from equidata.errors import EquidataWarning, ParameterError
from equidata.engines.local import DEFAULT_CHUNK_SIZE, Progress, run_chunked
from equidata.groups import RISK_GROUPS, empty_groups
from equidata.io import RecordSource, RunCounts, check_paths, rejects_file

EVALUATE_CHUNK = 32768  # labelled rows scored at a time by evaluate_file


@dataclass
class ClassifyResult:
    """Row accounting plus how many rows landed in each group."""

    counts: RunCounts
    groups: dict[str, int] = field(default_factory=dict)


def classify_file(
    input: str | Path,
    output: str | Path = "-",
    *,
    head: str | Path | None = None,
    model: str | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    prompt_field: str | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
    resume: bool = False,
    devices: list[str] | None = None,
    keep_embeddings: str | Path | None = None,
    batch_progress: Progress | None = None,
    turns: str = "all",
    engine: str = "local",
    address: str | None = None,
    actors: int | None = None,
) -> ClassifyResult:
    """Add ``risk_group``, ``risk_scores``, ``risk_confidence`` and ``risk_turn`` to every row of ``input``.

    ``turns="all"`` classifies a dialogue from all its user turns, ``"last"`` from its last user turn.

    ``resume`` continues an interrupted run from its checkpoint; ``devices`` (e.g. ``["cuda:0",
    "cuda:1"]``) runs one model copy per device instead of one on ``device``. ``keep_embeddings``
    saves the written rows' prompt embeddings there as float16 ``.npy``; it needs one uninterrupted
    single-device run, so it is refused with ``resume`` or ``devices``. ``batch_progress`` is told
    the prompts of each model batch as they are embedded (finer than ``progress``, told each chunk's rows).

    ``engine="ray"`` runs on Ray Data instead (``address``: a cluster to join; ``actors``: model
    copies; see :func:`~equidata.classifier.distributed.classify_ray`); it takes no ``resume``,
    ``devices`` or ``keep_embeddings``.
    """
    if engine not in ENGINES:
        raise ParameterError("engine", f"one of {list(ENGINES)}", engine)
    if engine == "ray":
        if resume or devices or keep_embeddings:
            raise ParameterError("engine", "local with --resume, --devices or --keep-embeddings (Ray retries failed tasks and places actors itself)", engine)
        from equidata.classifier.distributed import classify_ray

        return classify_ray(
            input, output, head=head, model=model, batch_size=batch_size, prompt_field=prompt_field, on_error=on_error,
            rejects=rejects, chunk_size=chunk_size, address=address, actors=actors, progress=progress, turns=turns,
        )
    if keep_embeddings and (resume or devices):
        raise ParameterError("keep_embeddings", "used without --resume and --devices (the file is written in one pass)", str(keep_embeddings))
    source = RecordSource.open(input)
    writes = {"--output": output, "--rejects": rejects_file(on_error, rejects, output, source.path), "--keep-embeddings": keep_embeddings}
    check_paths({"input": input, "--head": head}, writes)
    with ExitStack() as stack:
        classifier = _classifier(stack, head, model, device, batch_size, devices, batch_progress)
        step = ClassifyStep(classifier, prompt_field=prompt_field, source=source.name, turns=turns)
        transform = stack.enter_context(keeping_embeddings(step, keep_embeddings))
        counts = run_chunked(source, transform, output, on_error=on_error, rejects=rejects, chunk_size=chunk_size, progress=progress, resume=resume)
    return ClassifyResult(counts, {g: step.group_counts.get(g, 0) for g in RISK_GROUPS})


def _classifier(
    stack: ExitStack, head: str | Path | None, model: str | None, device: str, batch_size: int | None, devices: list[str] | None, batch_progress: Progress | None,
) -> Any:
    """One :class:`RiskClassifier` on ``device``, or a :class:`DevicePool` over ``devices`` (closed with ``stack``)."""
    if devices:
        pool = DevicePool(devices, head, model=model, batch_size=batch_size)
        stack.callback(pool.close)
        return pool
    classifier = RiskClassifier(head, model=model, device=device, batch_size=batch_size)
    classifier.embedder.on_batch = batch_progress
    return classifier


#: A fitted head, its fine-tuned encoder tensors (or None), and its predict_proba over row indices.
Fitted = tuple[RiskHead, dict[str, Any] | None, Callable[[np.ndarray], np.ndarray]]


def recipe_fitter(params: FinetuneParams | TrainParams, texts: list[str], y: np.ndarray, *, model: str, device: str, batch_size: int | None) -> Callable[[np.ndarray], Fitted]:
    """``fit(rows)`` for the recipe ``params`` picks: fine-tuning, or a head over embeddings computed once.

    What ``train`` cross-validates and ships; the benchmarks fit through it too, so they measure the same thing.
    """
    if isinstance(params, FinetuneParams):
        tuned = params

        def fit_tuned(rows: np.ndarray) -> Fitted:
            ft = finetune([texts[i] for i in rows], y[rows], tuned, model=model, device=device, batch_size=batch_size)
            return ft.head, ft.encoder, lambda te: ft.predict_proba([texts[i] for i in te])

        return fit_tuned
    frozen, X = params, Embedder(model, device=device, batch_size=batch_size).encode(texts)

    def fit_frozen(rows: np.ndarray) -> Fitted:
        head = fit_head(X[rows], y[rows], [texts[i] for i in rows], frozen, embedding_model=model)
        return head, None, lambda te: head.predict_proba(X[te])

    return fit_frozen


def _load_sets(labels: str | Path | Sequence[str | Path], rejects_dir: Path | None, **kwargs: Any) -> LabelledSet:
    """Load one labelled file or several, each with its own schema, into one set.

    Rejects go to ``kwargs["rejects"]``, else into ``rejects_dir`` (``rejects.jsonl``; ``<stem>.rejects.jsonl``
    for each of several files, which refuse a single ``rejects`` file).
    """
    paths = [labels] if isinstance(labels, (str, Path)) else list(labels)
    if len(paths) == 1:
        return load_labelled(paths[0], **{**kwargs, "rejects": kwargs["rejects"] or (rejects_dir / "rejects.jsonl" if rejects_dir else None)})
    if kwargs["rejects"]:
        raise ParameterError("rejects", "left out with several label files (each gets <stem>.rejects.jsonl)", str(kwargs["rejects"]))
    return LabelledSet.join([load_labelled(p, **{**kwargs, "rejects": rejects_dir / f"{Path(p).stem}.rejects.jsonl" if rejects_dir else None}) for p in paths])


def _data_metrics(data: LabelledSet, labels: str, label_field: str) -> dict[str, Any]:
    """Rows read, used and rejected, and the label counts; warns of a group with no rows (the head could never predict it)."""
    metrics: dict[str, Any] = {
        "rows_read": data.counts.read,
        "rows_used": data.counts.written,
        "rows_rejected": data.counts.rejected,
        "label_counts": {g: int((data.y == k).sum()) for k, g in enumerate(RISK_GROUPS)},
    }
    missing = empty_groups(metrics["label_counts"])
    if missing:
        warnings.warn(
            f"no training rows for {missing} in {labels}: the head will never predict {' or '.join(missing)} "
            f"(check --label-field {label_field} and --label-map)", EquidataWarning, stacklevel=3,
        )
    return metrics


def train_from_file(
    labels: str | Path | Sequence[str | Path],
    output_dir: str | Path,
    *,
    label_field: str = "category",
    label_map: dict[str, str] | None = None,
    prompt_field: str | None = None,
    model: str | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    params: FinetuneParams | TrainParams | None = None,
    cv_folds: int = 5,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    turns: str = "all",
) -> HeadConfig:
    """Cross-validate a recipe on labelled prompts (grouped by normalised text), fit it on all, save the head.

    ``labels`` is one file or several (single-turn prompts and dialogues, each file in any supported
    schema); a dialogue row is read as ``classify --turns TURNS`` reads it.

    ``params`` picks the recipe: :class:`FinetuneParams` (the default) trains the encoder with a
    linear head, :class:`TrainParams` fits a head over the frozen encoder's embeddings.
    ``cv_folds=0`` skips cross-validation. ``progress`` is told what is being fitted. Returns the
    saved config, metrics included.
    """
    params = params or FinetuneParams()
    paths = [labels] if isinstance(labels, (str, Path)) else list(labels)
    check_paths({f"labels {i + 1}": p for i, p in enumerate(paths)} | {"--model": model}, {"--rejects": rejects}, {"--output": output_dir})
    data = _load_sets(
        paths, Path(output_dir) if on_error == "skip" else None,
        label_field=label_field, label_map=label_map, prompt_field=prompt_field, on_error=on_error, rejects=rejects, turns=turns,
    )
    say = progress or (lambda _: None)
    texts, y = data.texts, data.y
    fit = recipe_fitter(params, texts, y, model=model or DEFAULT_MODEL, device=device, batch_size=batch_size)
    metrics = _data_metrics(data, f"{labels}", label_field)
    if cv_folds:
        fold = itertools.count(1)

        def fit_predict(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
            say(f"cross-validation fold {next(fold)}/{cv_folds}")
            return fit(tr)[2](te)

        metrics["cv"] = cross_validate(fit_predict, y, texts, folds=cv_folds, seed=params.seed)
    say("fitting on all rows")
    head, encoder, _ = fit(np.arange(len(y)))
    head.config.metrics = metrics
    head.config.data_sha256 = data.sha256
    head.config.equidata_version = __version__
    save_head(head, output_dir, encoder=encoder)
    return head.config


def evaluate_file(
    labels: str | Path,
    *,
    head: str | Path | None = None,
    label_field: str = "category",
    label_map: dict[str, str] | None = None,
    prompt_field: str | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    on_error: str = "fail",
    rejects: str | Path | None = None,
    turns: str = "all",
) -> dict[str, Any]:
    """Score a head against labelled prompts or dialogues: accuracy, macro-F1, per-group P/R/F1, confusion.

    Streams: prompts are read and scored :data:`EVALUATE_CHUNK` at a time, and only the confusion
    matrix is kept, so memory does not grow with the rows.
    """
    check_paths({"labels": labels, "--head": head}, {"--rejects": rejects_file(on_error, rejects, "-", labels)})
    classifier = RiskClassifier(head, device=device, batch_size=batch_size)
    counts = RunCounts()
    confusion = confusion_counts([], [])
    chunks = labelled_chunks(labels, label_field=label_field, label_map=label_map, prompt_field=prompt_field, on_error=on_error, rejects=rejects,
                             counts=counts, chunk_rows=EVALUATE_CHUNK, turns=turns)
    for texts, chunk_y in chunks:
        confusion += confusion_counts(chunk_y, classifier.predict_proba(texts).argmax(axis=1))
    report = confusion_report(confusion)
    report["head"] = str(classifier.head_dir)
    report["turns"] = turns
    report["rows_rejected"] = counts.rejected
    return report



