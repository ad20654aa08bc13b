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
    command = [sys.executable, "-m", "memprint.cli", "audit", "--train", str(work / "train")]
    command += ["--test", str(work / "test"), "--generated", str(work / "fresh"), "--generated", str(work / "leaky")]
    command += ["--encoder", str(Path(args.assets) / "dinov2_vits14"), "--input-size", "112"]
    command += ["--cores", str(args.cores), "--out", str(work / "audit")]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    summary = (work / "audit/summary.md").read_text()
    (results / "summary.md").write_text(summary.split("\nReport:")[0].replace(str(work), "<work>") + "\n")
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
    print(json.dumps(timing, indent=2, default=str))


if __name__ == "__main__":
    main()
