"""The ``memprint`` command line (``memprint --help``): ``parser`` holds the subcommands and their options,
``commands`` what each runs; ``main`` turns a MemprintError into one line on stderr and exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from memprint import MemprintError
from memprint.cli.parser import build_parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        for option in getattr(args, "outputs", []):  # before any work: where the results go must exist
            path = getattr(args, option)
            if path and not Path(path).resolve().parent.is_dir():
                raise MemprintError(f"--{option} {path}: folder {Path(path).parent} does not exist; create it first")
        result = args.func(args)
    except MemprintError as err:
        print(f"memprint: error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(_json_safe(result), indent=2, default=str))
    return 0


def _json_safe(value):
    """NaN (an undefined C_T) becomes null, so the output stays valid JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
