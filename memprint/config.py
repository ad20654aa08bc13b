"""The pipeline's configuration outside Snakemake: read, checked against the schema, defaults filled.

``rules/common.smk`` validates the same file with the same schema (Snakemake's ``validate``), so the CLI and the
pipeline accept and reject the same configs and take their defaults from one place: the schema.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from memprint import MemprintError

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"


def _validator_filling_defaults():
    import jsonschema

    base = jsonschema.Draft202012Validator
    check_properties = base.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(base, {"properties": properties_with_defaults})


def read_yaml(path: str | Path) -> dict:
    """A YAML mapping; a missing file or a syntax error is one line naming the file (and the line)."""
    path = Path(path)
    if not path.is_file():
        raise MemprintError(f"{path}: config file not found; give the path of a YAML file")
    try:
        value = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise MemprintError(f"{path}: not valid YAML{where} ({getattr(err, 'problem', err)}); fix the syntax") from None
    if not isinstance(value, dict):
        raise MemprintError(f"{path}: expected a YAML mapping of settings, got {type(value).__name__}")
    return value


def load_config(path: str | Path) -> dict:
    """A pipeline config, validated against the schema with its defaults filled in."""
    config = read_yaml(path)
    schema = yaml.safe_load(SCHEMA.read_text())
    errors = sorted(_validator_filling_defaults()(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = ".".join(str(p) for p in error.absolute_path) or "top level"
        raise MemprintError(f"{path}: config error at {where}: {error.message}")
    return config
