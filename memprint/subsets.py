"""Seeded subsets that keep a set's class proportions.

Real data files are often sorted by class (the CIFAR-10 assets put all airplanes first), so "the first N images"
is one class or a few. Every "take N images" option of memprint draws through ``stratified_indices`` instead:
class shares are kept exactly up to rounding (largest remainder), and a set without labels gets a uniform
seeded subset.
"""

from __future__ import annotations

import numpy as np

from memprint import MemprintError


def stratified_indices(labels: np.ndarray, n: int, seed: int, what: str = "subset") -> np.ndarray:
    """Sorted indices of ``n`` rows whose class shares match ``labels``' (labels < 0: unknown, uniform draw)."""
    labels = np.asarray(labels)
    total = len(labels)
    if not 0 < n <= total:
        raise MemprintError(f"{what}: {n} images asked for, the set holds {total}; ask for 1..{total}")
    if n == total:
        return np.arange(total)
    rng = np.random.default_rng(seed)
    if (labels < 0).any():
        return np.sort(rng.choice(total, size=n, replace=False))
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n / total
    take = np.floor(exact).astype(int)
    by_remainder = np.argsort(-(exact - take), kind="stable")
    take[by_remainder[: n - take.sum()]] += 1
    chosen = [rng.choice(np.flatnonzero(labels == c), size=k, replace=False) for c, k in zip(classes, take)]
    return np.sort(np.concatenate(chosen))
