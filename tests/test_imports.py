"""Imports point one way: no memprint module imports, at any depth or inside a function, a module that imports
it back; the registries and the maths sit below the config loader; the package declares what it imports."""

import ast
import re
import sys
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "memprint"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the memprint modules it names in an import statement anywhere in its source."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            for target in targets:
                while target and target not in modules:  # "from a import name": the module a
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("memprint"):
                    edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    sys.setrecursionlimit(10_000)
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_planted_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_memprint_modules():
    assert cycles(import_graph()) == []


def test_registries_and_maths_sit_below_the_config_loader():
    graph = import_graph()

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for w in graph[todo.pop()] - seen:
                seen.add(w)
                todo.append(w)
        return seen

    low_level = [m for m in graph if m.startswith(("memprint.generators", "memprint.encoders", "memprint.scores"))]
    low_level += ["memprint.ct", "memprint.cells", "memprint.invmm", "memprint.runtime", "memprint.io"]
    for module in low_level:
        assert not {"memprint.config", "memprint.config_checks"} & reachable(module), module


def test_every_imported_package_is_declared():
    import tomllib

    declared = {
        re.split(r"[<>=\[ ]", d)[0].lower().replace("-", "_")
        for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    names = {
        "pil": "pillow",
        "sklearn": "scikit_learn",
        "yaml": "pyyaml",
        "open_clip": "open_clip_torch",
        "faiss": "faiss_cpu",
    }
    imported = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in ("memprint", "__future__")}
    missing = sorted(m for m in third_party if names.get(m.lower(), m.lower()) not in declared)
    assert not missing, f"imported but not in pyproject.toml dependencies: {missing}"
