"""The step protocol every engine runs: a batch transform over rows, with resume hooks that default to nothing.

A :class:`Step` maps a list of :class:`~equidata.io.Row` to, in the same order, one output dict or one
:class:`~equidata.io.Reject` per row. For ``resume`` and for Ray's actors it also offers:

- :meth:`Step.fingerprint`: what makes its results what they are (model, head, settings); a
  checkpoint whose fingerprint differs refuses to resume, naming the part that changed;
- :meth:`Step.state` and :meth:`Step.restore`: JSON-able state carried across chunks (a detected
  schema, running counts), saved with every checkpoint.

A plain function is a step too: :func:`as_step` gives it the default hooks.
:class:`SchemaStep` is a step that detects the input's schema once, from the first row that has one;
:class:`GroupCountingStep` also counts the groups it sorts rows into.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from types import FunctionType, MethodType
from typing import Any

from equidata.io import Reject, Row
from equidata.schemas import Schema, detect_schema_of

Transform = Callable[[list[Row]], list[dict[str, Any] | Reject]]


class Step:
    """Base of the engines' steps: subclasses implement ``__call__`` and override the hooks they need."""

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        raise NotImplementedError

    def fingerprint(self) -> dict[str, Any]:
        """What makes this step's output what it is (default: nothing beyond the input and settings)."""
        return {}

    def state(self) -> dict[str, Any]:
        """JSON-able state carried across chunks (default: none)."""
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state` returned (default: nothing to take)."""


class _FunctionStep(Step):
    def __init__(self, transform: Transform) -> None:
        self.transform = transform

    def __call__(self, rows: list[Row]) -> list[dict[str, Any] | Reject]:
        return self.transform(rows)


def as_step(transform: Step | Transform) -> Step:
    """``transform`` itself if it is a :class:`Step`; a function becomes a step with the default hooks.

    Any other callable is refused: its resume hooks, if it has any, would be silently ignored.
    """
    if isinstance(transform, Step):
        return transform
    if isinstance(transform, (FunctionType, MethodType, partial)):
        return _FunctionStep(transform)
    raise TypeError(f"a step must subclass equidata.engines.base.Step or be a function, not {type(transform).__name__}")


class SchemaStep(Step):
    """A step over one file whose ``schema`` is detected once, from the first row that has one.

    Subclasses set ``prompt_field`` and ``source``; :meth:`schema_state`/:meth:`restore_schema`
    carry the detected schema through a resume checkpoint.
    """

    prompt_field: str | None = None
    source: str | None = None
    schema: Schema | None = None

    def detect(self, rows: list[Row]) -> None:
        """Detect the schema from the first of ``rows`` that has one, unless it is known already."""
        if self.schema is None:
            self.schema = detect_schema_of((r.data for r in rows), self.prompt_field, source=self.source)

    def schema_state(self) -> list[str] | None:
        """The detected schema as JSON (``[name, field]``), for a checkpoint."""
        return [self.schema.name, self.schema.field] if self.schema else None

    def restore_schema(self, state: list[str] | None) -> None:
        """Take back the schema saved by :meth:`schema_state`."""
        self.schema = Schema(*state) if state else None


class GroupCountingStep(SchemaStep):
    """A schema step that sorts rows into groups and counts them; the schema and the counts ride in its state."""

    group_counts: Counter[str]

    def state(self) -> dict[str, Any]:
        """The detected schema and the group counts so far (saved with each checkpoint)."""
        return {"schema": self.schema_state(), "groups": dict(self.group_counts)}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state` (a resumed run, or a Ray actor's next chunk)."""
        self.restore_schema(state["schema"])
        self.group_counts = Counter(state["groups"])
