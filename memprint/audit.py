"""``memprint audit``: folders of images in, a finished run out. The audit writes a pipeline config into its output
folder (so the run can be repeated and edited), runs the same Snakemake workflow in it (same DAG, cache and
reruns of changed stages), builds the HTML report and summarizes, per generated set, the C_T-layer curve with its
intervals and the copy finder's rate and top flagged images.

Only the main results are configured: C_T (Meehan et al.'s setting), the copy finder and their figures. The
optional parts (fingerprinting, the claims table, pathological sets, InvMM) need a config of their own.
"""

from __future__ import annotations

import re
from pathlib import Path

from memprint import MemprintError

SNAKEFILE = Path(__file__).resolve().parents[1] / "Snakefile"
NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def generated_sets(items: list[str]) -> dict[str, str]:
    """``NAME=PATH`` or ``PATH`` (named after its file or folder) -> {name: absolute path}."""
    sets = {}
    for item in items:
        name, _, path = item.rpartition("=") if "=" in item else ("", "", item)
        name = name or NAME.sub("_", Path(path.rstrip("/")).stem) or "generated"
        if not Path(path).exists():
            raise MemprintError(f"--generated {item}: {path} not found; give a folder, an .npz or an image-set .h5")
        if name in sets:
            raise MemprintError(f"--generated {item}: the name {name!r} is taken; write NAME=PATH to name it")
        sets[name] = str(Path(path).resolve())
    return sets


def encoder_entry(encoder: str, input_size: int | None) -> tuple[str, dict]:
    """An encoder as a Hugging Face hub id, a local model folder (Hugging Face layout), or a YAML file holding one
    encoder entry (any kind memprint knows) -> (its name, its config entry)."""
    from memprint.io import read_yaml

    path = Path(encoder)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise MemprintError(
                f"--encoder {encoder}: file not found; give an encoder YAML, a model folder or a hub id"
            )
        entry = read_yaml(path)
        name = path.stem
    elif path.is_dir():
        entry = {"kind": "hf", "name": str(path.resolve()), "weights": str(path.resolve())}
        name = path.resolve().name
    elif re.fullmatch(r"[\w.-]+/[\w.-]+", encoder):
        entry = {"kind": "hf", "name": encoder, "weights": "pretrained"}
        name = encoder.split("/")[-1]
    else:
        raise MemprintError(
            f"--encoder {encoder}: neither a folder, an encoder YAML nor a hub id (owner/name); "
            "e.g. --encoder facebook/dinov2-small"
        )
    if not isinstance(entry, dict) or "kind" not in entry:
        raise MemprintError(f"--encoder {encoder}: an encoder entry needs a kind (e.g. kind: hf, name:, weights:)")
    if input_size is not None:
        entry["input_size"] = input_size
    return NAME.sub("_", name), entry


def _calibration(data: dict) -> str:
    folder = data["folder"]
    if "test_share" in folder:
        return f"{folder['test_share']:.0%} of the training folder held out (class-stratified, seed {data['seed'] + 3})"
    return folder["test"]


def audit_config(args) -> dict:
    """The pipeline config of an audit: T and P from folders, each generated set as kind samples, one encoder,
    C_T and the copy finder."""
    encoder_name, encoder = encoder_entry(args.encoder, args.input_size)
    for option in [o for o in ("train", "test") if getattr(args, o, None) is not None]:
        if not Path(getattr(args, option)).is_dir():
            raise MemprintError(f"--{option} {getattr(args, option)}: not a folder; give a folder of images")
    share = getattr(args, "test_share", None)
    if share is not None and not 0 < share < 1:
        raise MemprintError(f"--test-share {share}: give a share between 0 and 1, e.g. 0.2")
    folder = {"train": str(Path(args.train).resolve())}
    folder |= {"test_share": share} if share is not None else {"test": str(Path(args.test).resolve())}
    return {
        "data": {"source": "folder", "seed": args.seed, "folder": folder},
        "generators": {
            name: {"kind": "samples", "path": path} for name, path in generated_sets(args.generated).items()
        },
        "encoders": {encoder_name: encoder},
        "scores": {"ct": {"kind": "ct", "cells": args.cells}},
        "copies": {"level": args.level, "transforms": args.transforms.split(",")},
    }


def calibration_size(args) -> int:
    """How many images P will hold, counted before any job: the test folder's, or the held-out share of T's."""
    from memprint.datasets import IMAGE_SUFFIXES

    def count(folder) -> int:
        return sum(1 for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())

    share = getattr(args, "test_share", None)
    if share is not None:
        total = count(args.train)
        return min(total - 1, max(1, round(share * total)))
    return count(args.test)


def workflow_command(config_file: Path, out: Path, cores: int, profile: str | None) -> list[str]:
    """The Snakemake command line the audit runs (printed, so the user can rerun or change it)."""
    import sys

    if not SNAKEFILE.is_file():
        raise MemprintError(
            f"{SNAKEFILE}: the workflow is not beside the memprint package; run memprint audit from a clone "
            "(pip install -e .)"
        )
    command = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(out)]
    command += ["--configfile", str(config_file), "--replace-workflow-config", "--cores", str(cores)]
    return command + (["--profile", profile] if profile else [])


def _layer(row) -> str:
    """One name for a layer in text, as in the figures: its index (0: the patch embedding, i: the output of block
    i) with the module name the CSVs carry beside it."""
    return f"layer {int(row['layer'])} ({row['layer_name']})"


def summary(out: Path, config: dict, top: int = 3) -> tuple[dict, str]:
    """Per generated set: C_T per layer with its interval (range, layer of the minimum), the image-level copy rate
    with its interval, and the top flagged images; as a dict and as Markdown."""
    from memprint import layout
    from memprint.io import read_csv, read_csv_provenance

    encoder = next(iter(config["encoders"]))
    rates = read_csv(out / f"results/copies/{encoder}/rates.csv")
    image_level = rates[rates["layer"].isna()].set_index("generator")
    made_by = read_csv_provenance(out / layout.score_curve("ct", encoder, next(iter(config["generators"]))))
    result, lines = (
        {},
        [
            f"# memprint audit ({encoder}, C_T by Meehan et al.'s setting)",
            "",
            f"Weights: {made_by.get('weights_source')} (sha256 {str(made_by.get('weights_sha256'))[:12]}); seed "
            f"{config['data']['seed']}; T {config['data']['folder']['train']}, P {_calibration(config['data'])}.",
            "",
        ],
    )
    for name in config["generators"]:
        curve = read_csv(out / layout.score_curve("ct", encoder, name))
        low = curve.loc[curve["value"].idxmin()]
        flagged_file = out / f"results/copies/{encoder}/{name}.flagged.csv"
        flagged, power = read_csv(flagged_file), read_csv_provenance(flagged_file)
        rate = image_level.loc[name]
        result[name] = {
            "ct": curve[["layer", "layer_name", "value", "low", "high"]].to_dict("records"),
            "ct_min": {k: low[k] for k in ("layer", "layer_name", "value", "low", "high")},
            "copy_rate": {k: rate[k] for k in ("copies", "samples", "copy_rate", "ci_low", "ci_high")},
            "smallest_p": float(power["smallest_p"]),
            "calibration_images": int(power["calibration_images"]),
            "top_flagged": flagged.head(top)[
                ["sample_id", "nearest_train_id", "layer", "layer_name", "transform", "image_p"]
            ]
            .astype(object)
            .to_dict("records"),
        }
        lines += [
            f"## {name}",
            f"- C_T from {curve['value'].min():.2f} to {curve['value'].max():.2f} over {len(curve)} layers; lowest at "
            f"{_layer(low)}: {low['value']:.2f} [95% {low['low']:.2f}, {low['high']:.2f}] "
            "(negative: copying; about 0: fine; positive: underfitting)",
            f"- copies: {int(rate['copies'])} of {int(rate['samples'])} images flagged, {rate['copy_rate']:.1%} "
            f"[95% {rate['ci_low']:.1%}, {rate['ci_high']:.1%}] at a {config['copies']['level']:g} family-wise "
            f"false-positive rate (P's {result[name]['calibration_images']} images allow p-values down to "
            f"{result[name]['smallest_p']:.2g})",
            *(
                f"  - {r['sample_id']} copies {r['nearest_train_id']} ({r['transform']}, {_layer(r)}, "
                f"p = {r['image_p']:.2g})"
                for r in result[name]["top_flagged"]
            ),
            "",
        ]
    return result, "\n".join(lines)
