"""Several devices on one machine: one worker process per device, each with its own model copy.

:class:`DevicePool` has the ``predict_proba`` / ``identity`` interface of
:class:`~equidata.classifier.RiskClassifier`. Each chunk's texts are sorted by length exactly as
the single-device :class:`~equidata.embedding.Embedder` sorts them, cut into the same batches, and
dealt out as contiguous runs of whole batches, one run per device; so every text meets the same
batch neighbours as on one device, and the scores equal a one-device run on the same kind of
device. Texts and results cross the process boundary as JSON and raw float32 bytes.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from equidata.classifier.predict import RiskClassifier
from equidata.embedding import default_batch_size, resolve_device
from equidata.errors import EquidataError, ParameterError
from equidata.groups import RISK_GROUPS


def parse_devices(spec: str) -> list[str]:
    """``0,1`` -> ``["cuda:0", "cuda:1"]``; ``cpu,cpu`` and ``cuda:2,cuda:3`` are taken as written."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise ParameterError("devices", "a comma-separated list such as 0,1 or cuda:0,cuda:1", spec)
    return [f"cuda:{p}" if p.isdigit() else p for p in parts]


def _worker(conn: Any, model: str, encoder_weights: Path | None, device: str, batch_size: int, threads: int) -> None:
    import torch

    from equidata.embedding import Embedder

    if threads:
        torch.set_num_threads(threads)
    try:
        embedder = Embedder(model, device=device, batch_size=batch_size, encoder_weights=encoder_weights)
        conn.send_bytes(str(embedder.dim).encode())
        while (msg := conn.recv_bytes()) != b"":
            conn.send_bytes(embedder.encode(json.loads(msg)).tobytes())
    except Exception as exc:  # reported to the parent, which raises it
        conn.send_bytes(b"!" + f"{type(exc).__name__}: {exc}".encode())


class DevicePool:
    """A :class:`RiskClassifier` whose embedding model runs on ``devices`` (one spawned process each).

    The head runs here, on each whole chunk, as it does on one device (its result too depends, in
    the last bits, on how many rows share a matrix product).
    """

    def __init__(self, devices: Sequence[str], head: str | Path | None = None, *, model: str | None = None, batch_size: int | None = None) -> None:
        devices = [resolve_device(d) for d in devices]
        self.batch_size = batch_size or default_batch_size(devices[0])
        self.classifier = RiskClassifier(head, model=model, device="cpu", batch_size=self.batch_size)  # the head; its model stays unloaded
        ctx = mp.get_context("spawn")
        # CPU workers keep torch's default thread count: on a CPU the scores depend, in the last
        # bit, on it, and equal scores to a one-device run matter more than a degenerate mode's speed.
        threads = max(1, (os.cpu_count() or 1) // len(devices)) if devices[0].startswith("cuda") else 0
        self._conns, self._procs = [], []
        embedder = self.classifier.embedder
        for device in devices:
            parent, child = ctx.Pipe()
            args = (child, embedder.model_name, embedder.encoder_weights, device, self.batch_size, threads)
            proc = ctx.Process(target=_worker, args=args, daemon=True, name=f"equidata-{device}")
            proc.start()
            self._conns.append(parent)
            self._procs.append(proc)
        self.dim = int(self._receive(self._conns[0]))
        for conn in self._conns[1:]:
            self._receive(conn)
        kinds = sorted({"cuda" if d.startswith("cuda") else d for d in devices})
        self._identity = {**self.classifier.identity(), "device / batch size / fp16": f"{'+'.join(kinds)} x{len(devices)} / {self.batch_size}"}

    def _receive(self, conn: Any) -> bytes:
        msg = conn.recv_bytes()
        if msg.startswith(b"!"):
            self.close()
            raise EquidataError(f"a device worker failed: {msg[1:].decode()}")
        return msg

    def identity(self) -> dict[str, Any]:
        """As :meth:`RiskClassifier.identity`, plus the device list."""
        return self._identity

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, 4)`` probabilities; the texts are embedded on all devices at once."""
        if not texts:
            return np.zeros((0, len(RISK_GROUPS)), dtype=np.float32)
        emb = np.empty((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        n_batches = -(-len(texts) // self.batch_size)
        per = -(-n_batches // len(self._conns)) * self.batch_size
        runs = [order[i : i + per] for i in range(0, len(order), per)]
        for conn, run in zip(self._conns, runs):
            conn.send_bytes(json.dumps([texts[i] for i in run], ensure_ascii=False).encode())
        for conn, run in zip(self._conns, runs):
            emb[run] = np.frombuffer(self._receive(conn), dtype=np.float32).reshape(len(run), self.dim)
        return self.classifier.head.predict_proba(emb)

    def close(self) -> None:
        """Stop the worker processes."""
        for conn in self._conns:
            try:
                conn.send_bytes(b"")
            except OSError:
                pass
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
        self._conns, self._procs = [], []
