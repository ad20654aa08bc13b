"""Which code made a result: one hash of a workflow script and every memprint module it can import (read
statically, function-level imports included), passed to its rule as a param. A real edit of that code changes
the hash, so exactly the jobs that run it (and what depends on them) rerun; touching a file changes nothing.
Snakemake's own code trigger is off (``profiles/default``): it reruns a script's jobs when the file is merely
touched and never notices an edit of the library the script calls."""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = "memprint"


def _module_file(root: Path, module: str) -> Path | None:
    """The source file of a memprint module (a package's __init__.py), or None if there is none."""
    parts = module.split(".")
    path = root.joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported(source: str) -> set[str]:
    """Every ``memprint`` module a source names in an import, anywhere in it; ``from a import b`` yields
    ``a`` and ``a.b`` (which counts where ``b`` is a module)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@functools.cache
def closure(root: str, start: frozenset[str]) -> dict[str, Path]:
    """The memprint modules reachable from ``start`` through imports (parent packages included): name -> file."""
    base, todo, files = Path(root), list(start), {}
    while todo:
        module = todo.pop()
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
            name = ".".join(parts[:depth])
            if name in files:
                continue
            path = _module_file(base, name)
            if path is not None:
                files[name] = path
                todo += sorted(imported(path.read_text()))
    return files


def code_version(script: str | Path, root: str | Path) -> str:
    """SHA-256 (16 hex digits) of ``script`` and the sources of every memprint module it can reach; ``root`` is
    the folder that holds the ``memprint`` package."""
    script = Path(script)
    text = script.read_text()
    modules = closure(str(Path(root).resolve()), frozenset(imported(text)))
    digest = hashlib.sha256(text.encode())
    for name in sorted(modules):
        digest.update(f"\0{name}\0".encode() + modules[name].read_bytes())
    return digest.hexdigest()[:16]
