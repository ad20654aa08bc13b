"""The layer-score registry: each score kind against the anchor's published code re-typed here (dgm-eval's
``compute_authpct`` and ``compute_CTscore_mem``), their intervals, and a score kind added from outside memprint
run through Snakemake."""

import math

import numpy as np
import pytest
import torch
import yaml
from scipy.stats import mannwhitneyu
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from memprint import MemprintError
from memprint.scores import Resampling, score
from tests.conftest import TINY_CONFIG, snakemake

CPU = torch.device("cpu")


def dgm_eval_authpct(train_feat, gen_feat):
    """dgm_eval/metrics/authpct.py (layer6ai-labs/dgm-eval 74c79f7), re-typed; the last division in float64 (theirs
    divides in float32, which rounds the percentage at the 7th digit)."""
    train_feat = torch.tensor(train_feat, dtype=torch.float32)
    gen_feat = torch.tensor(gen_feat, dtype=torch.float32)
    real_dists = torch.cdist(train_feat, train_feat)
    real_dists.fill_diagonal_(float("inf"))
    gen_dists = torch.cdist(train_feat, gen_feat)
    real_min_dists = real_dists.min(axis=0)
    gen_min_dists = gen_dists.min(dim=0)
    authen = real_min_dists.values[gen_min_dists.indices] < gen_min_dists.values
    return 100 * torch.sum(authen).item() / len(authen)


def dgm_eval_ct_mem(train_feat, test_feat, gen_feat, seed):
    """dgm_eval/metrics/ct.py ``compute_CTscore_mem`` (compute_CTscore with train and gen swapped), re-typed; its
    unseeded KMeans seeded here so the cells are the ones memprint fits."""
    train_feat, test_feat, gen_feat = gen_feat, test_feat, train_feat  # the swap
    if train_feat.shape[1] > 64:
        pca = PCA(n_components=64).fit(train_feat)
        train_feat, test_feat, gen_feat = (pca.transform(x) for x in (train_feat, test_feat, gen_feat))
    km = KMeans(n_clusters=3, n_init=10, random_state=seed).fit(train_feat)
    t_lab, p_lab, q_lab = km.predict(train_feat), km.predict(test_feat), km.predict(gen_feat)
    m, n, tau = len(gen_feat), len(test_feat), 20 / len(gen_feat)
    q_share = np.bincount(q_lab, minlength=3) / m
    p_share = np.bincount(p_lab, minlength=3) / n
    z = np.zeros(3)
    for i in range(3):
        pn, qm, t = test_feat[p_lab == i], gen_feat[q_lab == i], train_feat[t_lab == i]
        if len(qm):
            nn = NearestNeighbors(n_neighbors=1).fit(t)
            lq, lp = nn.kneighbors(qm, n_neighbors=1)[0], nn.kneighbors(pn, n_neighbors=1)[0]
            u, _ = mannwhitneyu(lq, lp, alternative="less")
            z[i] = (u[0] - (len(pn) * len(qm) / 2 - 0.5)) / math.sqrt(len(pn) * len(qm) * (len(pn) + len(qm) + 1) / 12)
    kept = q_share > tau
    return p_share[kept].dot(z[kept]) / p_share[kept].sum()


def _run(kind_spec, train, test, generated, resampling=None):
    kind = score("s", kind_spec)
    state, warning = kind.fit(train, test, CPU, "layer")
    return kind.score({**state, "warning": warning}, train, test, generated, CPU, "layer", resampling)


@pytest.fixture
def sets(rng):
    centers = rng.normal(0, 5, size=(3, 8))

    def draw(n, spread=1.0):
        return (centers[rng.integers(0, 3, n)] + rng.normal(0, spread, (n, 8))).astype(np.float32)

    train = draw(400)
    return {"train": train, "test": draw(200), "fresh": draw(300), "copies": train[:300] + 0.01, "wide": draw(300, 1.8)}


@pytest.mark.parametrize("generated", ["fresh", "copies", "wide"])
def test_authpct_matches_dgm_eval(sets, generated):
    ours = _run({"kind": "authpct"}, sets["train"], sets["test"], sets[generated]).value
    assert ours == pytest.approx(dgm_eval_authpct(sets["train"], sets[generated]), abs=1e-9)


@pytest.mark.parametrize("generated", ["fresh", "copies", "wide"])
def test_ct_modified_matches_dgm_eval(sets, generated):
    ours = _run({"kind": "ct_modified"}, sets["train"], sets["test"], sets[generated]).value
    assert ours == pytest.approx(dgm_eval_ct_mem(sets["train"], sets["test"], sets[generated], seed=0), abs=1e-9)


def test_ct_modified_projects_wide_embeddings_as_dgm_eval_does(rng):
    train, test, generated = (rng.normal(size=(n, 80)).astype(np.float32) for n in (400, 200, 300))
    generated[:100] = train[:100]
    ours = _run({"kind": "ct_modified"}, train, test, generated).value
    assert ours == pytest.approx(dgm_eval_ct_mem(train, test, generated, seed=0), abs=1e-6)


def test_scores_see_copying_in_their_direction_with_intervals(sets):
    resampling = Resampling(300, 0, "q")
    for kind in ("ct", "ct_modified", "authpct"):
        copies = _run({"kind": kind}, sets["train"], sets["test"], sets["copies"], resampling)
        fresh = _run({"kind": kind}, sets["train"], sets["test"], sets["fresh"], resampling)
        assert copies.value < fresh.value, kind
        low, high = np.nanpercentile(fresh.replicates, [2.5, 97.5])
        assert low <= fresh.value <= high and high - low > 0, kind
    assert _run({"kind": "authpct"}, sets["train"], sets["test"], sets["copies"]).value == 0.0


def test_an_unknown_score_kind_is_named():
    with pytest.raises(MemprintError, match="kind 'nope' is unknown"):
        score("s", {"kind": "nope"})


PLUGIN = '''
import numpy as np
from memprint.scores import LayerScore, LayerValue


class MeanNearest(LayerScore):
    """Mean distance of Q to its nearest training point (a toy score defined outside memprint)."""

    kind = "mean_nearest"
    meaning = "mean nearest-training distance"
    schema = {"properties": {"power": {"type": "number", "default": 1.0}}}

    def score(self, state, train, test, generated, device, layer, resampling=None):
        from memprint.search import nearest_distances

        d = nearest_distances(generated, train) ** self.spec["power"]
        reps = None if resampling is None else resampling.counts(len(d), "generated") @ d / len(d)
        return LayerValue(float(d.mean()), reps, {"n_generated": len(d)})
'''


@pytest.mark.pipeline
def test_a_score_kind_from_outside_memprint_runs_through_snakemake(tmp_path):
    (tmp_path / "my_scores.py").write_text(PLUGIN)
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config.pop("ct"), config.pop("ct_variants")
    config["plugins"] = ["my_scores"]
    config["scores"] = {"ct": {"kind": "ct", "cells": 3}, "near": {"kind": "mean_nearest", "power": 2.0}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    target = "results/scores/near/vit_tiny/copier.csv"
    result = snakemake(tmp_path, path, target, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    from memprint.io import read_csv

    curve = read_csv(tmp_path / target)
    assert (curve["value"] < 1e-6).all() and (curve["low"] <= curve["high"]).all()  # a copier sits on T
    bad = {**config, "scores": {**config["scores"], "near": {"kind": "mean_nearest", "power": "x"}}}
    path.write_text(yaml.safe_dump(bad))
    refused = snakemake(tmp_path, path, "-n", env=env)
    assert "config error at scores.near.power: 'x' is not of type 'number'" in refused.stdout + refused.stderr


def _scored(kind: str, n: int, seed: int) -> float:
    """One layer scored by ``kind`` with |P| = |Q| = n: T fixed, Q a little nearer T than P (a mild copier)."""
    rng = np.random.default_rng(seed)
    train = rng.normal(size=(4000, 8)).astype(np.float32)
    test = rng.normal(size=(n, 8)).astype(np.float32)
    near = train[rng.integers(0, len(train), n)] + rng.normal(0, 0.2, (n, 8)).astype(np.float32)
    generated = np.where(rng.random((n, 1)) < 0.3, near, rng.normal(size=(n, 8))).astype(np.float32)
    kind_score = score("s", {"kind": kind, "cells": 3})
    state, warning = kind_score.fit(train, test, torch.device("cpu"), "l")
    return kind_score.score({**state, "warning": warning}, train, test, generated, torch.device("cpu"), "l").value


def test_the_effect_size_stays_put_where_ct_grows_like_the_square_root_of_n():
    small = [(_scored("ct", 400, s), _scored("ct_effect", 400, s)) for s in range(3)]
    large = [(_scored("ct", 3600, s), _scored("ct_effect", 3600, s)) for s in range(3)]
    (ct_small, effect_small), (ct_large, effect_large) = np.mean(small, axis=0), np.mean(large, axis=0)
    assert ct_small < -2 and effect_small < -0.05  # both see the copying
    assert ct_large / ct_small == pytest.approx(3.0, rel=0.25)  # sqrt(3600 / 400)
    assert effect_large / effect_small == pytest.approx(1.0, rel=0.15)
    assert -1 <= effect_large <= 1
