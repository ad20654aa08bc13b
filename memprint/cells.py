"""The building blocks of C_T inside one cell: the nearest-centre cell of a point, the seeded sample KMeans is fit
on, and the Mann-Whitney z of test against generated distances (Meehan et al.); the nearest-training search is
``memprint.search``."""

from __future__ import annotations

import math

import numpy as np

from memprint import MemprintError


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


def assign_cells(points: np.ndarray, centers: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """Index of the nearest centre (KMeans ``predict``), in float64 so ties at centre boundaries are rare; in
    blocks of rows, so a million points need no float64 copy of all of them."""
    c = centers.astype(np.float64)
    c_sq = (c * c).sum(1)
    cells = np.empty(len(points), np.int64)
    for start in range(0, len(points), block):
        p = points[start : start + block].astype(np.float64)
        cells[start : start + block] = ((p * p).sum(1, keepdims=True) - 2.0 * p @ c.T + c_sq).argmin(axis=1)
    return cells


def seeded_rows(points: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """A seeded sample of ``size`` rows in their order (all rows when there are no more, or ``size`` is None)."""
    if size is None or len(points) <= size:
        return points
    return points[np.sort(np.random.default_rng(seed).choice(len(points), size, replace=False))]


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
