"""HDF5 files of the pipeline: image sets and per-layer embeddings, always written atomically.

Every file is first written to a hidden temporary sibling unique to its writer (``memprint.outputs``) and renamed
into place only when complete, so a crash never leaves a file that looks finished, and a failed write leaves no
temporary file behind. Files are opened with ``locking=False`` because cluster file systems (NFS)
often refuse HDF5's POSIX locks.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import yaml

from memprint import MemprintError, __version__

CHUNK_ROWS = 512  # rows per HDF5 chunk of image and embedding datasets


def open_h5(path: str | os.PathLike, mode: str = "r") -> h5py.File:
    """Open an HDF5 file without file locking (NFS-safe); a missing or corrupt file is a MemprintError."""
    path = Path(path)
    if mode == "r" and not path.exists():
        raise MemprintError(f"{path}: file not found; run the step that creates it or fix the path")
    try:
        return h5py.File(path, mode, locking=False)
    except OSError as err:
        raise MemprintError(f"{path}: not a readable HDF5 file ({err}); delete it and rerun the step") from err


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling path unique to this writer; rename it onto ``path`` only if the block finishes
    without error (a symlink, device or folder at ``path`` is never replaced). A failed write removes the
    temporary file and becomes one MemprintError naming the file."""
    from memprint.outputs import temporary_sibling, write_failed

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or (path.exists() and not path.is_file() and not path.is_dir()):
        raise MemprintError(f"{path}: is a symbolic link or a device; memprint will not replace it")
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as err:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, FileNotFoundError):
            raise write_failed(path, err) from None
        raise


def provenance(**fields) -> dict:
    """Common provenance fields: what made the file, when, with which memprint."""
    return {
        "memprint_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **fields,
    }


def h5_attrs(fields: dict) -> dict:
    """HDF5 attributes hold scalars and strings: nested values are stored as JSON text."""
    return {
        k: (
            json.dumps(v, sort_keys=True, default=str)
            if isinstance(v, (dict, list, tuple))
            else ("" if v is None else v)
        )
        for k, v in fields.items()
    }


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(root: Path, files: list[Path]) -> str:
    """One hash for many files: SHA-256 over the sorted lines '<path relative to root> <file SHA-256>'."""
    lines = sorted(f"{p.relative_to(root).as_posix()} {sha256_file(p)}" for p in files)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def content_digest(paths) -> str:
    """One SHA-256 over what the given files and folders hold (``tree_sha256`` of each, folders recursively): a
    rule's param, so a folder whose images change in place (which leaves its modification time alone) reruns what
    reads it. A missing path counts as missing, named in the digest."""
    digest = hashlib.sha256()
    for given in paths:
        root = Path(given)
        if root.is_dir():
            tree = tree_sha256(root, sorted(p for p in root.rglob("*") if p.is_file()))
        else:
            tree = tree_sha256(root.parent, [root]) if root.exists() else "missing"
        digest.update(f"{given}:{tree}\n".encode())
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------ CSV files


def write_csv(df, path: str | os.PathLike, meta: dict) -> None:
    """CSV with one leading ``# provenance: {json}`` line (read back with ``read_csv``)."""
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        handle.write("# provenance: " + json.dumps(provenance(**meta), sort_keys=True, default=str) + "\n")
        df.to_csv(handle, index=False)


def read_csv(path: str | os.PathLike):
    """A CSV written by ``write_csv``: its provenance line skipped, not every ``#`` (ids such as ``x#copy3`` hold
    one; treated as comments they would cut their rows short)."""
    import pandas as pd

    with open(path) as handle:
        provenance_line = handle.readline().startswith("# provenance: ")
    return pd.read_csv(path, skiprows=1 if provenance_line else 0)


def read_csv_provenance(path: str | os.PathLike) -> dict:
    with open(path) as handle:
        first = handle.readline()
    return json.loads(first.removeprefix("# provenance: ")) if first.startswith("# provenance: ") else {}


# ---------------------------------------------------------------------------------------------- image sets


@dataclass
class ImageSet:
    """Images as uint8 NHWC (C = 1 or 3), integer labels (-1 where unknown) and one id per image."""

    images: np.ndarray
    labels: np.ndarray
    image_ids: np.ndarray
    attrs: dict

    def __post_init__(self):
        validate_images(self.images, "image set")
        if len(self.labels) != len(self.images) or len(self.image_ids) != len(self.images):
            raise MemprintError("image set: images, labels and image_ids must have the same length")
        if len(set(self.image_ids.tolist())) != len(self.image_ids):
            raise MemprintError(
                "image set: image ids repeat; every image needs its own id (copies are told apart by them)"
            )

    def __len__(self) -> int:
        return len(self.images)

    def content_hash(self) -> str:
        """SHA-256 of the pixels, shape included: identifies the data an embedding was computed from."""
        digest = hashlib.sha256(str(self.images.shape).encode())
        digest.update(np.ascontiguousarray(self.images).tobytes())
        return digest.hexdigest()


def validate_images(images: np.ndarray, what: str) -> None:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        dtype = getattr(images, "dtype", type(images).__name__)
        raise MemprintError(f"{what}: images must be a uint8 array, got {dtype}; convert with np.uint8 in 0..255")
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise MemprintError(f"{what}: images must have shape (N, H, W, C) with C in (1, 3), got {images.shape}")
    if len(images) == 0:
        raise MemprintError(f"{what}: no images")


def write_imageset(path: str | os.PathLike, imageset: ImageSet) -> None:
    with atomic_path(path) as tmp, h5py.File(tmp, "w", locking=False) as f:
        n, h, w, c = imageset.images.shape
        f.create_dataset("images", data=imageset.images, chunks=(min(CHUNK_ROWS, n), h, w, c))
        f.create_dataset("labels", data=imageset.labels.astype(np.int64))
        f.create_dataset("image_ids", data=np.asarray(imageset.image_ids, dtype=object), dtype=h5py.string_dtype())
        kept = {k: v for k, v in imageset.attrs.items() if k != "content_sha256"}  # the hash of these pixels, anew
        f.attrs.update(h5_attrs(provenance(content_sha256=imageset.content_hash(), **kept)))


def read_imageset(path: str | os.PathLike) -> ImageSet:
    """An image-set file, its pixels checked against the SHA-256 recorded when it was written (a bit flip, or a
    file edited outside memprint, is refused)."""
    with open_h5(path) as f:
        if "images" not in f:
            raise MemprintError(f"{path}: no /images dataset; this is not a memprint image-set file")
        images = f["images"][()]
        labels = f["labels"][()] if "labels" in f else np.full(len(images), -1, np.int64)
        ids = f["image_ids"].asstr()[()] if "image_ids" in f else np.array([str(i) for i in range(len(images))])
        attrs = dict(f.attrs)
    try:
        imageset = ImageSet(images, labels, np.asarray(ids, dtype=object), attrs)
    except MemprintError as err:
        raise MemprintError(f"{path}: {str(err).removeprefix('image set: ')}") from None
    if attrs.get("content_sha256") and attrs["content_sha256"] != imageset.content_hash():
        raise MemprintError(
            f"{path}: its pixels do not match the SHA-256 recorded when it was written (the file changed or is "
            "damaged); delete it and rerun the step that makes it"
        )
    return imageset


# ---------------------------------------------------------------------------------------------- embeddings


# ---------------------------------------------------------------------------------------------- YAML files


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (plain YAML keeps the last one, silently)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first at line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict:
    """A YAML mapping; a missing file, a syntax error or a key given twice is one line naming the file and the
    line."""
    path = Path(path)
    if not path.is_file():
        raise MemprintError(f"{path}: config file not found; give the path of a YAML file")
    try:
        value = yaml.load(path.read_text(), Loader=_StrictLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise MemprintError(f"{path}: not valid YAML{where} ({getattr(err, 'problem', err)}); fix it") from None
    if not isinstance(value, dict):
        raise MemprintError(f"{path}: expected a YAML mapping of settings, got {type(value).__name__}")
    return value
