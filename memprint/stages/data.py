"""The training set T, the test set P and the held-out real images, as image-set files."""

from __future__ import annotations

import logging

import numpy as np

from memprint import MemprintError, datasets
from memprint.io import write_imageset
from memprint.pixels import check_same_kind, overlap

log = logging.getLogger(__name__)


def _cifar10(cfg: dict):
    """CIFAR-10's training and test sets: rebuilt in the original order from local copies (``original``), from
    local .npz files, or downloaded by torchvision."""
    original = cfg.get("original")
    if original is None:
        root = cfg.get("root", "results/downloads")
        return datasets.cifar10("train", cfg.get("train_npz"), root), datasets.cifar10(
            "test", cfg.get("test_npz"), root
        )
    from memprint import cifar10_original as c10

    paths = c10.checked(original["manifest"], original["folder"])
    exact = {split: original.get(f"exact_{split}_npz") for split in ("train", "test")}
    return tuple(
        c10.assemble(split, paths, datasets.load_npz(exact[split]) if exact[split] else None)
        for split in ("train", "test")
    )


def _parity_split(test, cfg: dict):
    """(P, what data.heldout draws from): with ``test_parity``, P is the test images of that original index parity
    (less ciFAIR's listed near-duplicates of T with ``drop_listed_duplicates``), the rest the other parity."""
    parity = cfg.get("test_parity")
    if cfg.get("drop_listed_duplicates") and not cfg.get("original"):
        raise MemprintError(
            "data.cifar10.drop_listed_duplicates needs data.cifar10.original (the list names original indices)"
        )
    if parity is None:
        return test, test
    index = np.array([int(str(i).rsplit("/", 1)[1]) for i in test.image_ids])
    mine = index % 2 == (0 if parity == "even" else 1)
    keep = mine.copy()
    if cfg.get("drop_listed_duplicates"):
        from memprint import cifar10_original as c10

        listed = c10.listed_duplicates(cfg["original"]["manifest"], cfg["original"]["folder"])
        keep &= ~np.isin(index, listed)
    how = f"data.cifar10.test_parity {parity}" + (
        ", ciFAIR's listed duplicates left out" * bool(keep.sum() < mine.sum())
    )
    return datasets.subset(test, np.flatnonzero(keep), how), datasets.subset(
        test, np.flatnonzero(~mine), f"the other parity than {how}"
    )


def make_data(data: dict, train_out: str, test_out: str, heldout_out: str | None = None) -> None:
    """The training set T, the test set P and (``data.heldout``) real images in neither: seeded, stratified."""
    source, seed = data["source"], data["seed"]
    limits = {}
    if source == "digits":
        train, test = datasets.digits_split(data["test_fraction"], seed)
    elif source == "cifar10":
        cfg = data["cifar10"]
        train, test = _cifar10(cfg)
        limits = {"train": cfg.get("train_limit"), "test": cfg.get("test_limit")}
    elif source == "folder" and data["folder"].get("test_share"):
        whole = datasets.load_folder(data["folder"]["train"])
        train, test = datasets.split_share(whole, data["folder"]["test_share"], seed)
    elif source == "folder":
        train, test = datasets.load_folder(data["folder"]["train"]), datasets.load_folder(data["folder"]["test"])
        classes = sorted(set(train.attrs["classes"]) | set(test.attrs["classes"]))
        train, test = datasets.with_classes(train, classes), datasets.with_classes(test, classes)
    else:
        raise MemprintError(f"data.source {source!r} is unknown; use digits, cifar10 or folder")
    check_same_kind(train, test)
    train = datasets.limited(train, limits.get("train"), seed, f"data.{source}.train_limit")
    test, test_source = _parity_split(test, data.get("cifar10") or {})
    test = datasets.limited(test, limits.get("test"), seed + 1, f"data.{source}.test_limit")
    shared = overlap(train, test)
    if shared and not data["overlap_allowed"]:
        raise MemprintError(
            f"{shared} of the {len(test)} test images (P) are also training images (T), pixel for pixel: C_T would "
            "read P as copies; give P images that are not in T, or set data.overlap_allowed: true if you mean it"
        )
    if data.get("duplicates"):
        train = datasets.with_duplicates(train, **data["duplicates"])
    heldout = None
    if heldout_out:
        in_test = set(test.image_ids.tolist())
        rest = np.flatnonzero([i not in in_test for i in test_source.image_ids.tolist()])
        if len(rest) < data["heldout"]:
            raise MemprintError(
                f"data.heldout: {data['heldout']} images asked for, the test source has {len(rest)} "
                f"left after P; lower data.heldout"
                + (
                    f" or set data.{source}.test_limit"
                    if source == "cifar10"
                    else " or put more images in the test folder"
                    if source == "folder"
                    else " or raise data.test_fraction"
                )
            )
        rows = datasets.stratified_indices(test_source.labels[rest], data["heldout"], seed + 2, "data.heldout")
        heldout = datasets.subset(test_source, rest[rows], f"class-stratified, seed {seed + 2}, in neither T nor P")
        heldout.attrs["split"] = "heldout"
    test.attrs["images_also_in_train"] = shared
    write_imageset(train_out, train)
    write_imageset(test_out, test)
    if heldout is not None:
        write_imageset(heldout_out, heldout)
    log.info(
        "train: %d images %s, test: %d images, held out: %d",
        len(train),
        train.images.shape[1:],
        len(test),
        0 if heldout is None else len(heldout),
    )
