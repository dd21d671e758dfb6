"""The house rules of the code: each floor imports only from floors below it (README "Architecture").

Read from the source with ``ast``, so an import inside a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Bottom up. A module may import its own floor's packages and every floor below; never a floor above.
FLOORS: dict[str, int] = {
    "clipped": 0,
    "clipped_resources": 1,
    "clipped_assets": 2,
    "clipped_sensors": 2,
    "definitions": 3,
    "clipped_app": 4,
    "api": 4,
}
# Third-party packages the domain must not lean on: it is plain Python, testable without an orchestrator.
DOMAIN_FORBIDDEN_THIRD_PARTY = {"dagster", "dagster_k8s", "dagster_aws", "dagster_postgres", "dagster_graphql"}
# Pairs on the same floor that must stay apart: the review service uses the domain, never asset modules.
FORBIDDEN_PAIRS = {("api", "clipped_assets")}


def project_modules() -> list[Path]:
    files = [ROOT / "definitions.py"]
    for package in FLOORS:
        if (ROOT / package).is_dir():
            files += sorted((ROOT / package).rglob("*.py"))
    return files


def top_package(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def imported_names(tree: ast.AST) -> list[tuple[str, int, bool]]:
    """(top-level module, line, inside a function) for every absolute import in ``tree``."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend((alias.name.split(".")[0], child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module.split(".")[0], child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def violations() -> list[str]:
    problems = []
    for path in project_modules():
        importer = top_package(path)
        floor = FLOORS[importer]
        for module, line, in_function in imported_names(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(ROOT)}:{line} imports {module}"
            if module in FLOORS and FLOORS[module] > floor:
                problems.append(f"{where} (floor {FLOORS[module]} above {importer}'s floor {floor})")
            elif (importer, module) in FORBIDDEN_PAIRS:
                problems.append(f"{where} ({importer} must not import {module})")
            elif importer == "clipped" and module in DOMAIN_FORBIDDEN_THIRD_PARTY:
                problems.append(f"{where} (the domain does not use Dagster)")
            elif in_function and module in FLOORS:
                problems.append(f"{where} inside a function (a first-party import belongs at the top)")
    return problems


def test_every_floor_imports_only_from_floors_below_it():
    assert violations() == []


@pytest.mark.parametrize(
    ("importer", "source", "reason"),
    [
        ("clipped/example.py", "from clipped_resources.storage import StorageResource\n", "above"),
        ("clipped/example.py", "import dagster\n", "Dagster"),
        ("clipped_resources/example.py", "def f():\n    from clipped_assets import render\n", "above"),
        ("api/example.py", "from clipped_assets.render import rendered_clips\n", "must not import"),
        ("clipped_app/example.py", "def f():\n    from definitions import build_definitions\n", "inside a function"),
    ],
)
def test_the_check_catches_a_forbidden_import(tmp_path, monkeypatch, importer, source, reason):
    """A planted module with a forbidden import is reported, so the rule cannot pass vacuously."""
    planted = tmp_path / importer
    planted.parent.mkdir(parents=True)
    planted.write_text(source)
    (tmp_path / "definitions.py").write_text("")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    [problem] = violations()
    assert problem.startswith(importer) and reason in problem


def test_no_module_passes_values_by_writing_the_environment():
    """Configuration travels as arguments and resources; a value written to os.environ for a later reader is
    invisible in signatures and leaks into every child process."""
    writes = []
    for path in project_modules() + sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            target = None
            if isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                target = next((t for t in targets if isinstance(t, ast.Subscript)), None)
                target = target.value if target is not None else None
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in {"setdefault", "update", "pop", "clear"}:
                    target = node.func.value
                elif node.func.attr == "putenv":
                    writes.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if target is not None and ast.unparse(target) == "os.environ":
                writes.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writes == []
