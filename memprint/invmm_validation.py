"""InvMM's validation on a model whose memorized images are known (T with duplicated images): the ROC AUC of a
low score with its interval, and, on the same model, what the copy finder and C_T see, side by side.

The AUC's interval is Newcombe's (2006, "Confidence intervals for an effect size measure based on the
Mann-Whitney statistic, part 2", method 5): the Hanley-McNeil variance taken at the unknown AUC and the score
equation solved for it, like Wilson's interval for a proportion. With ten images a side the usual intervals
(DeLong, bootstrap) collapse to a point when the AUC is 1; this one does not, and its coverage is checked by a
test on scores whose AUC is known.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from memprint import datasets


def auc_interval(auc: float, positives: int, negatives: int, level: float = 0.95) -> tuple[float, float]:
    """Newcombe's method-5 interval of an AUC from ``positives`` and ``negatives`` samples."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    half_n = (positives + negatives) / 2

    def excess(theta: float) -> float:  # (A - theta)^2 - z^2 Var(theta): <= 0 inside the interval
        variance = (
            theta
            * (1 - theta)
            / (positives * negatives)
            * (1 + (half_n - 1) * (1 - theta) / (2 - theta) + (half_n - 1) * theta / (1 + theta))
        )
        return (auc - theta) ** 2 - z * z * variance

    inner_low, inner_high = min(auc, 1 - 1e-12), max(auc, 1e-12)  # off the trivial root at an AUC of 0 or 1
    low = brentq(excess, 0.0, inner_low) if excess(0.0) > 0 else 0.0
    high = brentq(excess, inner_high, 1.0) if excess(1.0) > 0 else 1.0
    return float(low), float(high)


def invmm_summary(table: pd.DataFrame, auc: float | None) -> dict:
    """Duplicated against single images: how many of each, how many were reproduced, median score (inf: never
    reproduced), the AUC with its 95% interval."""
    duplicated = table["duplicated"].astype(bool)
    summary = {"auc": auc, "auc_low": None, "auc_high": None}
    if auc is not None:
        summary["auc_low"], summary["auc_high"] = auc_interval(auc, int(duplicated.sum()), int((~duplicated).sum()))
    for name, group in (("duplicated", table[duplicated]), ("single", table[~duplicated])):
        summary |= {
            f"{name}_images": len(group),
            f"{name}_reproduced": int(group["reproduced"].sum()),
            f"{name}_median_score": float(group["score"].median()) if len(group) else None,
            f"{name}_median_steps": float(group["steps"].median()) if len(group) else None,
        }
    return summary


def original_id(train_id: str) -> str:
    """The training image a duplicate copy repeats (``<id>#copy<k>`` -> ``<id>``)."""
    return str(train_id).split(datasets.DUPLICATE_MARK)[0]


def copies_of_duplicated(per_layer: pd.DataFrame, duplicated_ids: set[str]) -> pd.DataFrame:
    """Per layer of the copy finder's table (one row per sample, layer and matching): the samples flagged at the
    layer, how many of those matched a duplicated training image and how many distinct duplicated images they
    copy, and the share of all samples whose nearest training image (best matching) is a duplicated one."""
    best = per_layer.sort_values("p_value", kind="stable").drop_duplicates(["layer", "sample_id"])
    best = best.assign(original=best["nearest_train_id"].map(original_id))
    best = best.assign(matched_duplicated=best["original"].isin(duplicated_ids))
    rows = []
    for (layer, name), block in best.groupby(["layer", "layer_name"], sort=True):
        flagged = block[block["copy"].astype(bool)]
        hits = flagged[flagged["matched_duplicated"]]
        rows.append(
            {
                "layer": layer,
                "layer_name": name,
                "samples": len(block),
                "flagged": len(flagged),
                "flagged_matching_duplicated": len(hits),
                "duplicated_images_copied": hits["original"].nunique(),
                "nearest_is_duplicated": float(block["matched_duplicated"].mean()),
            }
        )
    return pd.DataFrame(rows)


def side_by_side_markdown(summary: dict, copies: pd.DataFrame, image_level: dict, curve: pd.DataFrame) -> str:
    """The three measures on one model, as the README and the published folder show them."""
    low, high = summary["auc_low"], summary["auc_high"]
    auc = "n/a" if summary["auc"] is None else f"**{summary['auc']:.3f}** [{low:.3f}, {high:.3f}]"
    deepest = curve.loc[curve["value"].idxmin()]
    lines = [
        "| measure | what it says on this model |",
        "|---|---|",
        f"| InvMM (per training image) | duplicated-image ROC AUC {auc} (95% interval, Newcombe); reproduced: "
        f"{summary['duplicated_reproduced']}/{summary['duplicated_images']} duplicated, "
        f"{summary['single_reproduced']}/{summary['single_images']} single; median score "
        f"{summary['duplicated_median_score']:.3g} vs {summary['single_median_score']:.3g} |",
        f"| copy finder (per sample) | {image_level['copies']}/{image_level['samples']} samples flagged "
        f"({image_level['copy_rate']:.1%} [{image_level['ci_low']:.1%}, {image_level['ci_high']:.1%}], level "
        f"{image_level['level']:g}); {image_level['flagged_matching_duplicated']} of them match a duplicated "
        f"image ({image_level['duplicated_images_copied']} distinct) |",
        f"| C_T (per sample set) | lowest at layer {int(deepest['layer'])} ({deepest['layer_name']}): "
        f"{deepest['value']:.2f} [{deepest['low']:.2f}, {deepest['high']:.2f}]; last layer "
        f"{curve['value'].iloc[-1]:.2f} [{curve['low'].iloc[-1]:.2f}, {curve['high'].iloc[-1]:.2f}] |",
        "",
        "| layer | flagged samples | ... matching a duplicated image | distinct duplicated images copied "
        "| nearest training image is duplicated | C_T [95% interval] |",
        "|---|---|---|---|---|---|",
    ]
    ct = curve.set_index("layer")
    for row in copies.itertuples():
        point = ct.loc[row.layer] if row.layer in ct.index else None  # the pixel view has no C_T
        value = "n/a" if point is None else f"{point['value']:.2f} [{point['low']:.2f}, {point['high']:.2f}]"
        lines.append(
            f"| {row.layer} ({row.layer_name}) | {row.flagged}/{row.samples} | {row.flagged_matching_duplicated} "
            f"| {row.duplicated_images_copied} | {row.nearest_is_duplicated:.1%} | {value} |"
        )
    return "\n".join(lines) + "\n"


def image_level_copies(images: pd.DataFrame, duplicated_ids: set[str], level: float) -> dict:
    """The copy finder's one flag per sample: the copy rate with its Wilson interval (``copies.rate_row``) and how
    many flagged samples match duplicated images."""
    from memprint.copies import rate_row

    flagged = images[images["copy"].astype(bool)]
    originals = flagged["nearest_train_id"].map(original_id)
    hits = originals[originals.isin(duplicated_ids)]
    return {
        **rate_row(images["copy"].astype(bool)),
        "level": level,
        "flagged_matching_duplicated": len(hits),
        "duplicated_images_copied": int(hits.nunique()),
    }


def scores_for_plot(table: pd.DataFrame) -> pd.DataFrame:
    """InvMM scores with never-reproduced images placed above every reproduced one (a row of their own)."""
    finite = np.isfinite(table["score"])
    ceiling = table.loc[finite, "score"].max() * 1.15 if finite.any() else 1.0
    return table.assign(
        shown=np.where(finite, table["score"], ceiling),
        group=np.where(table["duplicated"].astype(bool), "duplicated in T", "single in T"),
        reproduced=np.where(finite, "reproduced", "never reproduced"),
    )
