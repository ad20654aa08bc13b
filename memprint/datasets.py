"""Sources of the training set T and the held-out test set P, each returned as an ``ImageSet``.

* ``digits``: scikit-learn's 1,797 8x8 digits (ships with scikit-learn, so it works offline), stratified split;
* ``cifar10``: a local ``.npz`` with ``x`` (N, 32, 32, 3) uint8 and ``y``, or torchvision's download when online;
* ``folder``: every image file in a folder (one size), labelled by sub-folder name when there are sub-folders.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from memprint import MemprintError
from memprint.io import ImageSet
from memprint.pixels import to_uint8
from memprint.subsets import stratified_indices

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def digits_split(test_fraction: float, seed: int) -> tuple[ImageSet, ImageSet]:
    """scikit-learn digits (values 0..16) scaled to uint8 0..255, stratified train/test split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    index = np.arange(len(images))
    train_idx, test_idx = train_test_split(index, test_size=test_fraction, random_state=seed, stratify=digits.target)
    attrs = {"source": "sklearn.datasets.load_digits", "split_seed": seed, "test_fraction": test_fraction}
    return tuple(
        ImageSet(
            images[idx],
            digits.target[idx].astype(np.int64),
            np.array([f"digits/{i}" for i in idx], dtype=object),
            {**attrs, "split": name},
        )
        for name, idx in (("train", np.sort(train_idx)), ("test", np.sort(test_idx)))
    )


def load_npz(path: str | Path) -> ImageSet:
    """An ``.npz`` of images under ``x`` (or ``arr_0``, the ADM layout) with optional labels ``y``: uint8 0..255,
    16-bit, or float in 0..1 or -1..1 (inferred, recorded as ``pixel_range``)."""
    path = Path(path)
    if not path.exists():
        raise MemprintError(f"{path}: file not found; give an existing .npz path")
    try:
        with np.load(path, allow_pickle=False) as data:
            key = "x" if "x" in data else "arr_0" if "arr_0" in data else None
            if key is None:
                raise MemprintError(
                    f"{path}: no 'x' or 'arr_0' array; save images as np.savez(path, x=images, y=labels)"
                )
            images = data[key]
            labels = data["y"].astype(np.int64) if "y" in data else np.full(len(images), -1, np.int64)
            names = data["filenames"].astype(str) if "filenames" in data else None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise MemprintError(
            f"{path}: not a readable .npz file ({err}); rewrite it with np.savez(path, x=images)"
        ) from None
    images, pixel_range = to_uint8(images, str(path))
    if images.ndim == 3:
        images = images[..., None]
    if names is None:
        names = np.array([f"{path.stem}/{i}" for i in range(len(images))])
    if len(set(names.tolist())) != len(names):
        repeated = sorted({n for n in names.tolist() if (names == n).sum() > 1})[:3]
        raise MemprintError(
            f"{path}: file names repeat ({', '.join(repeated)} ...); give every image its own name "
            "in 'filenames', or leave that array out"
        )
    return ImageSet(images, labels, names.astype(object), {"source": str(path.resolve()), "pixel_range": pixel_range})


def cifar10(split: str, npz: str | None, root: str) -> ImageSet:
    """CIFAR-10 ``train`` or ``test``: from a local .npz when given, else torchvision (downloads when online)."""
    if npz:
        imageset = load_npz(npz)
    else:
        from torchvision.datasets import CIFAR10

        try:
            data = CIFAR10(root=root, train=(split == "train"), download=True)
        except Exception as err:  # torchvision raises URLError, RuntimeError, ... when offline
            raise MemprintError(
                f"CIFAR-10 could not be downloaded to {root} ({err}); give data.cifar10.{split}_npz, "
                "a local .npz with x (N,32,32,3) uint8 and y"
            ) from err
        images, labels = np.asarray(data.data), np.asarray(data.targets, np.int64)
        imageset = ImageSet(
            images,
            labels,
            np.array([f"cifar10/{split}/{i}" for i in range(len(images))], object),
            {"source": "torchvision.datasets.CIFAR10"},
        )
    imageset.attrs["split"] = split
    return imageset


def load_folder(folder: str | Path) -> ImageSet:
    """All images under ``folder`` (sorted), one size; sub-folder names become integer labels (``classes`` in the
    attributes names them). 16-bit images are scaled to 8 bits, not clipped."""
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    if not folder.is_dir():
        raise MemprintError(f"{folder}: not a folder of images; give a folder that holds image files")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise MemprintError(f"{folder}: no image files; put images in it ({', '.join(sorted(IMAGE_SUFFIXES))})")
    classes = sorted({p.parent.relative_to(folder).as_posix() for p in files} - {"."})
    images, first_shape = [], None
    for path in files:
        try:
            with Image.open(path) as img:
                if img.mode.startswith("I"):  # 16-bit grey (PNG I;16 or I): scale, never clip to 255
                    array = to_uint8(np.asarray(img).astype(np.uint16), str(path))[0]
                else:
                    array = np.asarray(img.convert("L" if img.mode in ("1", "L") else "RGB"))
        except (UnidentifiedImageError, OSError) as err:
            raise MemprintError(f"{path}: not a readable image ({err}); remove or replace it") from err
        array = array[..., None] if array.ndim == 2 else array
        if first_shape is None:
            first_shape = array.shape
        elif array.shape[:2] != first_shape[:2]:
            raise MemprintError(
                f"{path}: size {array.shape[:2]} differs from {files[0]} {first_shape[:2]}; resize the folder to one "
                "size first"
            )
        elif array.shape != first_shape:
            kinds = {1: "grey", 3: "RGB"}
            raise MemprintError(
                f"{path}: {kinds[array.shape[2]]} while {files[0]} is {kinds[first_shape[2]]}; convert the folder's "
                "images to one colour mode first (e.g. all RGB)"
            )
        images.append(array)
    labels = np.array([classes.index(p.parent.relative_to(folder).as_posix()) if classes else -1 for p in files])
    ids = np.array([p.relative_to(folder).as_posix() for p in files], dtype=object)
    stacked, pixel_range = to_uint8(np.stack(images).astype(np.uint8), str(folder))
    attrs = {"source": str(folder.resolve()), "classes": classes, "pixel_range": pixel_range}
    return ImageSet(stacked, labels.astype(np.int64), ids, attrs)


def with_classes(imageset: ImageSet, classes: list[str]) -> ImageSet:
    """``imageset`` (a folder's) relabelled by class name against ``classes``: two folders agree on what label 2
    means although each numbers only the classes it holds."""
    own = list(imageset.attrs.get("classes") or [])
    if not own:
        return imageset
    labels = np.array([classes.index(own[label]) for label in imageset.labels], np.int64)
    return ImageSet(imageset.images, labels, imageset.image_ids, {**imageset.attrs, "classes": classes})


def split_share(imageset: ImageSet, share: float, seed: int) -> tuple[ImageSet, ImageSet]:
    """(T, P): P is ``share`` of ``imageset``, drawn class-stratified with ``seed + 3``, T the rest; disjoint."""
    n_test = min(len(imageset) - 1, max(1, round(share * len(imageset))))
    rows = stratified_indices(imageset.labels, n_test, seed + 3, "data.folder.test_share")
    rest = np.setdiff1d(np.arange(len(imageset)), rows)
    how = f"data.folder.test_share {share:g} of the training folder, class-stratified, seed {seed + 3}"
    return subset(imageset, rest, f"the rest after {how}"), subset(imageset, rows, how)


def subset(imageset: ImageSet, rows: np.ndarray, how: str) -> ImageSet:
    """The rows ``rows`` of ``imageset``; ``how`` (e.g. the seed and the option that chose them) is recorded."""
    return ImageSet(
        imageset.images[rows],
        imageset.labels[rows],
        imageset.image_ids[rows],
        {**imageset.attrs, "subset": f"{len(rows)} of {len(imageset)} images, {how}"},
    )


def limited(imageset: ImageSet, limit: int | None, seed: int, option: str) -> ImageSet:
    """A seeded, class-stratified subset of ``limit`` images (all of them when ``limit`` is None)."""
    if limit is None or limit == len(imageset):
        return imageset
    rows = stratified_indices(imageset.labels, limit, seed, what=option)
    return subset(imageset, rows, f"class-stratified, seed {seed} ({option})")


DUPLICATE_MARK = "#copy"


def with_duplicates(imageset: ImageSet, images: int, copies: int, seed: int) -> ImageSet:
    """T with ``images`` of its images (seeded choice) repeated to ``copies`` copies each: a training set whose
    memorized images are known (InvMM's validation). Extra copies get ids ``<id>#copy<k>``; the attribute
    ``duplicated_ids`` lists the originals."""
    if not 0 < images <= len(imageset) or copies < 2:
        raise MemprintError(
            f"data.duplicates: need 1..{len(imageset)} images and copies >= 2, got {images} and {copies}"
        )
    chosen = np.sort(np.random.default_rng(seed).choice(len(imageset), images, replace=False))
    extra = np.repeat(chosen, copies - 1)
    copy_number = np.tile(np.arange(1, copies), images)
    ids = [f"{imageset.image_ids[i]}{DUPLICATE_MARK}{k}" for i, k in zip(extra, copy_number)]
    attrs = {
        **imageset.attrs,
        "duplicated_ids": [str(imageset.image_ids[i]) for i in chosen],
        "duplicates": {"images": images, "copies": copies, "seed": seed},
    }
    return ImageSet(
        np.concatenate([imageset.images, imageset.images[extra]]),
        np.concatenate([imageset.labels, imageset.labels[extra]]),
        np.concatenate([imageset.image_ids, np.array(ids, dtype=object)]),
        attrs,
    )
