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


def environment_writes(paths: list[Path]) -> list[str]:
    """Where ``paths`` write ``os.environ``: item assignment or deletion, ``|=``, its mutating methods, putenv."""
    writes = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign | ast.Delete):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in {"setdefault", "update", "pop", "popitem", "clear"}:
                    targets = [node.func.value]
                elif node.func.attr in {"putenv", "unsetenv"}:
                    writes.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            written = [target.value if isinstance(target, ast.Subscript) else target for target in targets]
            if any(ast.unparse(target) == "os.environ" for target in written):
                writes.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return writes


def test_no_module_passes_values_by_writing_the_environment():
    """Configuration travels as arguments and resources; a value written to os.environ for a later reader is
    invisible in signatures and leaks into every child process."""
    assert environment_writes(project_modules() + sorted((ROOT / "bench").glob("*.py"))) == []


@pytest.mark.parametrize(
    ("source", "writes"),
    [
        ('os.environ["A"] = "1"', 1),
        ('os.environ |= {"A": "1"}', 1),
        ('del os.environ["A"]', 1),
        ('os.environ.update(A="1")', 1),
        ('os.environ.setdefault("A", "1")', 1),
        ('os.putenv("A", "1")', 1),
        ('value = os.environ.get("A")\nchild = dict(os.environ)\nchild["A"] = "1"', 0),  # a child's own copy
    ],
)
def test_the_check_catches_a_write_to_the_environment(tmp_path, monkeypatch, source, writes):
    planted = tmp_path / "example.py"
    planted.write_text(f"import os\n{source}\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert len(environment_writes([planted])) == writes


# Modules of the domain that name files outside the stage layout, and why.
FILE_NAMES_ELSEWHERE = {
    "clipped/live/layout.py": "a live stream's own layout, built on clipped/layout.py's key rules",
    "clipped/brand/kit.py": "a workspace's brand kit, written by the review API, not by a stage",
    "clipped/live/service.py": "the stream service's registry of a workspace's streams, not a stage output",
}


def spells_a_code_version(node: ast.AST) -> bool:
    """``Stage("name", "1")`` or ``Stage("name", code_version="1")``, not ``Stage(name, CLIP_VERSION.code_version)``."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Stage"):
        return False
    arguments = [*node.args[1:], *(keyword.value for keyword in node.keywords)]
    return any(isinstance(argument, ast.Constant) for argument in arguments)


def file_name_constants(tree: ast.Module) -> list[tuple[str, int]]:
    """Module-level ``SOMETHING_FILE = "name"`` (or ``_FILES = ("a", "b")``) assignments."""
    found = []
    for node in tree.body:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
        literal = all(isinstance(value, ast.Constant) and isinstance(value.value, str) for value in values)
        found += [
            (target.id, node.lineno)
            for target in targets
            if literal and isinstance(target, ast.Name) and target.id.endswith(("_FILE", "_FILES"))
        ]
    return found


def misplaced_names() -> list[str]:
    misplaced = []
    for path in sorted((ROOT / "clipped").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text())
        if relative != "clipped/stages.py":
            misplaced += [
                f"{relative}:{node.lineno} defines a stage" for node in ast.walk(tree) if spells_a_code_version(node)
            ]
        if relative != "clipped/layout.py" and relative not in FILE_NAMES_ELSEWHERE:
            misplaced += [f"{relative}:{line} names a stage file ({name})" for name, line in file_name_constants(tree)]
    return misplaced


def test_stages_and_their_file_names_are_named_once():
    """A stage's name and code version are written once, in clipped/stages.py, and the names of the files stages
    write are in clipped/layout.py: a second spelling elsewhere drifts from the one the records are keyed by."""
    assert misplaced_names() == []


def test_the_check_catches_a_stage_or_file_name_outside_its_module(tmp_path, monkeypatch):
    planted = tmp_path / "clipped" / "render" / "example.py"
    planted.parent.mkdir(parents=True)
    planted.write_text('EXAMPLE = Stage("example", code_version="1")\nEXAMPLE_FILE = "example.json"\n')
    derived = tmp_path / "clipped" / "stages.py"
    derived.write_text('A = Stage("a", "1")\nB = Stage(f"{A.name}/v2", A.code_version)\n')
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert misplaced_names() == [
        "clipped/render/example.py:1 defines a stage",
        "clipped/render/example.py:2 names a stage file (EXAMPLE_FILE)",
    ]
