"""95% intervals on C_T: a bootstrap of the test set P and the generated set Q over the fixed cells.

T (and so the KMeans cells and every point's nearest-training distance) is what C_T conditions on, so it stays
fixed; P and Q are resampled with replacement. A replicate draws one multiset of P images and one of Q images
and uses them at every layer, so a replicate curve is the C_T-layer curve of one resampled pair of image sets
and any statistic of curves (a slope, a difference between layers or between generators) gets its interval from
the replicate curves. Nothing is searched again: a replicate only reweights the distances already computed.

Per cell, with bootstrap counts a_i of P's points and b_j of Q's points, the Mann-Whitney statistic is
U* = sum_ij b_j a_i ([d(q_j) > d(p_i)] + 0.5 [d(q_j) = d(p_i)]) = b^T L a, a matrix product for all replicates at
once; cells are kept by the same tau rule on the replicate's counts.
"""

from __future__ import annotations

import zlib

import numpy as np

from memprint.ct import LayerReference

LEVEL = 0.95


def resample_counts(n: int, replicates: int, seed: int, stream: str) -> np.ndarray:
    """(replicates, n) bootstrap counts of n items; ``stream`` (e.g. "test" or a generator's name) picks the
    random stream, so P is resampled alike for every generator and each Q independently."""
    rng = np.random.default_rng([seed, zlib.crc32(stream.encode())])
    return rng.multinomial(n, np.full(n, 1.0 / n), size=replicates).astype(np.float64)


def bootstrap_ct(
    ref: LayerReference,
    gen_cells: np.ndarray,
    gen_dist: np.ndarray,
    test_counts: np.ndarray,
    gen_counts: np.ndarray,
    effect: bool = False,
) -> np.ndarray:
    """C_T of every replicate (NaN where no cell qualifies) from (B, |P|) and (B, |Q|) bootstrap counts; with
    ``effect``, each cell's Mann-Whitney z replaced by its size-free effect, the rank-biserial correlation
    2 U / (m n) - 1 (unit counts give the point value)."""
    n_test, n_gen = test_counts.shape[1], gen_counts.shape[1]
    tau = ref.settings.tau_for(n_gen)
    replicates = len(test_counts)
    weighted_z = np.zeros(replicates)
    weight_sum = np.zeros(replicates)
    for cell in range(len(ref.centers)):
        in_p, in_q = ref.test_cells == cell, gen_cells == cell
        if not in_p.any() or not in_q.any():
            continue
        d_p, d_q = ref.test_dist[in_p].astype(np.float64), gen_dist[in_q].astype(np.float64)
        above = (d_q[:, None] > d_p[None, :]) + 0.5 * (d_q[:, None] == d_p[None, :])
        a, b = test_counts[:, in_p], gen_counts[:, in_q]
        m, n = a.sum(1), b.sum(1)
        u = ((b @ above) * a).sum(1)  # sums of multiples of 0.5 below 2**53: exact in any order
        with np.errstate(invalid="ignore", divide="ignore"):
            z = 2.0 * u / (m * n) - 1.0 if effect else (u - (m * n / 2.0 - 0.5)) / np.sqrt(m * n * (m + n + 1) / 12.0)
        used = (n / n_gen > tau) & (m > 0)
        weight = np.where(used, m / n_test, 0.0)
        weighted_z += np.where(used, weight * np.nan_to_num(z), 0.0)
        weight_sum += weight
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight_sum > 0, weighted_z / weight_sum, np.nan)


def percentile_interval(values: np.ndarray, level: float = LEVEL, axis: int = 0) -> tuple:
    """The equal-tailed percentile interval of bootstrap ``values`` (NaN replicates left out)."""
    tail = 100 * (1 - level) / 2
    return np.nanpercentile(values, tail, axis=axis), np.nanpercentile(values, 100 - tail, axis=axis)
