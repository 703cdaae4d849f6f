"""Exceptions with the exit codes the CLI maps them to: 1 for failures, 2 for bad input or usage."""

from __future__ import annotations


class EquidataError(Exception):
    """A failure the user can act on; the CLI prints it without a traceback (exit 1)."""

    exit_code = 1


class ParameterError(EquidataError, ValueError):
    """A parameter outside its valid range (exit 2).

    Messages follow one format: "The 'ratio' parameter must be ... Got ... instead."
    """

    exit_code = 2

    def __init__(self, name: str, must: str, got: object) -> None:
        super().__init__(f"The {name!r} parameter must be {must}. Got {got!r} instead.")


class InputError(EquidataError):
    """Bad input data, located by file, line (or row) and field (exit 2)."""

    exit_code = 2

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        line: int | None = None,
        unit: str = "line",
        field: str | None = None,
    ) -> None:
        self.reason, self.path, self.line, self.unit, self.field = reason, path, line, unit, field
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}" if self.unit == "line" else f"{where} ({self.unit} {self.line})"
        field = f" field {self.field!r}:" if self.field else ""
        return f"{where}:{field} {self.reason}"


class EquidataWarning(UserWarning):
    """Something the user should know that does not stop the run; the CLI prints it as "warning: ..."."""
