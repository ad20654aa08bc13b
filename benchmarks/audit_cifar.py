"""``memprint audit`` as a user runs it, timed: CIFAR-10 images written as PNG folders (2,000 training images,
500 test images, two generated sets of 400), the DINOv2 asset at 112 px, one command. The generated sets are
real images whose answer is known: ``fresh`` is 400 further test images (no copying), ``leaky`` the same kind of
set with 40 training images in it, 20 as they are and 20 mirrored. Writes the audit's summary, its wall time and
one screenshot-ready report into ``--results``.

    python benchmarks/audit_cifar.py --assets ../shared/assets --work /tmp/audit_cifar \
        --results docs/results/audit_cifar10
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from memprint.docs import fill_block
from memprint.io import read_csv


def stratified(labels: np.ndarray, per_class: int, rng: np.random.Generator, exclude=()) -> np.ndarray:
    """``per_class`` seeded indices of each class, none of ``exclude``."""
    free = np.setdiff1d(np.arange(len(labels)), np.asarray(exclude, int))
    return np.concatenate([rng.choice(free[labels[free] == c], per_class, replace=False) for c in np.unique(labels)])


def write_folder(folder: Path, images: np.ndarray, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for image, name in zip(images, names):
        Image.fromarray(image).save(folder / f"{name}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", default="../shared/assets")
    parser.add_argument("--work", required=True, help="scratch folder for the PNG folders and the run (replaced)")
    parser.add_argument("--results", required=True, help="folder for summary.md, timing.json (committed)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--readme", default=None, help="fill this README's audit-time and audit-summary blocks")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    train_npz = np.load(Path(args.assets) / "cifar10/cifar10_train10k_uint8.npz")
    test_npz = np.load(Path(args.assets) / "cifar10/cifar10_test_uint8.npz")
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    train = stratified(train_npz["y"], 200, rng)
    test = stratified(test_npz["y"], 50, rng)
    fresh = stratified(test_npz["y"], 40, rng, exclude=test)
    others = stratified(test_npz["y"], 36, rng, exclude=np.concatenate([test, fresh]))
    leaked = rng.choice(train, 40, replace=False)
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    for name, npz, idx in (("train", train_npz, train), ("test", test_npz, test)):
        for c in np.unique(npz["y"][idx]):
            chosen = idx[npz["y"][idx] == c]
            write_folder(work / name / classes[c], npz["x"][chosen], [f"{name}_{i}" for i in chosen])
    write_folder(work / "fresh", test_npz["x"][fresh], [f"test_{i}" for i in fresh])
    leaky = np.concatenate([train_npz["x"][leaked[:20]], train_npz["x"][leaked[20:], :, ::-1], test_npz["x"][others]])
    names = [f"exact_train_{i}" for i in leaked[:20]] + [f"mirrored_train_{i}" for i in leaked[20:]]
    write_folder(work / "leaky", leaky, names + [f"test_{i}" for i in others])
    # as the README writes it: relative folders and a relative --out, run from the folder that holds them
    command = [sys.executable, "-m", "memprint.cli", "audit", "--train", "train/", "--test", "test/"]
    command += ["--generated", "fresh/", "--generated", "leaky/"]
    command += ["--encoder", str(Path(args.assets).resolve() / "dinov2_vits14"), "--input-size", "112"]
    command += ["--cores", str(args.cores), "--out", "audit/"]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=work)
    seconds = time.perf_counter() - start
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    summary = (work / "audit/summary.md").read_text()
    assets = str(Path(args.assets).resolve())
    summary = summary.split("\nReport:")[0].replace(str(work), "<work>").replace(assets, args.assets.rstrip("/"))
    (results / "summary.md").write_text(summary + "\n")
    flagged = json.loads((work / "audit/summary.json").read_text())
    encoder = next(iter(yaml.safe_load((work / "audit/config.yaml").read_text())["encoders"]))
    images = read_csv(work / f"results/copies/{encoder}/leaky.images.csv".replace("results", "audit/results"))
    kind = images["sample_id"].str.split("/").str[-1].str.split("_").str[0]
    found = {k: f"{int(images['copy'][kind == k].sum())} of {int((kind == k).sum())}" for k in sorted(set(kind))}
    timing = {
        "seconds": round(seconds, 1),
        "cores": args.cores,
        "command": "memprint audit --train train/ --test test/ --generated fresh/ --generated leaky/ "
        "--encoder ../shared/assets/dinov2_vits14 --input-size 112 --out audit/",
        "images": {"train": len(train), "test": len(test), "fresh": len(fresh), "leaky": len(leaky)},
        "leaky_flagged_by_kind": found,
        "leaky_copy_rate": flagged["leaky"]["copy_rate"],
        "fresh_copy_rate": flagged["fresh"]["copy_rate"],
    }
    (results / "timing.json").write_text(json.dumps(timing, indent=2, default=str) + "\n")
    if args.readme:
        fill_block(args.readme, "audit-time", measured_sentence(timing))
        fill_block(args.readme, "audit-summary", f"```text\n{summary}\n```")
    print(json.dumps(timing, indent=2, default=str))


def measured_sentence(timing: dict) -> str:
    """The README's sentence about this run, from its timing file."""
    minutes, seconds = divmod(round(timing["seconds"]), 60)
    kinds, images = timing["leaky_flagged_by_kind"], timing["images"]
    fresh = timing["fresh_copy_rate"]
    return (
        "Measured (`benchmarks/audit_cifar.py`, `docs/results/audit_cifar10/`): CIFAR-10 images written as PNG "
        f"folders, {images['train']:,} training and {images['test']:,} test images, two generated sets of "
        f"{images['fresh']}: `fresh` (unseen test images) and `leaky` (the same kind, with 20 training images as they "
        "are and 20 mirrored), the DINOv2 asset at 112 px, the command run as written above (relative folders and "
        f"`--out`): **{minutes} min {seconds} s** from folders to report on {timing['cores']} cores. The audit flags "
        f"{kinds['exact']} exact and {kinds['mirrored']} mirrored copies and {kinds['test']} unseen images of "
        f"`leaky`, and {fresh['copies']} of {fresh['samples']} images of `fresh`. What it prints:"
    )


if __name__ == "__main__":
    main()
