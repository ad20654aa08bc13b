"""The one config loader of Snakemake (``rules/common.smk``) and the CLI: read, expand the zoo, check against the
schema, fill the schema's defaults, and run the checks that need more than the schema (``config_checks``).

The schema (``schemas/config.schema.yaml``) is the only place a default lives. Generator and encoder kinds are
registries: each registered kind's block (``$defs/generator_kinds/<kind>``, or the class's own ``schema``) is
merged with the keys every kind takes and chosen by the entry's ``kind``.
"""

from __future__ import annotations

import copy
import functools
import importlib
from pathlib import Path

import yaml

from memprint import MemprintError

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"
RESERVED_NAMES = ("train", "test", "heldout")


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (plain YAML keeps the last one, silently)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first at line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict:
    """A YAML mapping; a missing file, a syntax error or a key given twice is one line naming the file and the
    line."""
    path = Path(path)
    if not path.is_file():
        raise MemprintError(f"{path}: config file not found; give the path of a YAML file")
    try:
        value = yaml.load(path.read_text(), Loader=_StrictLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise MemprintError(f"{path}: not valid YAML{where} ({getattr(err, 'problem', err)}); fix it") from None
    if not isinstance(value, dict):
        raise MemprintError(f"{path}: expected a YAML mapping of settings, got {type(value).__name__}")
    return value


def _kind_dispatch(defs: dict, family: str, registry: dict) -> dict:
    """One schema for a registry's entries: the block of the entry's ``kind`` merged with the common keys."""
    common = defs[f"{family}_common"]["properties"]
    blocks = {**defs[f"{family}_kinds"], **{k: c.schema for k, c in registry.items() if c.schema is not None}}
    missing, unknown = sorted(set(registry) - set(blocks)), sorted(set(blocks) - set(registry))
    if missing or unknown:
        raise MemprintError(
            f"{family} kinds {missing} have no schema block and blocks {unknown} no class; add "
            f"$defs.{family}_kinds.<kind> to {SCHEMA.name} (or a schema attribute) for each class"
        )
    branches = []
    for kind, block in sorted(blocks.items()):
        merged = {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", *block.get("required", [])],
            "properties": {**common, **block.get("properties", {}), "kind": {"const": kind}},
        }
        branches.append({"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]}, "then": merged})
    return {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": sorted(blocks)}}, "allOf": branches}


def _inline(node, root: dict):
    """The schema with every local ``$ref`` replaced by what it points at (so defaults behind refs are seen)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, root)
        return {key: _inline(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, root) for value in node]
    return node


@functools.cache
def _built_schema(generator_kinds: tuple[str, ...], encoder_kinds: tuple[str, ...]) -> dict:
    from memprint.encoders import Encoder
    from memprint.generators import GeneratorKind

    raw = yaml.load(SCHEMA.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    defs = raw["$defs"]
    defs["generator"] = _kind_dispatch(defs, "generator", GeneratorKind.kinds)
    defs["encoder"] = _kind_dispatch(defs, "encoder", Encoder.kinds)
    return _inline({key: value for key, value in raw.items() if key != "$defs"}, raw)


def schema(plugins: list[str] | tuple[str, ...] = ()) -> dict:
    """The full schema, generator and encoder kinds included (``plugins``: modules that register more kinds)."""
    from memprint.encoders import Encoder
    from memprint.generators import GeneratorKind

    for module in plugins:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise MemprintError(
                f"config error at plugins: {module!r} could not be imported ({err}); put it on "
                "PYTHONPATH or fix the name"
            ) from None
    return _built_schema(tuple(sorted(GeneratorKind.kinds)), tuple(sorted(Encoder.kinds)))


def _defaults(properties: dict) -> dict:
    return {name: copy.deepcopy(sub["default"]) for name, sub in properties.items() if "default" in sub}


def section_defaults(section: str) -> dict:
    """The schema's defaults of a dotted section, e.g. ``ct``, ``runtime`` or ``invmm.settings``."""
    node = schema()
    for part in section.split("."):
        node = node["properties"][part]
    return _defaults(node["properties"])


def generator_defaults(kind: str | None) -> dict:
    """The schema's defaults of one generator kind (its block merged with the common keys); {} if unknown."""
    dispatch = schema()["properties"]["generators"]["additionalProperties"]
    branches = {b["then"]["properties"]["kind"]["const"]: b["then"] for b in dispatch["allOf"]}
    return _defaults(branches[kind]["properties"]) if kind in branches else {}


def _validator():
    """A Draft 2020-12 validator that fills in the defaults of the properties it checks (where a key is left out)."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    check_properties = base.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from check_properties(validator, properties, instance, schema)

    strict = base.TYPE_CHECKER.redefine(  # JSON Schema counts 100.0 as an integer; a sample count must be one
        "integer", lambda checker, instance: isinstance(instance, int) and not isinstance(instance, bool)
    )
    return jsonschema.validators.extend(base, {"properties": properties_with_defaults}, type_checker=strict)


def _message(error) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "top level"
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        if error.instance in RESERVED_NAMES:
            return (
                f"config error at {where}: the name {error.instance!r} is reserved for the pipeline's own image "
                f"sets ({', '.join(RESERVED_NAMES)}); rename the entry"
            )
        return (
            f"config error at {where}: the name {error.instance!r} may hold only letters, digits, '_', '.' "
            "and '-', starting with a letter or digit; rename the entry"
        )
    return f"config error at {where}: {error.message}"


def _check_schema(config: dict, full_schema: dict) -> None:
    errors = sorted(_validator()(full_schema).iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise MemprintError(_message(errors[0]))


def expand_zoo(zoo: dict) -> dict[str, dict]:
    """Each zoo model x training seed x checkpoint (x sampler, for a DDPM) as a generator entry."""
    entries = {}
    for model, spec in zoo["models"].items():
        samplers = spec["samplers"].items() if spec["arch"] == "ddpm" else [(None, None)]
        for seed in zoo["seeds"]:
            for epoch in zoo["epochs"]:
                for scheduler, steps in samplers:
                    label = f"{model}_{scheduler}" if scheduler else model
                    entries[f"{label}_s{seed}_e{epoch}"] = {
                        "kind": "zoo",
                        "model": model,
                        "train_seed": seed,
                        "epoch": epoch,
                        "architecture": label,
                        "run": f"{model}_s{seed}",
                        "samples": zoo["samples"],
                        "shards": zoo["shards"],
                        "seed": zoo["sample_seed"],
                        **({"scheduler": scheduler, "steps": steps} if scheduler else {}),
                    }
    return entries


NAMED_SECTIONS = ("generators", "encoders", "ct_variants")


def _check_names(config: dict) -> None:
    """Entry names are strings: YAML 1.1 reads ``on:``, ``yes:`` or ``0.1:`` as a boolean or a number."""
    sections = {s: config.get(s) for s in NAMED_SECTIONS} | {"zoo.models": (config.get("zoo") or {}).get("models")}
    for section, entries in sections.items():
        for name in entries or {} if isinstance(entries, dict) else {}:
            if not isinstance(name, str):
                raise MemprintError(
                    f"config error at {section}: the name {name!r} is read by YAML as a {type(name).__name__}, not a "
                    f"name; quote it as written (e.g. 'on': rather than on:) or rename the entry"
                )


def validate(config: dict) -> dict:
    """Check ``config`` in place (zoo entries expanded into ``generators`` and checked too), fill the schema's
    defaults, and run the cross-checks; a problem is one MemprintError naming the key and the fix."""
    from memprint.config_checks import check_config

    _check_names(config)
    plugins = config.get("plugins", [])
    full_schema = schema(plugins if isinstance(plugins, list) else ())
    _check_schema(config, full_schema)
    if "zoo" in config:
        zoo = expand_zoo(config["zoo"])
        clash = sorted(set(config["generators"]) & set(zoo))
        if clash:
            raise MemprintError(f"config error at generators: {clash} also name zoo generators; rename them")
        config["generators"].update(zoo)
        _check_schema(config, full_schema)
    check_config(config)
    return config


def validate_entry(section: str, entry: dict, where: str) -> dict:
    """One entry of ``encoders`` or ``generators`` (e.g. a CLI's encoder file), checked by its kind's block with
    its defaults filled; ``where`` names it in the error."""
    errors = sorted(
        _validator()(schema()["properties"][section]["additionalProperties"]).iter_errors(entry),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    if errors:
        raise MemprintError(f"{where}: {_message(errors[0]).replace('config error at top level', 'config error')}")
    return entry


def load_config(path: str | Path) -> dict:
    """A pipeline config file, validated, with its defaults filled in."""
    config = read_yaml(path)
    try:
        return validate(config)
    except MemprintError as err:
        raise MemprintError(f"{path}: {err}") from None
