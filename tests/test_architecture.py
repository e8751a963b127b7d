"""The package's real imports draw the graph of ``docs/architecture.md``.

Every import statement the code runs counts, also inside functions (lazy imports
are still dependencies); ``if TYPE_CHECKING:`` blocks do not run and do not count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kedro_pipelinename"
DIAGRAM = ROOT / "docs" / "architecture.md"

#: Layers, most specific first: a module belongs to the first that prefixes it.
LAYERS = (
    "kedro_pipelinename.batch.local",
    "kedro_pipelinename.batch.aws",
    "kedro_pipelinename.batch.slurm",
    "kedro_pipelinename.batch",
    "kedro_pipelinename.testing",
    "kedro_pipelinename.commands",
    "kedro_pipelinename.demo",
    "kedro_pipelinename",
)


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for child in node.body:
                skipped.update(id(inner) for inner in ast.walk(child))
    return skipped


def _imported(module: str, path: Path, node: ast.AST, modules: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    found = set()
    for alias in node.names:
        submodule = f"{target}.{alias.name}"
        found.add(submodule if submodule in modules else target)
    return found & modules


def module_imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (at run time)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text())
        skipped = _type_checking_nodes(tree)
        graph[module] = set()
        for node in ast.walk(tree):
            if id(node) in skipped or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            graph[module] |= _imported(module, path, node, set(modules)) - {module}
    return graph


def layer_of(module: str) -> str:
    return next(
        layer for layer in LAYERS if module == layer or module.startswith(layer + ".")
    )


def diagram_edges() -> set[tuple[str, str]]:
    text = DIAGRAM.read_text()
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block, f"no mermaid block in {DIAGRAM}"
    labels = dict(re.findall(r'^\s*(\w+)\["([\w.]+)"\]', block.group(1), re.M))
    return {
        (labels[source], labels[target])
        for source, target in re.findall(r"^\s*(\w+) --> (\w+)", block.group(1), re.M)
    }


def test_layer_imports_are_exactly_the_documented_graph() -> None:
    real = {
        (layer_of(module), layer_of(imported))
        for module, targets in module_imports().items()
        for imported in targets
        if layer_of(module) != layer_of(imported)
    }

    assert real == diagram_edges()


def test_no_two_modules_import_each_other_directly_or_through_others() -> None:
    graph = module_imports()
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])

    assert cycles == []


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_has_modules(layer: str) -> None:
    # A renamed folder must not make its edges vanish from the check silently.
    assert any(layer_of(module) == layer for module in module_imports())


def test_the_contract_suite_uses_only_the_batch_cores_public_names() -> None:
    # kedro_pipelinename.testing is what engine authors install: it must work
    # with any engine through the public API (kedro_pipelinename.batch.__all__),
    # never an engine or a private module of the core.
    import kedro_pipelinename.batch

    public = set(kedro_pipelinename.batch.__all__)
    wrong = []
    for path in sorted((PACKAGE / "testing").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
                wrong += [name for name in names if name.startswith(PACKAGE.name)]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                module = node.module or ""
                if not module.startswith(PACKAGE.name):
                    continue
                if module != "kedro_pipelinename.batch":
                    wrong.append(module)
                else:
                    wrong += [
                        f"{module}.{alias.name}"
                        for alias in node.names
                        if alias.name not in public
                    ]

    assert wrong == []
