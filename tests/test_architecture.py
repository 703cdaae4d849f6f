"""The package's shape: the import layering of the pipeline, and a command line that loads no model code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import equidata

PACKAGE = Path(equidata.__file__).parent

#: Each part of the package and its layer: a module may import from its own part and from lower layers only
#: (function-level imports included). The tree reads like the pipeline.
LAYERS = {
    "errors": 0, "lazy": 0,
    "groups": 1, "text": 1,
    "io": 2, "schemas": 2,
    "embedding": 3,
    "engines": 4,
    "classifier": 5, "judge": 5,
    "balance": 6, "export": 6, "ama": 6,
    "tally": 7, "integrations": 7,
    "stats": 8, "check": 8, "show": 8, "report": 8,
    "cli": 9, "__main__": 10,
}


def _part(module: str) -> str:
    """``equidata.engines.local`` -> ``engines``; ``equidata`` itself -> ``""`` (the version, re-exported errors)."""
    return module.split(".")[1] if "." in module else ""


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``equidata`` import in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return [(line, m) for line, m in found if m == "equidata" or m.startswith("equidata.")]


def test_every_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__init__.py"}
    assert parts == set(LAYERS)


def test_no_module_imports_from_a_part_above_it() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        part = rel.parts[0].removesuffix(".py")
        if part == "__init__":
            continue
        for line, module in _imports(path):
            target = _part(module)
            if target and target != part and LAYERS[target] >= LAYERS[part]:
                upward.append(f"{rel}:{line} ({part}, layer {LAYERS[part]}) imports {module} (layer {LAYERS[target]})")
    assert not upward, "\n".join(upward)


def test_engines_know_no_step_of_the_pipeline() -> None:
    """The engines run steps; they import nothing from the packages whose steps they run."""
    steps = {"classifier", "balance", "export", "ama", "judge"}
    for path in (PACKAGE / "engines").rglob("*.py"):
        assert not {_part(m) for _, m in _imports(path)} & steps, path


def test_the_command_line_loads_no_model_code() -> None:
    """``equidata --help`` stays fast: importing the CLI loads neither torch nor the model libraries."""
    heavy = ["torch", "transformers", "sentence_transformers", "ray", "matplotlib"]
    code = f"import sys, equidata.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    assert result.stdout.strip() == "[]"


def test_command_choices_come_from_the_library() -> None:
    """A list of choices is written once, in the library: the CLI declares no Enum of its own (it calls ``options.choice``)."""
    declared = []
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "Enum" for b in node.bases):
                declared.append(f"{path.name}:{node.lineno} {node.name}")
    assert not declared

