"""Engines that run a step over a dataset: ``local`` (streamed chunks on this machine)."""

from equidata.engines.local import DEFAULT_CHUNK_SIZE, run_chunked

__all__ = ["DEFAULT_CHUNK_SIZE", "run_chunked"]
