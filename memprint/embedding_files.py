"""Per-layer embedding files: ``/layers/<name>`` float16 (N, D) datasets, chunked and checksummed, written batch by
batch into a resumable ``<path>.tmp`` that one writer holds at a time, renamed when complete, and read back as
``Embeddings``."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from memprint import MemprintError
from memprint.io import CHUNK_ROWS, h5_attrs, open_h5, provenance


class EmbeddingWriter:
    """Writes per-layer embeddings batch by batch into ``<path>.tmp``, resumable, renamed when complete.

    The tmp file records how many rows are done (``rows_done``) and a ``resume_key`` (encoder + image set
    hash); a later run with the same key continues from there, any other key starts over.
    """

    def __init__(
        self, path, layer_names: list[str], dims: list[int], n_rows: int, image_ids, resume_key: str, attrs: dict
    ):
        from memprint.outputs import check_free_space, check_target

        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")  # a fixed name, so an interrupted run resumes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        check_target(self.path)
        check_free_space(self.path, n_rows * sum(dims) * 2 + (1 << 20), "the embedding file")
        self.layer_names = layer_names
        self._lock = _exclusive_lock(self.tmp)
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
        """Without a chunk cache (``rdcc_nbytes=0``) a failed write raises in ``write`` itself, not later when HDF5
        frees a dataset (on a full disk: a traceback per dataset, and a crash at exit); each batch is written once."""
        if self.tmp.exists():
            try:
                f = h5py.File(self.tmp, "a", locking=False, rdcc_nbytes=0)
                if f.attrs.get("resume_key") == resume_key and "layers" in f and len(f["image_ids"]) == n_rows:
                    return f
                f.close()
            except OSError:
                pass  # a tmp file torn by a crash mid-write: start over
            self.tmp.unlink()
        return h5py.File(self.tmp, "w", locking=False, rdcc_nbytes=0)

    @property
    def rows_done(self) -> int:
        return int(self.file.attrs["rows_done"])

    def write(self, start: int, layer_arrays: list[np.ndarray]) -> None:
        from memprint.outputs import write_failed

        stop = start + len(layer_arrays[0])
        try:
            for name, array in zip(self.layer_names, layer_arrays):
                self.file["layers"][name][start:stop] = array.astype(np.float16)
            self.file.flush()  # rows on disk before the counter that vouches for them
            self.file.attrs["rows_done"] = stop
            self.file.flush()
        except (OSError, RuntimeError) as err:  # a full disk: the tmp file is torn, remove it
            self.discard()
            raise write_failed(self.path, err) from None

    def discard(self) -> None:
        """Close and delete the tmp file (it cannot be resumed from). Its blocks are freed first, so that on a full
        disk HDF5 can still close it: otherwise every open dataset prints a traceback as it is freed, and the
        interpreter can crash at exit."""
        with contextlib.suppress(OSError):
            os.truncate(self.tmp, 0)
        with contextlib.suppress(Exception):
            self.file.close()
        self.tmp.unlink(missing_ok=True)
        self._release()

    def finish(self, **attrs) -> None:
        """Mark the file complete (``attrs``, e.g. the seconds it took, are recorded) and move it into place."""
        if self.rows_done != len(self.file["image_ids"]):
            raise RuntimeError(f"{self.tmp}: {self.rows_done} of {len(self.file['image_ids'])} rows written")
        self.file.attrs.update(h5_attrs(attrs))
        self.file.attrs["complete"] = True
        self.file.close()
        os.replace(self.tmp, self.path)
        self._release()

    def close(self) -> None:
        """Close without finishing: the tmp file stays for a later resume."""
        if self.file.id.valid:
            self.file.close()
        self._release()

    def _release(self) -> None:
        """Remove the lock file, then release it: a writer that opens it meanwhile finds it still held and stops."""
        Path(self._lock.name).unlink(missing_ok=True)
        self._lock.close()


def _exclusive_lock(tmp: Path):
    """Hold a lock beside the tmp file for the writer's life: a second writer to the same output stops at once
    instead of writing into the same tmp file."""
    import fcntl

    handle = open(tmp.with_name(tmp.name + ".lock"), "w")  # noqa: SIM115 - held until close()
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise MemprintError(
            f"{tmp.with_suffix('')}: another memprint process is writing it; wait for it to finish or write elsewhere"
        ) from None
    return handle


class OnDemand(Sequence):
    """A sequence whose item ``k`` is made by ``make(k)`` each time it is asked for and not kept: a loop over the
    layers of a large T holds one layer at a time."""

    def __init__(self, length: int, make):
        self._length, self._make = length, make

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(self._length))]
        if not -self._length <= k < self._length:
            raise IndexError(k)
        return self._make(k % self._length)


@dataclass
class Embeddings:
    """Per-layer embeddings of one image set: ``layers[i]`` is an (N, D_i) float32 array (read on access when
    the file was read ``lazy``)."""

    layer_names: list[str]
    layers: list[np.ndarray]
    image_ids: np.ndarray
    attrs: dict


def read_embeddings(path: str | os.PathLike, layers: list[str] | None = None, lazy: bool = False) -> Embeddings:
    """``lazy``: every layer is read when it is used and not kept (memory: one layer of a large T, not all)."""
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
        if lazy:
            arrays = OnDemand(len(names), lambda k: _read_layer(path, names[k]))
        else:
            arrays = [_read_layer(path, name, f) for name in names]
        ids = f["image_ids"].asstr()[()]
        attrs = dict(f.attrs)
    return Embeddings(names, arrays, np.asarray(ids, dtype=object), attrs)


def _read_layer(path, name: str, file=None) -> np.ndarray:
    """One layer as float32 (from the open ``file``, else opening ``path``)."""
    with contextlib.nullcontext(file) if file is not None else open_h5(path) as f:
        try:
            return f["layers"][name].astype(np.float32)[()]  # converted as read: no float16 copy of the layer
        except OSError as err:  # fletcher32 checksum mismatch or an unreadable chunk
            raise MemprintError(
                f"{path}: corrupt embedding data ({err}); delete the file and rerun the embedding step"
            ) from None
