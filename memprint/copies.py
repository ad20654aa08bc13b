"""Which generated samples copy which training images, layer by layer: a per-sample companion to C_T.

C_T averages z-scores over cells, so a generator that copies a small share of its training set blatantly can
score near 0 (Bhattacharjee, Dasgupta and Chaudhuri, ICML 2023). The copy finder keeps what C_T computes and
throws away: each generated sample's nearest training image in its cell and the distance to it. Its copy score
is the mid-rank percentile of that distance among the test set's nearest-training distances in the same cell,
so a held-out image's score is uniform on (0, 1) whatever the cell or layer; a sample is flagged a copy at a
layer when its score is below ``threshold`` (the 1st percentile by default), and a generator's copy rate per
layer gets a 95% Wilson interval. A generator that copies nothing has a copy rate near ``threshold``; the
interval is conditional on the test set (its percentiles are taken as fixed), so with a few hundred test images
per cell a copy-free generator's rate can sit a little off the nominal one.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from memprint.ct import LayerReference

DEFAULT_THRESHOLD = 0.01


def copy_scores(ref: LayerReference, gen_cells: np.ndarray, gen_dist: np.ndarray) -> np.ndarray:
    """Percentile (mid-rank) of each sample's nearest-training distance among P's in its cell (NaN: no P)."""
    scores = np.full(len(gen_cells), np.nan)
    for cell in np.unique(gen_cells):
        reference = np.sort(ref.test_dist[ref.test_cells == cell])
        if len(reference) == 0:
            continue
        inside = gen_cells == cell
        below = np.searchsorted(reference, gen_dist[inside], "left")
        at_most = np.searchsorted(reference, gen_dist[inside], "right")
        scores[inside] = (below + 0.5 * (at_most - below)) / len(reference)
    return scores


def copies_frame(
    ref: LayerReference,
    neighbours: tuple,
    train_ids,
    sample_ids,
    layer: int,
    layer_name: str,
    threshold: float = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """One row per generated sample at one layer: nearest training image, distance, copy score and flag, from
    the (cells, distances, nearest training rows) C_T's search found (``LayerReference.generated_neighbours``)."""
    cells, dist, rows = neighbours
    scores = copy_scores(ref, cells, dist)
    return pd.DataFrame(
        {
            "sample_id": np.asarray(sample_ids),
            "layer": layer,
            "layer_name": layer_name,
            "nearest_train_id": np.asarray(train_ids)[rows],
            "distance": dist,
            "score": scores,
            "copy": scores < threshold,
        }
    )


def wilson_interval(copies: int, total: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion: sensible at rates near 0 and 1, where the normal one fails."""
    if total == 0:
        return float("nan"), float("nan")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    rate = copies / total
    centre = (rate + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(rate * (1 - rate) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    low = 0.0 if copies == 0 else max(0.0, centre - half)
    return float(low), float(1.0 if copies == total else min(1.0, centre + half))


def copy_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Per layer (and generator, when the table has one): copy rate with its 95% Wilson interval."""
    keys = [k for k in ("generator", "layer", "layer_name") if k in table.columns]
    rows = []
    for key, block in table.groupby(keys, sort=False):
        scored = block.dropna(subset=["score"])
        copies, total = int(scored["copy"].sum()), len(scored)
        low, high = wilson_interval(copies, total)
        rows.append(
            {
                **dict(zip(keys, key)),
                "copies": copies,
                "samples": total,
                "copy_rate": copies / total if total else np.nan,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows)
