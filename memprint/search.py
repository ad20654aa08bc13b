"""Exact nearest-neighbour search behind one interface, used by C_T, its intervals, the copy finder and the
baselines: FAISS (the field's engine: ``IndexFlatL2`` / ``IndexFlatIP``) on the CPU, torch in bounded blocks on a
GPU or where FAISS is not installed. Both are exact and return the same neighbours; the distance of the neighbour
found is then recomputed one way for both from the difference vector, so near-copies (distance ~0) are not lost
to the cancellation of the matrix-product form and a result does not depend on the backend.

``nearest_in_shards`` searches T shard by shard (T need not fit in memory at once, and shards can be searched by
separate jobs) and merges the per-shard top-1: exactly the single-index answer.

The backend is a runtime setting (``runtime.search``), like the device: it never changes a result.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def backend_used(device) -> str:
    """This process's ``runtime.search`` (``runtime.set_search``); ``auto``: FAISS on the CPU when it is
    installed, torch otherwise (a GPU runs torch's matrix products)."""
    from memprint.runtime import search_setting

    if search_setting() != "auto":
        return search_setting()
    if getattr(device, "type", "cpu") != "cpu":
        return "torch"
    try:
        import faiss  # noqa: F401
    except ImportError:
        return "torch"
    return "faiss"


def nearest_distances(
    queries: np.ndarray,
    refs: np.ndarray,
    distance: str = "euclidean",
    device=None,
    max_block_elements: int = 1 << 25,
    return_index: bool = False,
    exclude: np.ndarray | None = None,
):
    """Exact distance of every query row to its nearest reference row (and, with ``return_index``, that row's
    index); ``exclude[i]``: a reference row query i may not match (itself, when the queries are the references).
    ``distance``: ``euclidean`` or ``abs_cosine`` (1 - |cosine|)."""
    from memprint.runtime import resolve_device

    if len(refs) == 0:
        raise ValueError("no reference points")
    device = resolve_device(device or "auto")
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    refs = np.ascontiguousarray(refs, dtype=np.float32)
    if distance == "abs_cosine":
        queries, refs = _unit(queries), _unit(refs)
    if backend_used(device) == "faiss":
        index = _faiss_nearest(queries, refs, distance, exclude)
    else:
        index = _torch_nearest(queries, refs, distance, device, max_block_elements, exclude)
    dist = _distance_to(queries, refs, index, distance)
    return (dist, index) if return_index else dist


def nearest_in_shards(queries: np.ndarray, shards: Iterable[np.ndarray], distance: str = "euclidean", device=None):
    """Nearest distance and global row of every query over T given shard by shard (in row order): each shard's
    top-1, merged by the smaller distance (the earlier shard on a tie), as one index over all of T would."""
    best = np.full(len(queries), np.inf, np.float32)
    rows = np.full(len(queries), -1, np.int64)
    offset = 0
    for shard in shards:
        dist, index = nearest_distances(queries, shard, distance, device, return_index=True)
        closer = dist < best
        best[closer], rows[closer] = dist[closer], index[closer] + offset
        offset += len(shard)
    if offset == 0:
        raise ValueError("no reference points")
    return best, rows


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _distance_to(queries: np.ndarray, refs: np.ndarray, index: np.ndarray, distance: str) -> np.ndarray:
    """The distance of each query to the reference row it was matched with, one way for every backend."""
    if distance == "abs_cosine":
        return (1.0 - np.abs(np.einsum("ij,ij->i", queries, refs[index]))).astype(np.float32)
    return np.linalg.norm(queries - refs[index], axis=1).astype(np.float32)


def _faiss_nearest(queries: np.ndarray, refs: np.ndarray, distance: str, exclude: np.ndarray | None) -> np.ndarray:
    import faiss
    import torch

    faiss.omp_set_num_threads(torch.get_num_threads())  # the job's threads, as torch uses
    if distance == "abs_cosine":  # the largest |cosine|: the larger of the best match of q and of -q
        index = faiss.IndexFlatIP(refs.shape[1])
        index.add(refs)
        plus, rows_plus = index.search(queries, 1)
        minus, rows_minus = index.search(-queries, 1)
        return np.where(plus[:, 0] >= minus[:, 0], rows_plus[:, 0], rows_minus[:, 0]).astype(np.int64)
    index = faiss.IndexFlatL2(refs.shape[1])
    index.add(refs)
    k = 1 if exclude is None else min(2, len(refs))
    _, rows = index.search(queries, k)
    if exclude is None:
        return rows[:, 0].astype(np.int64)
    own = rows[:, 0] == exclude
    return np.where(own, rows[:, -1], rows[:, 0]).astype(np.int64)


def _torch_nearest(queries, refs, distance: str, device, max_block_elements: int, exclude) -> np.ndarray:
    """The nearest row by the matrix-product form, in blocks of at most ``max_block_elements`` distances."""
    import torch

    r = torch.as_tensor(refs, device=device)
    r_sq = (r * r).sum(1)
    block = max(1, max_block_elements // len(r))
    index = []
    for start in range(0, len(queries), block):
        q = torch.as_tensor(queries[start : start + block], device=device)
        if distance == "abs_cosine":
            nearest = (q @ r.T).abs().argmax(dim=1)
        else:
            squared = (q * q).sum(1, keepdim=True) + r_sq - 2.0 * (q @ r.T)
            if exclude is not None:
                own = torch.as_tensor(exclude[start : start + len(q)], device=device)
                squared[torch.arange(len(q), device=device), own] = float("inf")
            nearest = squared.argmin(dim=1)
        index.append(nearest.cpu())
    return torch.cat(index).numpy().astype(np.int64) if index else np.zeros(0, np.int64)
