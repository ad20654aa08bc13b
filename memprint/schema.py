"""The config schema as data (``memprint/schemas/config.schema.yaml``, shipped inside the package): where every
default lives, read without importing any registry, so the maths modules and the registries can take their
defaults from it and the import graph points one way (registries below the config loader, never above)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

SCHEMA = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"


@functools.cache
def _raw() -> dict:
    return yaml.load(SCHEMA.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def raw() -> dict:
    """A fresh copy of the schema file's contents (``$defs`` and local ``$ref`` as written)."""
    return copy.deepcopy(_raw())


def inline(node, root: dict):
    """``node`` with every local ``$ref`` replaced by what it points at (so defaults behind refs are seen)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, root)
        return {key: inline(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [inline(value, root) for value in node]
    return node


def defaults(properties: dict) -> dict:
    return {name: copy.deepcopy(sub["default"]) for name, sub in properties.items() if "default" in sub}


def section_defaults(section: str) -> dict:
    """The defaults of a dotted section of the schema, e.g. ``ct``, ``runtime`` or ``invmm.settings``."""
    root = _raw()
    node = inline(root, root)
    for part in section.split("."):
        node = node["properties"][part]
    return defaults(node["properties"])


def kind_defaults(family: str, kind: str | None, block: dict | None = None) -> dict:
    """The defaults of one kind of a registry (``generator``, ``encoder``, ``score``): the keys every kind of the
    family takes merged with the kind's block (``block``: a kind defined outside memprint carries its own);
    {} for a kind the schema does not know."""
    root = _raw()
    defs = root["$defs"]
    block = block if block is not None else defs.get(f"{family}_kinds", {}).get(kind)
    if block is None:
        return {}
    common = defs.get(f"{family}_common", {}).get("properties", {})
    return defaults(inline({**common, **block.get("properties", {})}, root))
