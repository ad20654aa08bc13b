"""HDF5 files of the pipeline: image sets and per-layer embeddings, always written atomically.

Every file is first written to ``<path>.tmp`` and renamed into place only when complete, so a crash never
leaves a file that looks finished. Files are opened with ``locking=False`` because cluster file systems (NFS)
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

from memprint import MemprintError, __version__

CHUNK_ROWS = 512


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
    """Yield a temporary sibling path; rename it onto ``path`` only if the block finishes without error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        tmp.unlink(missing_ok=True)
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


# ------------------------------------------------------------------------------------------------ CSV files


def write_csv(df, path: str | os.PathLike, meta: dict) -> None:
    """CSV with one leading ``# provenance: {json}`` line (read back with ``read_csv``)."""
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        handle.write("# provenance: " + json.dumps(provenance(**meta), sort_keys=True, default=str) + "\n")
        df.to_csv(handle, index=False)


def read_csv(path: str | os.PathLike):
    import pandas as pd

    return pd.read_csv(path, comment="#")


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
        f.attrs.update(h5_attrs(provenance(content_sha256=imageset.content_hash(), **imageset.attrs)))


def read_imageset(path: str | os.PathLike) -> ImageSet:
    with open_h5(path) as f:
        if "images" not in f:
            raise MemprintError(f"{path}: no /images dataset; this is not a memprint image-set file")
        images = f["images"][()]
        labels = f["labels"][()] if "labels" in f else np.full(len(images), -1, np.int64)
        ids = f["image_ids"].asstr()[()] if "image_ids" in f else np.array([str(i) for i in range(len(images))])
        attrs = dict(f.attrs)
    return ImageSet(images, labels, np.asarray(ids, dtype=object), attrs)


# ---------------------------------------------------------------------------------------------- embeddings


class EmbeddingWriter:
    """Writes per-layer embeddings batch by batch into ``<path>.tmp``, resumable, renamed when complete.

    The tmp file records how many rows are done (``rows_done``) and a ``resume_key`` (encoder + image set
    hash); a later run with the same key continues from there, any other key starts over.
    """

    def __init__(
        self, path, layer_names: list[str], dims: list[int], n_rows: int, image_ids, resume_key: str, attrs: dict
    ):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.layer_names = layer_names
        self.file = self._open_or_resume(resume_key, n_rows)
        if "layers" not in self.file:
            group = self.file.create_group("layers")
            for name, dim in zip(layer_names, dims):
                group.create_dataset(
                    name, shape=(n_rows, dim), dtype=np.float16, chunks=(min(CHUNK_ROWS, n_rows), dim), fletcher32=True
                )
            self.file.create_dataset("image_ids", data=np.asarray(image_ids, dtype=object), dtype=h5py.string_dtype())
            self.file.attrs.update(h5_attrs(provenance(**attrs)))
            self.file.attrs["layer_names"] = json.dumps(layer_names)
            self.file.attrs["resume_key"] = resume_key
            self.file.attrs["rows_done"] = 0
            self.file.attrs["complete"] = False

    def _open_or_resume(self, resume_key: str, n_rows: int) -> h5py.File:
        if self.tmp.exists():
            try:
                f = h5py.File(self.tmp, "a", locking=False)
                if f.attrs.get("resume_key") == resume_key and "layers" in f and len(f["image_ids"]) == n_rows:
                    return f
                f.close()
            except OSError:
                pass  # a tmp file torn by a crash mid-write: start over
            self.tmp.unlink()
        return h5py.File(self.tmp, "w", locking=False)

    @property
    def rows_done(self) -> int:
        return int(self.file.attrs["rows_done"])

    def write(self, start: int, layer_arrays: list[np.ndarray]) -> None:
        stop = start + len(layer_arrays[0])
        for name, array in zip(self.layer_names, layer_arrays):
            self.file["layers"][name][start:stop] = array.astype(np.float16)
        self.file.flush()  # rows on disk before the counter that vouches for them
        self.file.attrs["rows_done"] = stop
        self.file.flush()

    def finish(self, **attrs) -> None:
        """Mark the file complete (``attrs``, e.g. the seconds it took, are recorded) and move it into place."""
        if self.rows_done != len(self.file["image_ids"]):
            raise RuntimeError(f"{self.tmp}: {self.rows_done} of {len(self.file['image_ids'])} rows written")
        self.file.attrs.update(h5_attrs(attrs))
        self.file.attrs["complete"] = True
        self.file.close()
        os.replace(self.tmp, self.path)

    def close(self) -> None:
        """Close without finishing: the tmp file stays for a later resume."""
        if self.file.id.valid:
            self.file.close()


@dataclass
class Embeddings:
    """Per-layer embeddings of one image set: ``layers[i]`` is an (N, D_i) float32 array."""

    layer_names: list[str]
    layers: list[np.ndarray]
    image_ids: np.ndarray
    attrs: dict


def read_embeddings(path: str | os.PathLike, layers: list[str] | None = None) -> Embeddings:
    with open_h5(path) as f:
        if "layers" not in f or "layer_names" not in f.attrs:
            raise MemprintError(f"{path}: no /layers group; this is not a memprint embedding file")
        if not f.attrs.get("complete", False):
            raise MemprintError(f"{path}: embedding file is incomplete; delete it and rerun the embedding step")
        names = json.loads(f.attrs["layer_names"])
        if layers is not None:
            unknown = [name for name in layers if name not in names]
            if unknown:
                raise MemprintError(f"{path}: unknown layer(s) {unknown}; the file holds {names}")
            names = layers
        try:
            arrays = [f["layers"][name][()].astype(np.float32) for name in names]
        except OSError as err:  # fletcher32 checksum mismatch or an unreadable chunk
            raise MemprintError(
                f"{path}: corrupt embedding data ({err}); delete the file and rerun the embedding step"
            ) from None
        ids = f["image_ids"].asstr()[()]
        attrs = dict(f.attrs)
    return Embeddings(names, arrays, np.asarray(ids, dtype=object), attrs)
