"""The folders are the layers: imports run one way, and this file says which.

Every import counts: at module level, inside functions (lazy imports are still
dependencies), under ``if TYPE_CHECKING:`` (a type is a dependency too), and the
module names of the façades' lazy tables (``_LAZY``) and of ``import_module``
calls with a literal name. Each rule is a function over the import graph, and
each is shown failing on the real graph with one wrong edge added (the
``test_*_catches_*`` tests), so none can pass by checking nothing.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Callable, Mapping, Set
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kedro_pipelinename"
ENTRY_POINT = ROOT / "kedro_pipelinename_commands"
DIAGRAM = ROOT / "docs" / "architecture.md"
P = "kedro_pipelinename"

#: The layers, bottom first: a module may import its own layer and those below.
LAYERS: tuple[str, ...] = (
    "names",  # Pipeline.name: the patch, the undo log, the supported versions
    "run",  # the run context in every process of a run
    "relaunch",  # the kedro run argv and env that reproduce part of a run
    "batch",  # the engine-free batch core
    "engines",  # local, aws, slurm: plug-ins behind the core's engine kit
    "trackers",  # mlflow: run trackers behind batch/trackers.py
    "testing",  # the engine contract suite, a pytest plugin
    "sandbox",  # kedro batch sandbox aws: moto's Batch that runs jobs
    "commands",  # kedro batch
    "demo",  # python -m kedro_pipelinename.demo
    "facade",  # the public names: the package and batch __init__s
)

#: Modules that are the public import paths, whatever folder they sit in. They
#: import from every layer (on first use) and no module of the package imports
#: them, so they sit on top.
FACADES = frozenset(
    {P, f"{P}._install", f"{P}._lazy", f"{P}.batch", "kedro_pipelinename_commands"}
)

#: The one module engines and the contract suite may import from the core.
KIT = f"{P}.batch.kit"


def layer_of(module: str) -> str:
    if module in FACADES:
        return "facade"
    return module.split(".")[1]


def engine_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "engines" else None


# --- the graph ---------------------------------------------------------------


def _modules() -> dict[str, Path]:
    modules = {}
    for path in [*PACKAGE.rglob("*.py"), *ENTRY_POINT.rglob("*.py")]:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve(package: str, name: str, level: int) -> str:
    if not level:
        return name
    base = package.split(".")
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([name] if name else [])])


def _closest(name: str, modules: Set[str]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _lazy_targets(tree: ast.Module, package: str) -> list[str]:
    """Module names in ``_LAZY = {...}`` tables and ``import_module("...")``."""
    targets = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", "") == "_LAZY" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            for value in node.value.values:
                assert isinstance(value, ast.Constant)
                name = str(value.value)
                relative = name if name.startswith(".") else "." + name
                level = len(relative) - len(relative.lstrip("."))
                targets.append(_resolve(package, relative.lstrip("."), level))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", ""))
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            targets.append(str(node.args[0].value))
    return targets


def import_graph() -> dict[str, dict[str, set[str]]]:
    """Module -> imported module -> the names imported from it (``*`` if none)."""
    modules = _modules()
    graph: dict[str, dict[str, set[str]]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text())
        package = _package_of(module, path)
        edges: dict[str, set[str]] = {}

        def add(
            target: str,
            name: str,
            edges: dict[str, set[str]] = edges,
            module: str = module,
        ) -> None:
            found = _closest(target, set(modules))
            if found is not None and found != module:
                edges.setdefault(found, set()).add(name)

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, "*")
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(package, node.module or "", node.level)
                for alias in node.names:
                    submodule = f"{target}.{alias.name}"
                    if submodule in modules:
                        add(submodule, "*")
                    else:
                        add(target, alias.name)
        for target in _lazy_targets(tree, package):
            add(target, "*")
        graph[module] = edges
    return graph


Graph = Mapping[str, Mapping[str, Set[str]]]

# --- the rules: each returns every violation ----------------------------------


def wrong_way_imports(graph: Graph) -> list[str]:
    """Imports of a higher layer, or of a façade by a non-façade."""
    rank = {layer: index for index, layer in enumerate(LAYERS)}
    return [
        f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if rank[layer_of(target)] > rank[layer_of(module)]
        or (target in FACADES and module not in FACADES)
    ]


def cycles(graph: Graph) -> list[list[str]]:
    """Every circle found by a depth-first walk."""
    state: dict[str, str] = {}
    found: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, {})):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def kit_only_imports(graph: Graph, kit_public: Set[str]) -> list[str]:
    """Engines and the contract suite import the core only through its kit's
    public names; an engine never imports another engine."""
    wrong = []
    for module, targets in sorted(graph.items()):
        kit_user = engine_of(module) is not None or layer_of(module) == "testing"
        if not kit_user:
            continue
        for target, names in sorted(targets.items()):
            if engine_of(module) is not None and engine_of(target) == engine_of(module):
                continue
            if layer_of(module) == "testing" and layer_of(target) == "testing":
                continue
            if target != KIT:
                wrong.append(f"{module} imports {target}")
            else:
                wrong += [
                    f"{module} imports {KIT}.{name} (not in the kit's __all__)"
                    for name in sorted(names)
                    if name not in kit_public
                ]
    return wrong


def facade_names_resolve(package: str) -> list[str]:
    """Every name a façade exports imports, from the module its table names."""
    module = importlib.import_module(package)
    return [
        f"{package}.{name}"
        for name in module.__all__
        if not hasattr(module, name)  # runs the lazy import
    ]


def _kit_public() -> set[str]:
    return set(importlib.import_module(KIT).__all__)


# --- the package follows them -------------------------------------------------


def test_every_import_runs_down_the_layers() -> None:
    assert wrong_way_imports(import_graph()) == []


def test_no_module_imports_itself_through_others_type_checking_included() -> None:
    assert cycles(import_graph()) == []


def test_engines_and_the_contract_suite_use_only_the_cores_engine_kit() -> None:
    assert kit_only_imports(import_graph(), _kit_public()) == []


def test_the_kit_exports_no_private_name() -> None:
    assert [name for name in _kit_public() if name.startswith("_")] == []


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_has_modules(layer: str) -> None:
    # A renamed folder must not make its rules vanish silently.
    assert any(layer_of(module) == layer for module in import_graph())


@pytest.mark.parametrize("package", [P, f"{P}.batch"])
def test_every_public_name_of_a_facade_imports(package: str) -> None:
    assert facade_names_resolve(package) == []


def test_the_shipped_runners_are_written_as_their_public_paths() -> None:
    # A resume command names the runner as users import it, not by its module.
    import kedro_pipelinename.batch as batch

    paths = {
        name: getattr(batch, name)._public_path()
        for name in batch.__all__
        if name.endswith("Runner")
    }

    assert paths == {name: f"{P}.batch.{name}" for name in paths}


def test_layer_imports_are_exactly_the_documented_graph() -> None:
    text = DIAGRAM.read_text()
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block, f"no mermaid block in {DIAGRAM}"
    labels = dict(re.findall(r'^\s*(\w+)\["([\w.]+)"\]', block.group(1), re.M))
    documented = {
        (labels[source], labels[target])
        for source, target in re.findall(r"^\s*(\w+) --> (\w+)", block.group(1), re.M)
    }
    real = {
        (_label(module), _label(target))
        for module, targets in import_graph().items()
        for target in targets
        if _label(module) != _label(target)
    }

    assert real == documented


def _label(module: str) -> str:
    engine = engine_of(module)
    return f"engines.{engine}" if engine else layer_of(module)


# --- each rule fails on a wrong import ----------------------------------------


def _with(graph: Graph, module: str, target: str, name: str = "*") -> Graph:
    changed = {
        key: {t: set(n) for t, n in value.items()} for key, value in graph.items()
    }
    changed[module].setdefault(target, set()).add(name)
    return changed


@pytest.mark.parametrize(
    ("module", "target"),
    [
        (f"{P}.names.pipeline", f"{P}.run.context"),  # names -> run context
        (f"{P}.run.tracking", f"{P}.relaunch.argv"),  # run -> relaunch
        (f"{P}.batch.plan", f"{P}.engines.aws.api"),  # core -> an engine
        (f"{P}.batch.runner", f"{P}.batch"),  # a module -> a façade
        (f"{P}.engines.local.processes", f"{P}.commands.cli"),  # engine -> commands
    ],
)
def test_the_layer_rule_catches_a_wrong_way_import(module: str, target: str) -> None:
    assert wrong_way_imports(_with(import_graph(), module, target)) != []


def test_the_cycle_rule_catches_a_type_checking_circle() -> None:
    # run/state.py once imported RunContext for its annotation only.
    graph = _with(import_graph(), f"{P}.run.state", f"{P}.run.context", "RunContext")

    assert any(
        {f"{P}.run.state", f"{P}.run.context"} <= set(cycle) for cycle in cycles(graph)
    )


@pytest.mark.parametrize(
    ("module", "target", "name"),
    [
        (f"{P}.engines.aws.api", f"{P}.engines.local.processes", "*"),  # engine
        (f"{P}.engines.slurm.engine", f"{P}.batch.driver", "Driver"),  # not the kit
        (f"{P}.engines.local.processes", KIT, "_private"),  # a private name
        (f"{P}.testing.contract", f"{P}.batch.records", "RunRecorder"),  # suite
    ],
)
def test_the_kit_rule_catches_an_engine_reaching_past_the_kit(
    module: str, target: str, name: str
) -> None:
    assert kit_only_imports(_with(import_graph(), module, target, name), _kit_public())


def test_the_graph_sees_lazy_and_type_checking_imports() -> None:
    graph = import_graph()

    # batch/__init__.py: the runner classes, through its _LAZY table only.
    assert f"{P}.engines.aws.runner" in graph[f"{P}.batch"]
    # relaunch/resume_hint.py imports the argv builders inside a function.
    assert f"{P}.relaunch.argv" in graph[f"{P}.relaunch.resume_hint"]
    # batch/engine.py imports the plan for its annotations only.
    assert f"{P}.batch.plan" in graph[f"{P}.batch.engine"]


RuleCheck = Callable[[Graph], object]
