"""C_T against Meehan et al.'s published algorithm, its statistics, its qualitative behaviour and its errors."""

import math
import warnings

import numpy as np
import pytest
from scipy.stats import mannwhitneyu
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

from memprint import MemprintError
from memprint.cells import mann_whitney_z
from memprint.ct import CTSettings, LayerReference, ct_score
from memprint.search import nearest_distances


def meehan_reference_ct(train, test, generated, cells, seed, tau=None):
    """data_copying_tests.py (Zu, Zu_cells, C_T) re-typed from the paper's code, with sklearn and scipy."""
    kmeans = KMeans(n_clusters=cells, n_init=10, random_state=seed).fit(train)
    t_cells, p_cells, q_cells = kmeans.predict(train), kmeans.predict(test), kmeans.predict(generated)
    m, n = len(test), len(generated)
    tau = 20 / n if tau is None else tau
    num, den = 0.0, 0.0
    for label in range(cells):
        p_i, q_i, t_i = test[p_cells == label], generated[q_cells == label], train[t_cells == label]
        if len(q_i) / n <= tau or len(p_i) == 0:
            continue
        nn = NearestNeighbors(n_neighbors=1).fit(t_i)
        lq, lp = nn.kneighbors(q_i)[0][:, 0], nn.kneighbors(p_i)[0][:, 0]
        u = mannwhitneyu(lq, lp).statistic
        mi, ni = len(p_i), len(q_i)
        z = (u - (mi * ni / 2 - 0.5)) / math.sqrt(mi * ni * (mi + ni + 1) / 12)
        num += len(p_i) / m * z
        den += len(p_i) / m
    return num / den


def blobs(rng, n, centers, spread):
    labels = rng.integers(0, len(centers), size=n)
    return (centers[labels] + rng.normal(0, spread, size=(n, centers.shape[1]))).astype(np.float32)


@pytest.fixture
def data(rng):
    centers = rng.normal(0, 6, size=(4, 8))
    return {
        "centers": centers,
        "train": blobs(rng, 800, centers, 1.0),
        "test": blobs(rng, 400, centers, 1.0),
        "same": blobs(rng, 400, centers, 1.0),
        "wide": blobs(rng, 400, centers, 1.6),
    }


def test_z_u_matches_scipy_statistic_through_the_formula(rng):
    d_test = rng.integers(0, 6, size=37).astype(float)  # many ties
    d_gen = rng.integers(0, 6, size=53).astype(float)
    u = mannwhitneyu(d_gen, d_test).statistic
    m, n = len(d_test), len(d_gen)
    expected = (u - (m * n / 2 - 0.5)) / math.sqrt(m * n * (m + n + 1) / 12)
    assert mann_whitney_z(d_test, d_gen) == pytest.approx(expected, rel=1e-12)


def test_matches_meehan_published_algorithm(data):
    settings = CTSettings(cells=4, seed=3)
    for q in (data["same"], data["wide"], data["train"][:300] + 0.01):
        ours = ct_score(data["train"], data["test"], q, settings).ct
        assert ours == pytest.approx(meehan_reference_ct(data["train"], data["test"], q, 4, 3), rel=1e-6, abs=1e-6)


def test_copier_negative_same_distribution_near_zero_wider_positive(data, rng):
    copies = data["train"][rng.integers(0, 800, 400)] + rng.normal(0, 0.01, (400, 8)).astype(np.float32)
    settings = CTSettings(cells=4)
    assert ct_score(data["train"], data["test"], copies, settings).ct < -5
    assert abs(ct_score(data["train"], data["test"], data["same"], settings).ct) < 2
    assert ct_score(data["train"], data["test"], data["wide"], settings).ct > 3


def test_invariant_to_sample_order(data, rng):
    settings = CTSettings(cells=4)
    base = ct_score(data["train"], data["test"], data["wide"], settings)
    shuffled = ct_score(
        data["train"][rng.permutation(800)],
        data["test"][rng.permutation(400)],
        data["wide"][rng.permutation(400)],
        settings,
    )
    assert shuffled.ct == pytest.approx(base.ct, abs=1e-9)
    assert sorted(shuffled.generated_per_cell) == sorted(base.generated_per_cell)


def test_nearest_distances_exact_and_block_size_independent(rng):
    queries = rng.normal(size=(300, 16)).astype(np.float32)
    refs = rng.normal(size=(500, 16)).astype(np.float32)
    queries[:10] = refs[:10] + 1e-4  # near-copies: the matrix-product form alone would lose these to cancellation
    brute = np.sqrt(((queries[:, None, :].astype(np.float64) - refs[None]) ** 2).sum(-1)).min(1)
    small_blocks = nearest_distances(queries, refs, max_block_elements=777)
    np.testing.assert_allclose(small_blocks, brute, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(small_blocks, nearest_distances(queries, refs))
    qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    rn = refs / np.linalg.norm(refs, axis=1, keepdims=True)
    np.testing.assert_allclose(nearest_distances(queries, refs, "abs_cosine"), 1 - np.abs(qn @ rn.T).max(1), atol=1e-6)


def test_tau_keeps_only_cells_with_more_than_tau_share(data):
    settings = CTSettings(cells=4, min_generated_per_cell=20)
    result = ct_score(data["train"], data["test"], data["same"][:60], settings)
    kept = [g for g, z in zip(result.generated_per_cell, result.z_per_cell) if z is not None]
    dropped = [g for g, z in zip(result.generated_per_cell, result.z_per_cell) if z is None]
    assert all(g > 20 for g in kept) and all(g <= 20 for g in dropped)
    assert result.tau == pytest.approx(20 / 60)


def test_options_of_the_bai_et_al_code_run_and_change_the_score(data):
    base = ct_score(data["train"], data["test"], data["wide"], CTSettings(cells=4)).ct
    alt = ct_score(data["train"], data["test"], data["wide"], CTSettings(cells=4, pca_dim=3, distance="abs_cosine")).ct
    assert np.isfinite(alt) and alt != base


def test_too_few_generated_samples_is_a_clear_error(data):
    with pytest.raises(MemprintError, match="generate more samples"):
        ct_score(data["train"], data["test"], data["same"][:15], CTSettings(cells=4))


def test_cell_with_test_points_but_no_training_points_is_an_error(data):
    ref = LayerReference.fit(data["train"], data["test"], CTSettings(cells=4))
    far_center = np.full((1, 8), 100.0, np.float32)
    state = {**ref.state(), "centers": np.concatenate([ref.centers, far_center])}
    broken = LayerReference.from_state(state, data["train"], ref.settings)
    with pytest.raises(MemprintError, match="no training point"):
        broken.score(np.full((30, 8), 99.0, np.float32))


def test_constant_layer_gives_undefined_score_with_warning(data):
    constant = np.ones_like(data["train"])
    with pytest.warns(UserWarning, match="undefined"):
        result = ct_score(constant, data["test"], data["same"], CTSettings(cells=4))
    assert math.isnan(result.ct) and result.warning


@pytest.mark.parametrize(
    "bad, match", [(np.zeros((10,)), "2-D"), (np.full((10, 8), np.nan), "NaN"), (np.zeros((10, 3)), "dimensions")]
)
def test_bad_shapes_and_values_are_named(data, bad, match):
    with pytest.raises(MemprintError, match=match):
        ct_score(data["train"], data["test"], bad.astype(np.float32), CTSettings(cells=4))


def test_unknown_distance_is_rejected():
    with pytest.raises(MemprintError, match="distance"):
        CTSettings(distance="manhattan")


def test_state_round_trip_gives_identical_scores(data):
    ref = LayerReference.fit(data["train"], data["test"], CTSettings(cells=4, pca_dim=5))
    again = LayerReference.from_state(ref.state(), data["train"], ref.settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert again.score(data["wide"]).ct == ref.score(data["wide"]).ct


def test_average_ranks_are_scipys_rankdata(rng):
    from scipy.stats import rankdata

    from memprint.cells import average_ranks

    for size in (1, 2, 17, 500):
        ties = rng.integers(0, max(2, size // 3), size).astype(float)
        assert np.array_equal(average_ranks(ties), rankdata(ties))
        distinct = rng.normal(size=size)
        assert np.array_equal(average_ranks(distinct), rankdata(distinct))


def test_kmeans_fit_on_a_seeded_sample_of_a_large_t_keeps_the_score(data):
    """Above ``kmeans_sample`` training points the cells come from a seeded sample (every point is then placed in
    its nearest centre's cell); at or below it nothing changes."""
    args = (data["train"], data["test"], data["same"][:300])
    full = ct_score(*args, CTSettings(cells=4, kmeans_sample=None))
    assert ct_score(*args, CTSettings(cells=4, kmeans_sample=len(data["train"]))).ct == full.ct
    sampled = ct_score(*args, CTSettings(cells=4, kmeans_sample=200))
    assert sum(sampled.train_per_cell) == len(data["train"]) and abs(sampled.ct - full.ct) < 0.5
