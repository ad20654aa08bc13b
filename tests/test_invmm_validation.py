"""InvMM's validation: the AUC interval's coverage on scores whose AUC is known, and the side-by-side table of
InvMM, the copy finder and C_T on files shaped as the pipeline writes them."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from memprint import datasets
from memprint.invmm_validation import auc_interval, copies_of_duplicated, scores_for_plot
from memprint.io import ImageSet, write_csv, write_imageset
from memprint.stages.invmm_validation import figure_invmm_scores, invmm_side_by_side


@pytest.mark.parametrize("shift", [0.5, 1.5, 3.0])
def test_auc_interval_covers_the_true_auc_95_percent_of_the_time(shift):
    """Ten scores a side, as in the validation: normal scores shifted by ``shift`` have AUC Phi(shift / sqrt 2)."""
    rng = np.random.default_rng(0)
    truth, covered, runs = norm.cdf(shift / np.sqrt(2)), 0, 1000
    for _ in range(runs):
        positives, negatives = rng.normal(shift, 1, 10), rng.normal(0, 1, 10)
        auc = roc_auc_score(np.r_[np.ones(10), np.zeros(10)], np.r_[positives, negatives])
        low, high = auc_interval(auc, 10, 10)
        covered += low <= truth <= high
    assert 0.92 <= covered / runs <= 0.99, covered / runs


def test_auc_interval_of_a_perfect_separation_is_not_a_point():
    low, high = auc_interval(1.0, 10, 10)
    assert high == 1.0 and 0.75 < low < 0.95
    assert auc_interval(0.5, 10, 10)[0] < 0.5 < auc_interval(0.5, 10, 10)[1]
    assert auc_interval(1.0, 100, 100)[0] > low  # more images, a tighter interval


def _copies_table(rng, duplicated_ids):
    """Copy-finder rows for 20 samples x 2 layers x 2 matchings: samples 0-4 copy duplicated image 0 at layer 1."""
    rows = []
    for sample in range(20):
        for layer in (0, 1):
            for transform in ("identity", "hflip"):
                copies = sample < 5 and layer == 1
                match = f"{duplicated_ids[0]}{datasets.DUPLICATE_MARK}3" if copies else f"img/{sample + 50}"
                rows.append(
                    {
                        "sample_id": f"g/{sample}",
                        "layer": layer,
                        "layer_name": f"blocks.{layer:02d}",
                        "transform": transform,
                        "nearest_train_id": match if transform == "identity" else f"img/{sample + 70}",
                        "p_value": 0.001 if copies and transform == "identity" else rng.uniform(0.2, 1),
                        "copy": copies,
                    }
                )
    return pd.DataFrame(rows)


def test_copies_of_duplicated_counts_flags_matching_duplicated_images_per_layer(rng):
    table = copies_of_duplicated(_copies_table(rng, ["img/0", "img/1"]), {"img/0", "img/1"})
    assert table["flagged"].tolist() == [0, 5] and table["flagged_matching_duplicated"].tolist() == [0, 5]
    assert table["duplicated_images_copied"].tolist() == [0, 1]
    assert table["nearest_is_duplicated"].tolist() == [0.0, 0.25]


def test_side_by_side_and_score_figure_from_pipeline_shaped_files(tmp_path, rng):
    duplicated = ["img/0", "img/1"]
    base = ImageSet(
        rng.integers(0, 255, (10, 4, 4, 3), dtype=np.uint8),
        np.arange(10) % 2,
        np.array([f"img/{i}" for i in range(10)], dtype=object),
        {},
    )
    train = datasets.with_duplicates(base, 2, 3, 0)
    train.attrs["duplicated_ids"] = duplicated
    write_imageset(tmp_path / "train.h5", train)
    invmm = pd.DataFrame(
        {
            "image": range(4),
            "image_id": ["img/0", "img/1", "img/5", "img/6"],
            "duplicated": [True, True, False, False],
            "score": [0.01, 0.02, 0.5, np.inf],
            "steps": [25, 50, 300, 600],
            "reproduced": [True, True, True, False],
        }
    )
    meta = {"generator": "ddpm", "duplicated_auc": 1.0, "seconds_per_image": 12.0, "device": "cpu"}
    write_csv(invmm, tmp_path / "invmm.csv", meta)
    layers = _copies_table(rng, duplicated)
    write_csv(layers, tmp_path / "copies.csv", {"level": 0.01, "weights_source": "stand-in"})
    images = layers[layers["layer"] == 1].sort_values("p_value").drop_duplicates("sample_id")
    write_csv(images, tmp_path / "copies.images.csv", {"level": 0.01})
    curve = pd.DataFrame(
        {
            "layer": [0, 1],
            "layer_name": ["blocks.00", "blocks.01"],
            "value": [0.3, -4.0],
            "low": [-0.2, -5.0],
            "high": [0.8, -3.1],
        }
    )
    write_csv(curve, tmp_path / "curve.csv", {})
    md, csv = tmp_path / "side.md", tmp_path / "side.csv"
    files = {"table": "invmm.csv", "copies": "copies.csv", "images": "copies.images.csv", "curve": "curve.csv"}
    invmm_side_by_side(
        **{key: str(tmp_path / name) for key, name in files.items()}, train=str(tmp_path / "train.h5"), md=md, csv=csv
    )
    text = md.read_text()
    assert "**1.000** [0." in text and "2/2 duplicated, 1/2 single" in text
    assert "5/20 samples flagged" in text and "5 of them match a duplicated image (1 distinct)" in text
    assert "lowest at layer 1 (blocks.01): -4.00 [-5.00, -3.10]" in text
    assert json.loads(csv.read_text().splitlines()[0].removeprefix("# provenance: "))["invmm"]["auc_low"] < 1
    figure_invmm_scores(table=str(tmp_path / "invmm.csv"), png=str(tmp_path / "s.png"), pdf=str(tmp_path / "s.pdf"))
    assert (tmp_path / "s.png").stat().st_size > 0
    shown = scores_for_plot(invmm)
    assert shown.loc[3, "shown"] > shown.loc[2, "shown"] and shown.loc[3, "reproduced"] == "never reproduced"
