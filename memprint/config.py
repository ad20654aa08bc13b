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

from memprint import MemprintError
from memprint import schema as schema_file
from memprint.encoders import Encoder
from memprint.generators import GeneratorKind
from memprint.io import read_yaml
from memprint.scores import LayerScore

RESERVED_NAMES = ("train", "test", "heldout")


def _kind_dispatch(defs: dict, family: str, registry: dict) -> dict:
    """One schema for a registry's entries: the block of the entry's ``kind`` merged with the common keys."""
    common = defs[f"{family}_common"]["properties"]
    blocks = {**defs[f"{family}_kinds"], **{k: c.schema for k, c in registry.items() if c.schema is not None}}
    missing, unknown = sorted(set(registry) - set(blocks)), sorted(set(blocks) - set(registry))
    if missing or unknown:
        raise MemprintError(
            f"{family} kinds {missing} have no schema block and blocks {unknown} no class; add "
            f"$defs.{family}_kinds.<kind> to {schema_file.SCHEMA.name} (or a schema attribute) for each class"
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


REGISTRIES = {"generator": GeneratorKind, "encoder": Encoder, "score": LayerScore}


@functools.cache
def _built_schema(kinds: tuple[tuple[str, ...], ...]) -> dict:
    raw = schema_file.raw()
    defs = raw["$defs"]
    for family, registry in REGISTRIES.items():
        defs[family] = _kind_dispatch(defs, family, registry.kinds)
    return schema_file.inline({key: value for key, value in raw.items() if key != "$defs"}, raw)


def schema(plugins: list[str] | tuple[str, ...] = ()) -> dict:
    """The full schema, every registered kind included (``plugins``: modules that register more kinds)."""
    for module in plugins:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise MemprintError(
                f"config error at plugins: {module!r} could not be imported ({err}); put it on "
                "PYTHONPATH or fix the name"
            ) from None
    return _built_schema(tuple(tuple(sorted(registry.kinds)) for registry in REGISTRIES.values()))


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


NAMED_SECTIONS = ("generators", "encoders", "ct_variants", "scores")


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
    older = [key for key in ("ct", "ct_variants") if key in config]
    if "scores" in config and older:
        raise MemprintError(
            f"config error at scores: give either scores: or the older {' and '.join(older)}:, not both; move "
            f"{' and '.join(older)} into scores (kind: ct)"
        )
    plugins = config.get("plugins", [])
    full_schema = schema(plugins if isinstance(plugins, list) else ())
    _check_schema(config, full_schema)
    if "scores" not in config:  # the older spelling: ct: is the score named ct, each ct_variants entry another
        config["scores"] = {"ct": {"kind": "ct", **config.get("ct", {})}}
        config["scores"] |= {name: {"kind": "ct", **spec} for name, spec in config["ct_variants"].items()}
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
