"""The per-sample copy finder: copier, perfect generator, planted copies, and one search shared with C_T."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from memprint.copies import copies_frame, copy_rates, copy_scores, wilson_interval
from memprint.ct import CTSettings, LayerReference


def _mixture(rng, n):
    centres = np.array([[0, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0], [0, 5, 0, 0, 0, 0]], float)
    return (centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 6))).astype(np.float32)


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    train, test = _mixture(rng, 3000), _mixture(rng, 3000)
    return rng, train, LayerReference.fit(train, test, CTSettings(cells=3))


def _rate(ref, q, threshold):
    table = copies_frame(
        ref,
        ref.generated_neighbours(q),
        np.arange(3000).astype(str),
        np.arange(len(q)).astype(str),
        1,
        "blocks.00",
        threshold,
    )
    return table, copy_rates(table).iloc[0]


def test_a_copier_is_flagged_almost_always_and_points_at_its_source(world):
    rng, train, ref = world
    source = rng.choice(len(train), 500, replace=False)
    table, rate = _rate(ref, train[source] + rng.normal(0, 1e-3, (500, 6)).astype(np.float32), 0.01)
    assert rate["copy_rate"] > 0.98
    assert (table["nearest_train_id"].astype(int).to_numpy() == source).mean() > 0.98


def test_a_perfect_generator_is_flagged_at_the_nominal_rate(world):
    rng, _, ref = world
    _, rate = _rate(ref, _mixture(rng, 4000), 0.05)
    assert 0.035 < rate["copy_rate"] < 0.075  # nominal 0.05, up to the test set's own percentile error


def test_planted_copies_are_found_while_ct_stays_near_zero(world):
    rng, train, ref = world
    fresh, planted = _mixture(rng, 950), train[rng.choice(len(train), 50, replace=False)]
    mix = np.concatenate([fresh, planted])
    is_copy = np.r_[np.zeros(950, bool), np.ones(50, bool)]
    table, rate = _rate(ref, mix, 0.01)
    assert 0.04 < rate["copy_rate"] < 0.09
    assert roc_auc_score(is_copy, -table["score"].to_numpy()) >= 0.95
    assert abs(ref.score(mix).ct) < 2.0  # C_T misses the local copying


def test_scores_are_mid_rank_percentiles_of_the_test_distances(world):
    _, _, ref = world
    cells, dist = ref.test_cells, ref.test_dist
    scores = copy_scores(ref, cells, dist)  # the test set against itself: uniform mid-ranks
    assert 0.45 < scores.mean() < 0.55 and scores.min() > 0 and scores.max() < 1


def test_wilson_interval_at_the_edges():
    low, high = wilson_interval(0, 100)
    assert low == 0.0 and 0.02 < high < 0.05
    low, high = wilson_interval(100, 100)
    assert high == 1.0 and 0.95 < low < 0.98


def test_the_stage_writes_copies_from_c_ts_own_search(tmp_path, monkeypatch):
    """score_curve's copies come from the search C_T did: no second search over T per layer."""
    import memprint.ct as ct
    from memprint.embedding_files import EmbeddingWriter
    from memprint.io import read_csv
    from memprint.stages.scores import fit_references, score_curve

    rng = np.random.default_rng(1)
    paths = {}
    for name, n in (("train", 300), ("test", 200), ("gen", 120)):
        layers = [_mixture(rng, n) for _ in range(2)]
        paths[name] = str(tmp_path / f"{name}.h5")
        writer = EmbeddingWriter(
            paths[name],
            ["patch_embed", "blocks.00"],
            [6, 6],
            n,
            np.array([f"{name}{i}" for i in range(n)], object),
            "k",
            {},
        )
        writer.write(0, layers)
        writer.finish()
        writer.close()
    reference = str(tmp_path / "ref.h5")
    scores = {"ct": {"kind": "ct", **CTSettings(cells=2).__dict__}}
    fit_references(train=paths["train"], test=paths["test"], scores=scores, references={"ct": reference}, device="cpu")
    calls = []
    search = ct.nearest_distances
    monkeypatch.setattr(ct, "nearest_distances", lambda *a, **k: calls.append(1) or search(*a, **k))
    outs = [str(tmp_path / n) for n in ("curve.csv", "reps.h5", "copies.csv")]
    common = {
        "references": {"ct": reference},
        "train": paths["train"],
        "test": paths["test"],
        "generated": paths["gen"],
        "curves": {"ct": outs[0]},
        "replicates": {"ct": outs[1]},
        "generator": "gen",
        "scores": scores,
        "intervals": {"replicates": 20, "seed": 0},
        "device": "cpu",
    }
    score_curve(**common, copies=outs[2], copy_threshold=0.01)
    cells_searched = len(calls)
    score_curve(**common)
    assert cells_searched == len(calls) - cells_searched  # the same searches with and without the copy finder
    copies = read_csv(outs[2])
    assert len(copies) == 2 * 120 and copies["nearest_train_id"].str.startswith("train").all()


def test_planted_mixes_are_scored_per_layer(world):
    from memprint.copies_validation import evaluate_mix

    rng, train, ref = world
    fresh, sources = [_mixture(rng, 380)], np.sort(rng.choice(len(train), 20, replace=False))
    rows = evaluate_mix([ref], ["blocks.00"], fresh, [train[sources]], sources, 0.01, 50, 0, "exact copies")
    row = rows[0]
    assert row["auc"] >= 0.95 and row["source_found"] == 1.0 and row["planted"] == 20 and row["samples"] == 400
    assert row["ct_low"] <= row["ct"] <= row["ct_high"] and 0.04 <= row["copy_rate"] <= 0.08
    control = evaluate_mix([ref], ["blocks.00"], fresh, [], sources[:0], 0.01, 50, 0, "none")[0]
    assert np.isnan(control["auc"]) and control["copy_rate"] < 0.04


def test_recolour_turns_hue_and_keeps_brightness(rng):
    from memprint.augment import recolour

    images = rng.integers(30, 220, (4, 8, 8, 3), dtype=np.uint8)
    turned = recolour(images, 120)
    assert not np.array_equal(turned, images)
    assert np.abs(turned.astype(float).mean(-1) - images.astype(float).mean(-1)).max() <= 1.0
    np.testing.assert_array_equal(recolour(images, 360), images)
    grey = images[..., :1]
    np.testing.assert_array_equal(recolour(grey, 90), grey)
    # 120 degrees maps the channels onto each other: red becomes green
    red = np.zeros((1, 1, 1, 3), np.uint8)
    red[..., 0] = 200
    assert recolour(red, 120)[0, 0, 0].tolist() == [0, 200, 0]
