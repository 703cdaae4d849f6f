"""The risk head: a small torch module over sentence embeddings, stored as safetensors + JSON.

Two designs:

- ``softmax``: four logits, one per group;
- ``two_axis``: two independent sigmoids, explicit content (EHD or MHD) and harmful intent
  (IHD or MHD), combined as explicit = e(1-i), implicit = (1-e)i, mixed = ei, none = (1-e)(1-i).

Either design ends with a per-group log-prior correction (``bias``) tuned for macro-F1.

A head trained with a fine-tuned encoder (``equidata train --encoder finetune``) also holds the
encoder's changed weights, ``encoder.safetensors`` (float16), laid over the named base model when
it loads; ``config.encoder_weights`` names that file.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from equidata.errors import EquidataError, InputError, ParameterError
from equidata.groups import RISK_GROUPS

FORMAT = "equidata-risk-head/1"
DESIGNS = ("softmax", "two_axis")
WEIGHTS_FILE = "head.safetensors"
ENCODER_FILE = "encoder.safetensors"
CONFIG_FILE = "config.json"
DEFAULT_HEAD_DIR = Path(__file__).resolve().parent.parent / "heads" / "default"


@dataclass
class HeadConfig:
    """Everything needed to rebuild and audit a head (saved as ``config.json``).

    ``input_scale`` multiplies the (unit-length) embedding before the first layer;
    ``encoder_weights`` names the fine-tuned encoder file in the head's folder ("" = the frozen
    base model).
    """

    embedding_model: str
    embedding_dim: int
    design: str = "softmax"
    hidden: int = 0
    dropout: float = 0.0
    input_scale: float = 1.0
    encoder_weights: str = ""
    labels: list[str] = field(default_factory=lambda: list(RISK_GROUPS))
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    data_sha256: str = ""
    equidata_version: str = ""
    format: str = FORMAT

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ParameterError("design", f"one of {list(DESIGNS)}", self.design)
        if self.hidden < 0:
            raise ParameterError("hidden", "an integer >= 0 (0 = linear head)", self.hidden)
        if self.encoder_weights and Path(self.encoder_weights).name != self.encoder_weights:
            raise ParameterError("encoder_weights", "a file name inside the head's folder", self.encoder_weights)
        if list(self.labels) != list(RISK_GROUPS):
            raise ParameterError("labels", f"exactly {list(RISK_GROUPS)}", self.labels)


class RiskHead(nn.Module):
    """Maps ``(n, dim)`` embeddings to ``(n, 4)`` log-probabilities over :data:`RISK_GROUPS`."""

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        self.config = config
        n_out = 4 if config.design == "softmax" else 2
        dim = config.embedding_dim
        if config.hidden:
            self.net: nn.Module = nn.Sequential(nn.Linear(dim, config.hidden), nn.GELU(), nn.Dropout(config.dropout), nn.Linear(config.hidden, n_out))
        else:
            self.net = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(dim, n_out))
        self.register_buffer("bias", torch.zeros(len(RISK_GROUPS)))

    def raw_log_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities before the prior correction (what training optimises)."""
        z = self.net(x * self.config.input_scale)
        if self.config.design == "softmax":
            return torch.log_softmax(z, dim=-1)
        e, i = nn.functional.logsigmoid(z[:, 0]), nn.functional.logsigmoid(z[:, 1])
        ne, ni = nn.functional.logsigmoid(-z[:, 0]), nn.functional.logsigmoid(-z[:, 1])
        return torch.stack([e + ni, ne + i, e + i, ne + ni], dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.raw_log_proba(x) + self.bias, dim=-1)

    @torch.inference_mode()
    def predict_proba(self, x: Any) -> Any:
        """Probabilities for a numpy array of embeddings (rows sum to 1)."""
        import numpy as np

        self.eval()
        t = torch.as_tensor(np.asarray(x, dtype=np.float32))
        if t.ndim != 2 or t.shape[1] != self.config.embedding_dim:
            raise EquidataError(
                f"the head expects {self.config.embedding_dim}-dim embeddings (embedding_dim in its {CONFIG_FILE}), "
                f"but {self.config.embedding_model!r} gives {t.shape[-1]}: the config names another model than the head was trained on"
            )
        return self(t).exp().numpy()


def save_head(head: RiskHead, directory: str | Path, encoder: dict[str, torch.Tensor] | None = None) -> Path:
    """Write ``head.safetensors`` and ``config.json`` into ``directory`` (created if needed).

    ``encoder``: the fine-tuned encoder tensors that differ from the base model, saved as
    float16 ``encoder.safetensors`` (and named in the config).
    """
    from safetensors.torch import save

    from equidata.io.writers import atomic_output, write_json

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files = {WEIGHTS_FILE: {k: v.detach().contiguous().cpu() for k, v in head.state_dict().items()}}
    head.config.encoder_weights = ENCODER_FILE if encoder else ""
    if encoder:
        files[ENCODER_FILE] = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in encoder.items()}
    elif (out / ENCODER_FILE).exists():
        (out / ENCODER_FILE).unlink()  # a stale encoder from an earlier fine-tuned head
    for name, state in files.items():
        with atomic_output(out / name) as fh:
            fh.write(save(state, metadata={"format": FORMAT}))
    write_json(out / CONFIG_FILE, asdict(head.config))
    return out


def head_files(directory: str | Path, config: HeadConfig) -> list[Path]:
    """The files a saved head consists of (what its identity is hashed from)."""
    d = Path(directory)
    return [d / CONFIG_FILE, d / WEIGHTS_FILE] + ([d / config.encoder_weights] if config.encoder_weights else [])


#: The JSON type(s) each config key must have; ``int`` also accepts no ``bool``.
_CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "embedding_model": (str,), "embedding_dim": (int,), "design": (str,), "hidden": (int,), "dropout": (int, float),
    "input_scale": (int, float), "encoder_weights": (str,), "labels": (list,), "training": (dict,), "metrics": (dict,),
    "data_sha256": (str,), "equidata_version": (str,), "format": (str,),
}
_REQUIRED = ("embedding_model", "embedding_dim", "format")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON (numbers must be finite)")


def read_config(path: Path) -> HeadConfig:
    """Parse and validate a head's ``config.json``; :class:`InputError` names the file and the field.

    Refused: text that is not a JSON object, unknown or missing keys, values of the wrong type,
    NaN or infinite numbers, and out-of-range settings.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not a valid JSON head config: {exc}", path=str(path)) from exc
    if not isinstance(raw, dict):
        raise InputError(f"expected a JSON object (the head's config), got a {type(raw).__name__}", path=str(path))
    if raw.get("format") != FORMAT:
        raise InputError(f"unknown head format {raw.get('format')!r}, expected {FORMAT!r}", path=str(path), field="format")
    for key in raw:
        if key not in _CONFIG_TYPES:
            raise InputError(f"unknown key; a head config has {sorted(_CONFIG_TYPES)}", path=str(path), field=key)
    for key in _REQUIRED:
        if key not in raw:
            raise InputError("missing", path=str(path), field=key)
    for key, value in raw.items():
        if not isinstance(value, _CONFIG_TYPES[key]) or isinstance(value, bool):
            want = " or ".join(t.__name__ for t in _CONFIG_TYPES[key])
            raise InputError(f"expected {want}, got {type(value).__name__} {value!r}", path=str(path), field=key)
    checks = {
        "embedding_model": (bool(raw["embedding_model"].strip()), "a model name or folder"),
        "embedding_dim": (raw["embedding_dim"] > 0, "a positive integer"),
        "dropout": (0.0 <= raw.get("dropout", 0.0) < 1.0, "a number in [0, 1)"),
        "input_scale": (math.isfinite(raw.get("input_scale", 1.0)) and raw.get("input_scale", 1.0) > 0, "a finite number > 0"),
    }
    for key, (ok, must) in checks.items():
        if not ok:
            raise InputError(f"must be {must}, got {raw[key]!r}", path=str(path), field=key)
    try:
        return HeadConfig(**raw)
    except ParameterError as exc:
        raise InputError(str(exc), path=str(path)) from exc


def load_state(path: Path, head: RiskHead) -> dict[str, torch.Tensor]:
    """Read ``head.safetensors`` and check its tensors against the config's architecture.

    Refused (:class:`InputError` naming the file and tensor): a file that is not safetensors,
    missing or unknown tensors, shapes the config does not give, NaN or infinite values.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(f"not a safetensors file of head weights: {exc}", path=str(path)) from exc
    cfg = head.config
    arch = f"embedding_dim={cfg.embedding_dim}, hidden={cfg.hidden}, design={cfg.design!r} in {CONFIG_FILE}"
    for name, want in head.state_dict().items():
        if name not in state:
            raise InputError(f"missing tensor (a head with {arch} has {sorted(head.state_dict())})", path=str(path), field=name)
        got = state[name]
        if tuple(got.shape) != tuple(want.shape):
            raise InputError(f"has shape {list(got.shape)}, but {arch} needs {list(want.shape)}", path=str(path), field=name)
        if not got.is_floating_point() or not bool(torch.isfinite(got).all()):
            raise InputError("holds NaN, infinite or non-float values", path=str(path), field=name)
    unknown = sorted(set(state) - set(head.state_dict()))
    if unknown:
        raise InputError(f"unknown tensor; a head with {arch} has {sorted(head.state_dict())}", path=str(path), field=unknown[0])
    return state


def resolve_embedding_model(directory: Path, name: str) -> str:
    """A relative ``embedding_model`` is a folder next to the head, not one under the current folder.

    ``./x`` and ``../x`` always resolve from the head's folder; ``org/name`` does when that folder
    exists there, and is otherwise a model name.
    """
    local = directory / name
    if name.startswith(("./", "../")) or (not Path(name).is_absolute() and local.is_dir()):
        return str(local.resolve())
    return name


def load_head(directory: str | Path | None = None) -> RiskHead:
    """Load a head saved by :func:`save_head`; ``None`` loads the head shipped with equidata.

    Every part is validated (:func:`read_config`, :func:`load_state`), so a damaged or hand-edited
    head fails with a message naming its file and field instead of a traceback or NaN scores.
    """
    d = Path(directory) if directory else DEFAULT_HEAD_DIR
    cfg_path, weights = d / CONFIG_FILE, d / WEIGHTS_FILE
    if not cfg_path.is_file() or not weights.is_file():
        raise EquidataError(f"{d} is not a risk head: expected {CONFIG_FILE} and {WEIGHTS_FILE} (build one with `equidata train`)")
    config = read_config(cfg_path)
    config.embedding_model = resolve_embedding_model(d, config.embedding_model)
    head = RiskHead(config)
    head.load_state_dict(load_state(weights, head))
    missing = [p for p in head_files(d, head.config) if not p.is_file()]
    if missing:
        raise InputError(f"the head's config names {missing[0].name}, which is missing", path=str(cfg_path), field="encoder_weights")
    return head.eval()
