"""The layering rule, checked: the api and the two workers never import each other, and
`shared` imports no service (they talk through the database and tasks sent by name).
`services/cli.py`, the entry point that starts each of them, may import them all."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "shared": ("services",),
    "services/api": ("services.notifier", "services.scheduler"),
    "services/notifier": ("services.api", "services.scheduler"),
    "services/scheduler": ("services.api", "services.notifier"),
}


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_a_layer_imports_no_forbidden_one(layer: str) -> None:
    forbidden = LAYERS[layer]
    breaches = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for module in sorted(_imports(path))
        if any(module == f or module.startswith(f"{f}.") for f in forbidden)
    ]
    assert breaches == []


def test_the_rule_would_see_a_breach(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from services.scheduler import tasks\n")
    assert "services.scheduler.tasks" in _imports(module)
