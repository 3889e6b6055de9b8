"""Every service function that commits a unit of work runs again after a conflict
(deadlock, Galera certification conflict, lock wait timeout): it is decorated with
``argos_core.transactions.retrying``, which re-runs the whole transaction (issue 13)."""

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "argos_core" / "services"


def _commits(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "uow"
        for node in ast.walk(function)
    )


def _retrying(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name) and target.id == "retrying":
            return True
    return False


def test_every_service_function_that_commits_is_retried_after_a_conflict():
    bare = [
        f"{path.name}:{node.name}"
        for path in sorted(SERVICES.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and _commits(node) and not _retrying(node)
    ]
    assert bare == []
