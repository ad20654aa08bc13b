"""Bootstrap intervals of C_T: exact at unit counts, calibrated when Q and P share a distribution, narrowing."""

import numpy as np
import pytest

from memprint.ct import CTSettings, LayerReference
from memprint.ct_interval import bootstrap_ct, percentile_interval, resample_counts


def _mixture(rng, n, shift=0.0):
    centres = np.array([[0, 0, 0, 0], [4, 0, 0, 0], [0, 4, 0, 0]], float)
    return (centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 4)) + shift).astype(np.float32)


def _interval(seed, n_test, n_gen, replicates=300, shift=0.0):
    rng = np.random.default_rng(seed)
    ref = LayerReference.fit(_mixture(rng, 600), _mixture(rng, n_test), CTSettings(cells=3, kmeans_restarts=2))
    cells, dist, _ = ref.generated_neighbours(_mixture(rng, n_gen, shift))
    curve = bootstrap_ct(
        ref,
        cells,
        dist,
        resample_counts(n_test, replicates, seed, "test"),
        resample_counts(n_gen, replicates, seed, "q"),
    )
    return ref.score_distances(cells, dist).ct, percentile_interval(curve)


def test_unit_counts_reproduce_the_exact_score(rng):
    ref = LayerReference.fit(_mixture(rng, 400), _mixture(rng, 200), CTSettings(cells=3))
    cells, dist, _ = ref.generated_neighbours(_mixture(rng, 150, shift=0.3))
    exact = ref.score_distances(cells, dist).ct
    once = bootstrap_ct(ref, cells, dist, np.ones((1, 200)), np.ones((1, 150)))
    assert once[0] == pytest.approx(exact, abs=1e-9)


def test_interval_covers_zero_when_q_and_p_share_a_distribution():
    covered = [low <= 0.0 <= high for low, high in (_interval(seed, 300, 300)[1] for seed in range(100))]
    assert np.mean(covered) >= 0.90


def test_interval_narrows_relative_to_the_score_as_samples_grow_and_excludes_zero_for_copies():
    """C_T is a z-score: it grows like sqrt(n) for a fixed difference while its spread stays about one, so the
    interval's width relative to the score (the effect size's interval) shrinks like 1 / sqrt(n)."""

    def relative_width(n):
        pairs = [_interval(s, n, n, shift=0.4) for s in range(5)]
        return np.mean([(high - low) / abs(ct) for ct, (low, high) in pairs])

    assert relative_width(800) < 0.6 * relative_width(100)
    rng = np.random.default_rng(0)
    train = _mixture(rng, 600)
    ref = LayerReference.fit(train, _mixture(rng, 300), CTSettings(cells=3))
    copies = train[:300] + 0.01
    cells, dist, _ = ref.generated_neighbours(copies)
    _, high = percentile_interval(
        bootstrap_ct(ref, cells, dist, resample_counts(300, 200, 0, "test"), resample_counts(300, 200, 0, "q"))
    )
    assert high < -2.0


def test_streams_are_seeded_and_distinct():
    a, b = resample_counts(50, 4, 0, "test"), resample_counts(50, 4, 0, "test")
    np.testing.assert_array_equal(a, b)
    assert (a.sum(1) == 50).all() and not np.array_equal(a, resample_counts(50, 4, 0, "kde_0.1"))
