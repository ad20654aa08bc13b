"""Fingerprint matching: the three methods, layer 0 left out, splits seeded."""

import numpy as np
import pandas as pd
import pytest

from memprint.fingerprint import (
    accuracy_table,
    match_scores,
    match_targets,
    similarity_matrix,
    split_halves,
)


def test_match_scores_follow_their_definitions():
    db = np.array([[1.0, 0.0], [10.0, 0.5], [0.0, 1.0]])
    q = np.array([2.0, 0.1])
    assert np.argmax(match_scores(q, db, "l2")) == 0
    cos = match_scores(q, db, "cosine")
    assert cos[1] == pytest.approx(np.dot(q, db[1]) / np.linalg.norm(q) / np.linalg.norm(db[1]))
    l2 = np.linalg.norm(db - q, axis=1)
    np.testing.assert_allclose(match_scores(q, db, "combined"), 0.5 * cos + 0.5 / (1 + l2))


def test_split_halves_are_disjoint_and_seeded():
    halves = split_halves(11, 3, seed=4)
    for ref, target in halves:
        assert not set(ref) & set(target) and len(ref) + len(target) == 11
    assert all((a[0] == b[0]).all() for a, b in zip(halves, split_halves(11, 3, seed=4)))


def _curves(rng, shapes, splits=2, layer0_noise=0.0):
    rows = []
    for name, shape in shapes.items():
        for split in range(splits):
            for role in ("reference", "target"):
                values = np.r_[rng.normal(0, layer0_noise), shape + rng.normal(0, 0.05, len(shape))]
                rows += [{"generator": name, "family": name.split("_")[0], "split": split, "role": role,
                          "layer": layer, "ct": ct} for layer, ct in enumerate(values)]
    return pd.DataFrame(rows)


def test_distinct_curves_are_recognised_and_layer_0_is_ignored(rng):
    shapes = {"a_1": np.array([1.0, 2, 3]), "b_1": np.array([3.0, 2, 1]), "c_1": np.array([-2.0, -2, -2])}
    matches = match_targets(_curves(rng, shapes, layer0_noise=100.0))
    table = accuracy_table(matches).set_index("method")
    assert (table["generator_accuracy"] == 1.0).all() and (table["targets"] == 6).all()


def test_similarity_matrix_is_cosine_of_curves():
    curves = pd.DataFrame({"generator": ["a"] * 3 + ["b"] * 3, "layer": [0, 1, 2] * 2, "ct": [9, 1, 0, -9, 0, 1]})
    sim = similarity_matrix(curves)
    assert sim.loc["a", "b"] == pytest.approx(0.0) and sim.loc["a", "a"] == pytest.approx(1.0)
