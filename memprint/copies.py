"""Which generated images copy which training images, with a stated false-positive rate.

C_T averages over cells, so a generator that copies a small share of its training set blatantly can score near
0 (Bhattacharjee, Dasgupta and Chaudhuri, ICML 2023). The copy finder looks at each generated image: at every
layer and under every configured transform (a generated image may be a mirrored or rotated copy), its nearest
training image in its C_T cell and the distance to it.

* Per layer and transform, a smoothed conformal p-value: the image's rank among the distances of the P images in
  its cell (ties and its own place broken by a seeded uniform draw), over their number plus one, P's distances
  taken under the same transform. For an image exchangeable with P (a held-out image) it is uniform on (0, 1),
  so flagging p <= level flags ``level`` of held-out images.
* Per image, one flag over all layers and transforms at a family-wise rate of ``level``: the statistic is the
  smallest scaled distance over (layer, transform) (the distance over the median P distance of its cell, so
  cells, layers and transforms are comparable), and its p-value is its rank among the same statistic of every P
  image, each computed leaving that image out of its cell (calibrated on P). Bonferroni over 13 layers x several
  transforms would be valid too but blind: neighbouring layers and an image and its mirror are strongly
  dependent, which the calibration on P accounts for and Bonferroni cannot; and a smallest rank-based p-value
  would be floored at 1 / (cell size + 1), which differs between cells.
* Per layer (over transforms), the same calibration restricted to that layer.

Rates get 95% Wilson intervals. They are conditional on P: P's own near-duplicates of training images (CIFAR-10's
test set holds some; Barz and Denzler 2020) sit in the reference, which makes the finder more conservative (a
generated copy must be closer to T than those are to score low), never less.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from memprint import MemprintError

DEFAULT_LEVEL = 0.01


def smallest_p(calibration: int) -> float:
    """The smallest image-level p-value a calibration set of this size can give: 1 / (|P| + 1)."""
    return 1.0 / (calibration + 1)


def check_power(calibration: int, level: float) -> None:
    """A P too small for the level flags nothing whatever Q holds: refuse it, naming the smallest |P| that works."""
    floor = smallest_p(calibration)
    if floor > level:
        needed = int(np.ceil(1.0 / level)) - 1
        raise MemprintError(
            f"P holds {calibration} images: its smallest p-value, 1/{calibration + 1} = {floor:.3g}, is above the "
            f"level {level:g}, so no image could be flagged; give P at least {needed} images or raise the level"
        )


def pvalues(
    reference_cells: np.ndarray, reference_dist: np.ndarray, cells: np.ndarray, dist: np.ndarray, uniform: np.ndarray
) -> np.ndarray:
    """Smoothed conformal p-value of each distance among the reference distances of its cell: (#{d_P < d} + u
    (#{d_P = d} + 1)) / (n + 1) with ``uniform`` draws u (NaN: no reference point in the cell). Exactly uniform
    for an exchangeable image; the smoothing also breaks the floor 1 / (n + 1), which differs between cells and
    would otherwise make the smallest p-values of copies in small cells look ordinary."""
    out = np.full(len(cells), np.nan)
    for cell in np.unique(cells):
        reference = np.sort(reference_dist[reference_cells == cell])
        if len(reference):
            inside = cells == cell
            below = np.searchsorted(reference, dist[inside], "left")
            ties = np.searchsorted(reference, dist[inside], "right") - below
            out[inside] = (below + uniform[inside] * (ties + 1)) / (1 + len(reference))
    return out


def scaled(reference_cells: np.ndarray, reference_dist: np.ndarray, cells: np.ndarray, dist: np.ndarray):
    """Each distance over the median reference distance of its cell (NaN: no reference point there): how close
    to T an image is, in the units of its cell, comparable across cells, layers and transforms."""
    out = np.full(len(cells), np.nan)
    for cell in np.unique(cells):
        reference = reference_dist[reference_cells == cell]
        if len(reference):
            out[cells == cell] = dist[cells == cell] / max(float(np.median(reference)), 1e-12)
    return out


def leave_one_out_scaled(cells: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Each reference point's distance over the median of the other points of its cell (NaN: alone in it)."""
    out = np.full(len(cells), np.nan)
    for cell in np.unique(cells):
        inside = np.flatnonzero(cells == cell)
        if len(inside) > 1:
            values = dist[inside]
            out[inside] = [v / max(float(np.median(np.delete(values, i))), 1e-12) for i, v in enumerate(values)]
    return out


def calibrated(statistic: np.ndarray, null: np.ndarray) -> np.ndarray:
    """The p-value of each statistic (a smallest scaled distance) among the same statistic of the P images
    (``null``), each computed with itself left out of its cell: (1 + #{null <= statistic}) / (1 + |P|)."""
    null = np.sort(null[np.isfinite(null)])
    return (1 + np.searchsorted(null, statistic, "right")) / (1 + len(null))


def smallest(values: np.ndarray) -> np.ndarray:
    """The smallest value of each row over its remaining axes (inf where all are undefined)."""
    flat = values.reshape(len(values), -1)
    return np.where(np.isfinite(flat), flat, np.inf).min(axis=1)


def image_table(
    found, sample_ids, train_ids, layer_names: list[str], transforms: list[str], level: float, evidence=None
):
    """One row per generated image: the image-level p-value and flag, where its smallest p-value lies (layer,
    transform, nearest training image, distance) and the layers that flag it (``found``: the search's
    ``memprint.copy_finder.Found``). With ``evidence`` (``memprint.copy_evidence.Evidence``) the flag is its
    calibrated statistic's and the training image named is the one its pixel verification matched."""
    rows, dist, closeness = found.rows, found.dist, found.scaled
    statistic = smallest(closeness)
    image_p = calibrated(statistic, found.null) if evidence is None else evidence.image_p()
    best = np.where(np.isfinite(closeness), closeness, np.inf).reshape(len(closeness), -1).argmin(1)
    layer, transform = np.unravel_index(best, closeness.shape[1:])
    index = np.arange(len(closeness))
    per_layer = np.stack(
        [calibrated(smallest(closeness[:, k]), found.layer_null[:, k]) for k in range(closeness.shape[1])], axis=1
    )
    flagged_layers = [", ".join(layer_names[k] for k in np.flatnonzero(row <= level)) for row in per_layer]
    nearest = rows[index, layer, transform] if evidence is None else evidence.q_match
    extra = (
        {} if evidence is None else {"evidence": evidence.q_statistic, "verified_correlation": evidence.q_correlation}
    )
    return pd.DataFrame(
        {
            "sample_id": np.asarray(sample_ids),
            "image_p": image_p,
            "copy": image_p <= level,
            "closeness": statistic,
            "p_value": found.p[index, layer, transform],
            "layer": layer,
            "layer_name": np.asarray(layer_names)[layer],
            "transform": np.asarray(transforms)[transform],
            "nearest_train_id": np.asarray(train_ids)[nearest],
            "distance": dist[index, layer, transform],
            "flagged_layers": flagged_layers,
            **extra,
        }
    )


def layer_table(found, sample_ids, train_ids, layer_names: list[str], transforms: list[str], level: float):
    """One row per generated image, layer and transform: nearest training image, distance, p-value; ``copy`` is
    the per-layer flag (smallest p over transforms, calibrated on P at that layer)."""
    p, rows, dist, frames = found.p, found.rows, found.dist, []
    for k, name in enumerate(layer_names):
        layer_p = calibrated(smallest(found.scaled[:, k]), found.layer_null[:, k])
        for t, transform in enumerate(transforms):
            frames.append(
                pd.DataFrame(
                    {
                        "sample_id": np.asarray(sample_ids),
                        "layer": k,
                        "layer_name": name,
                        "transform": transform,
                        "nearest_train_id": np.asarray(train_ids)[rows[:, k, t]],
                        "distance": dist[:, k, t],
                        "scaled_distance": found.scaled[:, k, t],
                        "p_value": p[:, k, t],
                        "layer_p": layer_p,
                        "copy": layer_p <= level,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


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


def rate_row(flags: pd.Series, **keys) -> dict:
    copies, total = int(flags.sum()), len(flags)
    low, high = wilson_interval(copies, total)
    rate = copies / total if total else np.nan
    return {**keys, "copies": copies, "samples": total, "copy_rate": rate, "ci_low": low, "ci_high": high}


def copy_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Per layer (and generator, when the table has one): the share of images flagged at that layer, with its
    95% Wilson interval (one flag per image and layer, over transforms)."""
    keys = [k for k in ("generator", "layer", "layer_name") if k in table.columns]
    per_image = table.drop_duplicates([*keys, "sample_id"])
    return pd.DataFrame(
        [rate_row(block["copy"], **dict(zip(keys, key))) for key, block in per_image.groupby(keys, sort=False)]
    )


def transform_rates(table: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per layer and transform: the share of images whose p-value there is at most ``level`` (which kind of
    copying a generator does: early layers copy colour and texture, late ones objects, a flip mirrored images)."""
    keys = [k for k in ("generator", "layer", "layer_name", "transform") if k in table.columns]
    return pd.DataFrame(
        [rate_row(block["p_value"] <= level, **dict(zip(keys, key))) for key, block in table.groupby(keys, sort=False)]
    )
