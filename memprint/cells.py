"""The building blocks of C_T inside one cell: exact nearest-training distances (torch, in bounded blocks), the
nearest-centre cell of a point, and the Mann-Whitney z of test against generated distances (Meehan et al.)."""

from __future__ import annotations

import math

import numpy as np
import torch

from memprint import MemprintError
from memprint.runtime import resolve_device


def nearest_distances(
    queries: np.ndarray,
    refs: np.ndarray,
    distance: str = "euclidean",
    device: torch.device | None = None,
    max_block_elements: int = 1 << 25,
    return_index: bool = False,
    exclude: np.ndarray | None = None,
):
    """Exact distance of every query row to its nearest reference row (and, with ``return_index``, that row's
    index), computed in torch in bounded blocks; ``exclude[i]``: a reference row query i may not match (itself,
    when the queries are the references).

    Euclidean: the nearest row is found with the matrix-product form of the squared distance, then its distance
    is recomputed from the difference vector, so near-copies (distance ~0) are not lost to cancellation.
    """
    if len(refs) == 0:
        raise ValueError("no reference points")
    device = device or resolve_device()
    q_all = torch.as_tensor(np.ascontiguousarray(queries), dtype=torch.float32, device=device)
    r = torch.as_tensor(np.ascontiguousarray(refs), dtype=torch.float32, device=device)
    if distance == "abs_cosine":
        q_all = torch.nn.functional.normalize(q_all, dim=1)
        r = torch.nn.functional.normalize(r, dim=1)
    r_sq = (r * r).sum(1)
    block = max(1, max_block_elements // len(r))
    out, index = [], []
    for start in range(0, len(q_all), block):
        q = q_all[start : start + block]
        if distance == "abs_cosine":
            similarity, nearest = (q @ r.T).abs().max(dim=1)
            out.append(1.0 - similarity)
        else:
            squared = (q * q).sum(1, keepdim=True) + r_sq - 2.0 * (q @ r.T)
            if exclude is not None:
                own = torch.as_tensor(exclude[start : start + len(q)], device=device)
                squared[torch.arange(len(q), device=device), own] = float("inf")
            nearest = squared.argmin(dim=1)
            out.append((q - r[nearest]).norm(dim=1))
        index.append(nearest)
    dist = torch.cat(out).cpu().numpy() if out else np.zeros(0, np.float32)
    if return_index:
        return dist, (torch.cat(index).cpu().numpy() if index else np.zeros(0, np.int64))
    return dist


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank: scipy's ``rankdata(method="average")`` (scipy costs a second
    to import in every C_T job)."""
    order = np.argsort(values, kind="mergesort")
    starts = np.r_[True, values[order][1:] != values[order][:-1]]
    group = np.cumsum(starts) - 1
    counts = np.r_[np.flatnonzero(starts), len(values)]
    ranks = np.empty(len(values), np.float64)
    ranks[order] = 0.5 * (counts[group] + counts[group + 1] + 1)
    return ranks


def mann_whitney_z(d_test: np.ndarray, d_generated: np.ndarray) -> float:
    """Z_U of Meehan et al.: U counts pairs with d(q) > d(p) (+0.5 per tie), mean m n / 2 - 0.5, no tie term."""
    m, n = len(d_test), len(d_generated)
    ranks = average_ranks(np.concatenate([d_generated, d_test]).astype(np.float64))
    u = ranks[:n].sum() - n * (n + 1) / 2.0
    return float((u - (m * n / 2.0 - 0.5)) / math.sqrt(m * n * (m + n + 1) / 12.0))


def assign_cells(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre (KMeans ``predict``), in float64 so ties at centre boundaries are rare."""
    p = points.astype(np.float64)
    c = centers.astype(np.float64)
    sq = (p * p).sum(1, keepdims=True) - 2.0 * p @ c.T + (c * c).sum(1)
    return sq.argmin(axis=1)


def check_matrix(x, what: str, layer: str, width: int | None = None) -> np.ndarray:
    x, where = np.asarray(x, dtype=np.float32), f" (layer {layer})" if layer else ""
    if x.ndim != 2:
        raise MemprintError(f"{what}{where} must be a 2-D (N, D) array, got shape {x.shape}; pass one layer's matrix")
    if width is not None and x.shape[1] != width:
        raise MemprintError(
            f"{what}{where} have {x.shape[1]} dimensions, the training embeddings {width}; embed T, P and Q with "
            "one encoder"
        )
    if len(x) == 0:
        raise MemprintError(f"{what}{where}: no samples; give at least one embedding")
    if not np.isfinite(x).all():
        raise MemprintError(
            f"{what}{where} contain NaN or infinite values; recompute them (a diverged model or an overflow)"
        )
    return x
