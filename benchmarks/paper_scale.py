"""The paper's experiments at the paper's scale, and an ablation that names what moves the curves (issue 37).

Runs ``configs/paper_scale.yaml`` (T: all 50,000 CIFAR-10 training images, P: the 10,000 test images, every
published sample set, the pathological sets; DINOv2 at 224 and 112 px; resumable across sittings), then, from its
embeddings, goes from the CPU configuration to the paper's one factor at a time:

    CPU setup   112 px, T = the asset's 10,000 exact training images, P = 1,000 test images (class-stratified,
                seed 0), every generated set subsampled to 256 images (the smallest published set; seed 0)
    factors     input 224 px | T all 50,000 | P all 10,000 | generated sets at full size | C_T setting
    paper setup every factor at once (its curves are the pipeline's, recomputed here as a check)

For each setup and C_T setting (Meehan et al.'s ``ct``, the Bai et al. code's ``bai_code``): every generator's
C_T curve and its size-free effect-size curve (``ct_effect``), 200 bootstrap replicates; per curve the slope per
block (blocks 1..12) with its interval and the Pearson correlation with the paper's own curve. The verdicts
(``memprint.paper_scale``) are computed from the replicates, never typed.

    python -m benchmarks.paper_scale                 # run (or resume) the pipeline, then the ablation
    python -m benchmarks.paper_scale --skip-run      # the ablation of an existing run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm import tqdm

from benchmarks.paper_curves import PAIRS, paper_series
from memprint.config import validate
from memprint.embedding_files import read_embeddings
from memprint.io import read_imageset, write_csv
from memprint.paper_curves import read_paper_curves
from memprint.scores import Resampling, score
from memprint.subsets import stratified_indices

CONFIG = "configs/paper_scale.yaml"
REPLICATES = 200
EQUAL_SIZE = 256
JPEG_TWINS = "train_exact_as_jpeg"  # T's 10,000 exact images as their JPEG files (factor "JPEG step")
EFFECT_OF = {"ct": "ct_effect", "bai_code": "bai_code_effect"}  # each C_T setting -> its effect-size twin


@dataclass(frozen=True)
class Setup:
    """One point between the CPU configuration and the paper's."""

    encoder: str = "dinov2_112"
    train: str = "exact 10k"  # or "all 50k", or "jpeg 10k" (the same images as JPEG files)
    test: str = "1k"  # or "all 10k"
    generated: str = "equal 256"  # or "full"


CPU = Setup()
FACTORS = {
    "JPEG step (T's exact images as JPEG)": {"train": "jpeg 10k"},
    "input size 112 -> 224 px": {"encoder": "dinov2_224"},
    "T 10,000 -> 50,000": {"train": "all 50k"},
    "P 1,000 -> 10,000": {"test": "all 10k"},
    "generated sets 256 -> full size": {"generated": "full"},
}
PAPER = Setup("dinov2_224", "all 50k", "all 10k", "full")


def pipeline_targets(config: dict) -> list[str]:
    from memprint import layout

    curves = [
        layout.score_curve(s, e, g) for s in config["scores"] for e in config["encoders"] for g in config["generators"]
    ]
    return curves + [f"results/claims/{e}.md" for e in config["encoders"]]


def row_choices(run: Path, generators: list[str], exact_train_npz: str) -> dict:
    """Which rows each setup takes: T's exact images (those of the shared asset, found by pixel hash), a
    class-stratified 1,000 of P, and 256 of each generated set (seed 0)."""
    train = read_imageset(run / "results/imagesets/train.h5")
    with np.load(exact_train_npz) as asset:
        exact = {image.tobytes() for image in asset["x"]}
    exact_rows = np.flatnonzero([image.tobytes() in exact for image in train.images])
    test = read_imageset(run / "results/imagesets/test.h5")
    rows = {
        "train": {"exact 10k": exact_rows, "all 50k": np.arange(len(train)), "jpeg 10k": np.arange(len(exact_rows))},
        "test": {"1k": stratified_indices(test.labels, 1000, 0, "P 1k"), "all 10k": np.arange(len(test))},
    }
    for name in generators:
        n = len(read_imageset(run / f"results/imagesets/{name}.h5"))
        equal = np.sort(np.random.default_rng(0).choice(n, min(n, EQUAL_SIZE), replace=False))
        rows[name] = {"equal 256": equal, "full": np.arange(n)}
    return rows


def embed_jpeg_twins(run: Path, config: dict, exact_rows: np.ndarray) -> None:
    """The JPEG versions of T's exact images (the same rows of the all-JPEG source), embedded at 112 px: what the
    JPEG step alone does to C_T."""
    from memprint.cifar10_original import assemble, checked
    from memprint.io import ImageSet, write_imageset
    from memprint.stages.encoders import embed

    out = run / f"results/embeddings/dinov2_112/{JPEG_TWINS}.h5"
    if out.exists():
        return
    original = config["data"]["cifar10"]["original"]
    jpegs = assemble("train", checked("configs/cifar10_original.yaml", original["folder"]), None)
    twins = ImageSet(jpegs.images[exact_rows], jpegs.labels[exact_rows], jpegs.image_ids[exact_rows], jpegs.attrs)
    imageset = run / f"results/imagesets/{JPEG_TWINS}.h5"
    write_imageset(imageset, twins)
    spec = config["encoders"]["dinov2_112"]
    embed(spec, spec["weights"], str(imageset), str(out), batch_size=64)


def evaluate(run: Path, setup: Setup, setting: str, specs: dict, rows: dict, generators: list[str]) -> pd.DataFrame:
    """Every generator's C_T and effect-size curve under one setup and C_T setting, with bootstrap replicates."""
    folder = run / "results/embeddings" / setup.encoder
    train = read_embeddings(folder / f"{JPEG_TWINS if setup.train == 'jpeg 10k' else 'train'}.h5", lazy=True)
    test = read_embeddings(folder / "test.h5", lazy=True)
    generated = {g: read_embeddings(folder / f"{g}.h5", lazy=True) for g in generators}
    kinds = {"ct": score(setting, specs[setting]), "effect": score(EFFECT_OF[setting], specs[EFFECT_OF[setting]])}
    t_rows, p_rows = rows["train"][setup.train], rows["test"][setup.test]
    records = []
    for k, layer in enumerate(tqdm(train.layer_names, desc=f"{setting} {setup}", leave=False)):
        t, p = train.layers[k][t_rows], test.layers[k][p_rows]
        state, warning = kinds["ct"].fit(t, p, "cpu", layer)
        state = {**state, "warning": warning}
        for g in generators:
            q = generated[g].layers[k][rows[g][setup.generated]]
            for measure, kind in kinds.items():
                result = kind.score(state, t, p, q, "cpu", layer, Resampling(REPLICATES, 0, g))
                records.append(
                    {
                        **setup.__dict__,
                        "setting": setting,
                        "measure": measure,
                        "generator": g,
                        "layer": k,
                        "value": result.value,
                        "replicates": result.replicates,
                    }
                )
    return pd.DataFrame(records)


def paper_curve_of(generator: str, paper: pd.DataFrame) -> np.ndarray | None:
    """The paper's curve paired with a memprint set (benchmarks.paper_curves: the ViT-B/16 series)."""
    for pairs in PAIRS.values():
        for _label, (file, prefixes, encoder), name in pairs:
            if name == generator and encoder.startswith("google/vit-base"):
                series = paper_series(paper, file, prefixes, encoder)
                if len(series):
                    return series
    return None


def job_seconds(run: Path) -> dict[str, float]:
    """Seconds of every pipeline job by rule (Snakemake's benchmark files): the run's cost whatever its sittings."""
    seconds: dict[str, float] = {}
    for tsv in (run / "results/benchmarks").rglob("*.tsv"):
        rule = tsv.relative_to(run / "results/benchmarks").parts[0].removesuffix(".tsv")
        seconds[rule] = round(seconds.get(rule, 0.0) + float(pd.read_csv(tsv, sep="\t")["s"].sum()), 1)
    return dict(sorted(seconds.items(), key=lambda item: -item[1]))


def weights_named(run: Path) -> str:
    """The encoder's weights by path relative to the run folder and SHA-256 (no machine's absolute path)."""
    import os

    attrs = read_embeddings(run / "results/embeddings/dinov2_224/test.h5").attrs
    source = str(attrs.get("weights_source", ""))
    if source.startswith("file:"):
        source = "file:" + os.path.relpath(source.removeprefix("file:"), run.resolve())
    return f"{source} (sha256 {attrs.get('weights_sha256')})"


def main(argv=None) -> None:
    from memprint.docs import fill_block
    from memprint.paper_scale import (
        conclusion,
        curve_table,
        plot_ablation,
        rises_with_depth,
        slope_table,
        verdict_markdown,
        verdict_table,
    )

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-run", action="store_true", help="the ablation of an existing run only")
    parser.add_argument("--run", default=".", help="the run folder (holds results/)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--recompute", action="store_true", help="recompute the ablation's curves kept in the run")
    parser.add_argument("--layerchoice", default="../published_samples", help="folder of JackHe313/LayerChoice/<path>")
    parser.add_argument("--out", default="docs/results/paper_scale")
    args = parser.parse_args(argv)
    run, out = Path(args.run), Path(args.out)
    config = validate(yaml.safe_load((run / CONFIG).read_text()))
    import torch

    from benchmarks.natural_copies import cpu_name
    from memprint.runtime import has_bf16_units

    units = "bf16 units (AMX/AVX-512 BF16)" if has_bf16_units(torch.device("cpu")) else "no bf16 units"
    timing = {"cpu": f"{cpu_name()}, {units}", "cores": args.cores, "precision": config["runtime"]["precision"]}
    if not args.skip_run:
        start = time.time()
        command = ["snakemake", "--configfile", CONFIG, "--replace-workflow-config", "--cores", str(args.cores)]
        subprocess.run([*command, "--rerun-incomplete", *pipeline_targets(config)], check=True, cwd=run)
        timing["pipeline_seconds_this_sitting"] = round(time.time() - start)
    generators = list(config["generators"])
    rows = row_choices(run, generators, config["data"]["cifar10"]["original"]["exact_train_npz"])
    embed_jpeg_twins(run, config, rows["train"]["exact 10k"])
    setups = {"CPU setup": CPU, **{f: replace(CPU, **change) for f, change in FACTORS.items()}, "paper setup": PAPER}
    cache = run / "results/paper_scale/ablation_curves.pkl"  # the ablation's curves, kept across sittings
    if cache.exists() and not args.recompute:
        curves, timing["ablation_seconds"] = pd.read_pickle(cache)
    else:
        start = time.time()
        frames = [evaluate(run, s, c, config["scores"], rows, generators) for c in EFFECT_OF for s in setups.values()]
        curves, timing["ablation_seconds"] = pd.concat(frames, ignore_index=True), round(time.time() - start)
        cache.parent.mkdir(parents=True, exist_ok=True)
        pd.to_pickle((curves, timing["ablation_seconds"]), cache)
    timing["pipeline_job_seconds"] = job_seconds(run)
    timing["pipeline_job_seconds_total"] = round(sum(timing["pipeline_job_seconds"].values()))
    layerchoice = yaml.safe_load(Path("configs/published/layerchoice.yaml").read_text())
    paper = read_paper_curves(layerchoice, args.layerchoice)
    paper_curves = {g: paper_curve_of(g, paper) for g in generators}
    groups = {
        "published GANs": ["pub_gans"],
        "DDPMs": ["pub_ddpm", "pub_ddpm_improved"],
        "pathological sets": [
            g for g in generators if g not in ("pub_gans", "pub_ddpm", "pub_ddpm_improved", "copier")
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    about = {
        "config": CONFIG,
        "setups": {name: s.__dict__ for name, s in setups.items()},
        "replicates": REPLICATES,
        "paper_curves": f"{layerchoice['repository']}@{layerchoice['commit']}",
        "weights": weights_named(run),
        "rows": {"T exact": len(rows["train"]["exact 10k"]), "T all": len(rows["train"]["all 50k"])},
    }
    write_csv(curve_table(curves), out / "ablation_curves.csv", about)
    slopes = slope_table(curves, paper_curves, groups)
    write_csv(slopes, out / "ablation_slopes.csv", about)
    verdicts = verdict_table(curves, setups, groups)
    write_csv(verdicts, out / "ablation_verdicts.csv", about)
    depth = rises_with_depth(curves, groups, PAPER)
    write_csv(depth, out / "rises_with_depth.csv", about)
    plot_ablation(curves, setups, groups, out / "ablation.png", out / "ablation.pdf", json.dumps(about["rows"]))
    (out / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")
    for encoder in config["encoders"]:  # the pipeline's claims table (1,000 replicates), paths made relative
        for ext in ("md", "csv"):
            claims = (run / f"results/claims/{encoder}.{ext}").read_text()
            (out / f"claims_{encoder}.{ext}").write_text(claims.replace(f"{run.resolve().parent}/", "../"))
    text = verdict_markdown(verdicts, depth)
    (out / "ablation.md").write_text(f"# What moves the C_T-layer curves\n\nSetups: {about['setups']}\n\n{text}")
    link = f"[{out}/ablation.md]({out}/ablation.md), figure [{out}/ablation.png]({out}/ablation.png)"
    fill_block("README.md", "glance-paper-scale", f"{conclusion(verdicts, depth)} Table and curves: {link}.")
    fill_block("docs/reproducing.md", "paper-scale-ablation", text)
    print(verdicts.to_string(), depth.to_string(), sep="\n\n")


if __name__ == "__main__":
    main()
