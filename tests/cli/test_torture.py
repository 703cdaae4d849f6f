"""The torture run (tests/torture.py) must handle every case: no traceback, no clobbered or leftover file."""

from __future__ import annotations

import pytest

from tests.torture import cases


def _failures(commands: list[str]) -> list[str]:
    results = list(cases(commands))
    assert len(results) > 25 * len(commands)  # every input class, and the option classes where the command writes
    return [f"{c.command} / {c.kind}: exit {c.code}, {c.why}" for c in results if not c.handled]


def test_model_free_commands_survive_the_torture_run() -> None:
    assert _failures(["export", "stats"]) == []


@pytest.mark.slow
def test_every_command_survives_the_torture_run() -> None:
    assert _failures(["classify", "balance", "train", "evaluate", "annotate-masks"]) == []
