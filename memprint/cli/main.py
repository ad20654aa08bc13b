"""The ``memprint`` entry point (``memprint --help``): ``main`` checks where the results go before any work (never
onto an input, a device, a symlink or a file memprint did not write) and turns a MemprintError, or a failed
write, into one line on stderr and exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from memprint import MemprintError
from memprint.cli.parser import build_parser
from memprint.outputs import check_outputs, write_failed


def _paths(args) -> tuple[dict[str, str], dict[str, str]]:
    """The command's outputs and the existing files or folders its other options name: ``--option`` -> path."""
    outputs = {
        f"--{o.replace('_', '-')}": getattr(args, o) for o in getattr(args, "outputs", []) if getattr(args, o, None)
    }
    inputs = {
        f"--{name.replace('_', '-')}": value
        for name, value in vars(args).items()
        if name not in getattr(args, "outputs", []) and isinstance(value, str) and Path(value).exists()
    }
    return outputs, inputs


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "command", None) == "copies" and not args.images_out:  # a derived name is an output too
            args.images_out = str(Path(args.out).with_suffix(".images.csv"))
        outputs, inputs = _paths(args)
        check_outputs(outputs, inputs)
        resolved = [Path(p).resolve() for p in outputs.values()]
        if len(set(resolved)) < len(resolved):
            raise MemprintError(f"{', '.join(outputs)}: two outputs name the same file; give each its own path")
        result = args.func(args)
    except MemprintError as err:
        print(f"memprint: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a write the checks could not foresee (the disk filled up meanwhile)
        print(f"memprint: error: {write_failed(err.filename or '?', err)}", file=sys.stderr)
        return 2
    if result is not None:  # audit prints its own summary
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
