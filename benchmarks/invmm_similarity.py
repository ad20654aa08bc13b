"""Why InvMM does not separate the duplicated images in ``configs/invmm_duplicates.yaml``: how similar unrelated
images already are under its similarity, and InvMM under a stricter, copy-level one, on the run's own model.

Reads a finished run of that config (``--run``: its folder): T (with the duplicated images), P, the last-layer
DINOv2 embeddings and the DDPM checkpoint. Reports, per similarity (the DINOv2 last-layer cosine the config
uses, and pixel correlation), the median similarity of random (P, T) pairs and the 50/90/99th percentiles of each
P image's similarity to its nearest training image: a threshold below those is met by unrelated images, so
"reproduced" says nothing. Then InvMM on the config's 20 images with pixel correlation at a copy-level threshold
(``--threshold``, above the 99th percentile), and its duplicated-image ROC AUC with Newcombe's interval.

    python benchmarks/invmm_similarity.py --run /path/to/run --out benchmarks/results/invmm_similarity.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import numpy as np


def _unit(x: np.ndarray, centre: bool) -> np.ndarray:
    x = x - x.mean(1, keepdims=True) if centre else x
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def similarity_levels(test: np.ndarray, train: np.ndarray, centre: bool) -> dict:
    """Random-pair median and the percentiles of each test row's largest similarity to a training row."""
    sims = _unit(test, centre) @ _unit(train, centre).T
    nearest = sims.max(1)
    return {
        "random_pair_median": float(np.median(sims)),
        **{f"nearest_training_q{q}": float(np.quantile(nearest, q / 100)) for q in (50, 90, 99)},
    }


def main() -> None:
    import torch

    from memprint import datasets
    from memprint.embedding_files import read_embeddings
    from memprint.generators.zoo_checkpoints import load_zoo
    from memprint.invmm import InvMMSettings, PixelCorrelation, invert, roc_auc
    from memprint.invmm_validation import auc_interval
    from memprint.io import read_imageset
    from memprint.stages.invmm import duplicated_and_singles

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="folder of a finished invmm_duplicates run")
    parser.add_argument("--encoder", default="dinov2_vits14")
    parser.add_argument("--checkpoint", default="results/zoo/ddpm/seed0/epoch120.pt")
    parser.add_argument("--threshold", type=float, default=0.85)
    parser.add_argument("--max-steps", type=int, default=400)
    parser.add_argument("--check-every", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    train, test = (read_imageset(args.run / f"results/imagesets/{name}.h5") for name in ("train", "test"))
    embedded = {
        name: read_embeddings(args.run / f"results/embeddings/{args.encoder}/{name}.h5") for name in ("train", "test")
    }
    levels = {
        f"{args.encoder} last-layer cosine": similarity_levels(
            embedded["test"].layers[-1], embedded["train"].layers[-1], centre=False
        ),
        "pixel correlation": similarity_levels(
            test.images.reshape(len(test), -1).astype(np.float32),
            train.images.reshape(len(train), -1).astype(np.float32),
            centre=True,
        ),
    }
    originals = [i for i, image_id in enumerate(train.image_ids) if datasets.DUPLICATE_MARK not in image_id]
    duplicated = set(json.loads(train.attrs["duplicated_ids"]))
    rows = duplicated_and_singles(train, originals, duplicated, 0)
    network, described, identity = load_zoo(str(args.run / args.checkpoint))
    settings = InvMMSettings(
        noise_samples=8,
        max_steps=args.max_steps,
        check_every=args.check_every,
        check_images=4,
        ddim_steps=20,
        threshold=args.threshold,
    )
    x = torch.from_numpy(train.images[rows]).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    started = time.perf_counter()
    results = invert(network, described["noise_schedule"], x, PixelCorrelation(), settings, torch.device("cpu"), rows)
    seconds = time.perf_counter() - started
    is_duplicated = np.array([str(train.image_ids[i]) in duplicated for i in rows])
    scores = np.array([r["score"] for r in results])
    auc = roc_auc(scores, is_duplicated)
    low, high = auc_interval(auc, int(is_duplicated.sum()), int((~is_duplicated).sum()))
    report = {
        "run": str(args.run),
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "weights": identity,
        "similarity_levels": levels,
        "invmm_pixel_correlation": {
            "settings": settings.__dict__,
            "auc": auc,
            "auc_interval_95": [low, high],
            "reproduced_duplicated": int(np.isfinite(scores[is_duplicated]).sum()),
            "reproduced_single": int(np.isfinite(scores[~is_duplicated]).sum()),
            "images": [
                {"image_id": str(train.image_ids[i]), "duplicated": bool(d), **r}
                for i, d, r in zip(rows, is_duplicated, results)
            ],
            "seconds": seconds,
        },
    }
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(json.dumps({k: report[k] for k in ("similarity_levels",)}, indent=1))
    print(f"pixel correlation >= {args.threshold}: AUC {auc:.3f} [{low:.3f}, {high:.3f}] in {seconds:.0f} s")


if __name__ == "__main__":
    main()
