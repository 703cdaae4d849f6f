"""Engines that run a step over a dataset: ``local`` (streamed chunks on this machine), ``ray`` (Ray Data).

Every engine runs a :class:`~equidata.engines.base.Step`; the engines know no step of the pipeline.
"""

from equidata.engines.base import GroupCountingStep, SchemaStep, Step, as_step
from equidata.engines.local import DEFAULT_CHUNK_SIZE, run_chunked

__all__ = ["DEFAULT_CHUNK_SIZE", "GroupCountingStep", "SchemaStep", "Step", "as_step", "run_chunked"]
