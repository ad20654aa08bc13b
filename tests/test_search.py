"""The nearest-neighbour search: FAISS and torch find the same neighbours and distances, so C_T and the copy
finder give identical results under either backend, on real digits and CIFAR-10 pixels; T searched in 4 shards
gives exactly the single-index answer."""

import itertools

import numpy as np
import pytest

from memprint import runtime, search
from memprint.copies import calibrated, smallest
from memprint.copy_finder import find
from memprint.ct import CTSettings, LayerReference
from tests.conftest import ASSETS

pytest.importorskip("faiss")


@pytest.fixture
def backend():
    """Run a block under one backend, then restore the process default."""

    def use(name):
        runtime.set_search(name)

    yield use
    runtime.set_search("auto")


def _digits():
    from sklearn.datasets import load_digits

    x = load_digits().data.astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    return x[order[:1000]], x[order[1000:1400]], x[order[1400:]]


def _cifar():
    path = ASSETS / "cifar10" / "cifar10_train10k_uint8.npz"
    if not path.exists():
        pytest.skip("CIFAR-10 asset not here")
    with np.load(path) as data:
        images = data[next(k for k in data.files if data[k].ndim == 4)]
    rows = np.random.default_rng(0).choice(len(images), 1600, replace=False)  # seeded, over every class
    x = images[rows].reshape(1600, -1).astype(np.float32) / 255.0
    return x[:1000], x[1000:1300], x[1300:]


@pytest.mark.parametrize("distance", ["euclidean", "abs_cosine"])
def test_faiss_and_torch_find_the_same_neighbours(backend, rng, distance):
    queries = rng.normal(size=(400, 24)).astype(np.float32)
    refs = rng.normal(size=(3000, 24)).astype(np.float32)
    queries[:20] = refs[:20] + 1e-5  # near-copies
    answers = {}
    for name in ("faiss", "torch"):
        backend(name)
        answers[name] = search.nearest_distances(queries, refs, distance, return_index=True)
    np.testing.assert_array_equal(answers["faiss"][1], answers["torch"][1])
    np.testing.assert_array_equal(answers["faiss"][0], answers["torch"][0])
    assert (answers["faiss"][1][:20] == np.arange(20)).all()


def test_a_query_excluded_from_matching_itself_gets_its_second_nearest(backend, rng):
    refs = rng.normal(size=(500, 8)).astype(np.float32)
    for name in ("faiss", "torch"):
        backend(name)
        dist, rows = search.nearest_distances(refs, refs, return_index=True, exclude=np.arange(500))
        assert (rows != np.arange(500)).all() and (dist > 0).all(), name


@pytest.mark.parametrize("data", [_digits, _cifar], ids=["digits", "cifar10"])
def test_ct_and_the_copy_finder_are_identical_under_both_backends(backend, data):
    train, test, fresh = data()
    generated = np.concatenate([train[:40] + 1e-3, fresh])  # 40 near-copies among held-out images
    results = {}
    for name in ("faiss", "torch"):
        backend(name)
        ref = LayerReference.fit(train, test, CTSettings(cells=3))
        found = find([ref], ["pixels"], {"identity": [generated]}, {"identity": None})
        results[name] = (
            ref.score(generated).ct,
            ref.score(fresh).ct,
            found.rows,
            calibrated(smallest(found.scaled), found.null),
        )
    faiss_result, torch_result = results["faiss"], results["torch"]
    assert faiss_result[:2] == torch_result[:2]
    np.testing.assert_array_equal(faiss_result[2], torch_result[2])
    np.testing.assert_array_equal(faiss_result[3], torch_result[3])
    assert faiss_result[0] < 0 and (faiss_result[3][:40] <= 0.01).mean() > 0.9  # the copies are seen


def test_four_shards_give_exactly_the_single_index_answer(rng):
    train = rng.normal(size=(5003, 32)).astype(np.float32)
    queries = rng.normal(size=(700, 32)).astype(np.float32)
    whole = search.nearest_distances(queries, train, return_index=True)
    bounds = [0, 1200, 2500, 3900, 5003]
    shards = (train[a:b] for a, b in itertools.pairwise(bounds))
    sharded = search.nearest_in_shards(queries, shards)
    np.testing.assert_array_equal(sharded[1], whole[1])
    np.testing.assert_array_equal(sharded[0], whole[0])


def test_an_unknown_backend_is_refused():
    from memprint import MemprintError

    with pytest.raises(MemprintError, match="search backend 'annoy' is unknown; use one of auto, faiss, torch"):
        runtime.set_search("annoy")


@pytest.mark.pipeline
def test_the_scaling_benchmark_runs_both_searches_from_disk_and_they_agree(tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "scaling.json"
    command = [sys.executable, "benchmarks/scaling.py", "--sizes", "3000", "--queries", "300", "--layers", "2"]
    command += ["--dim", "32", "--torch-up-to", "3000", "--data", str(tmp_path), "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    runs = json.loads(out.read_text())["runs"]
    assert [r["backend"] for r in runs] == ["faiss", "torch"] and all(r["same_as_torch"] for r in runs)
    assert runs[0]["planted_found"] == 1.0  # Q's 1% near-copies of T are flagged
    assert all(r["peak_rss_gib"] > 0 and len(r["ct"]) == 2 for r in runs)
    assert out.with_suffix(".png").exists() and "| 3,000 | faiss |" in out.with_suffix(".md").read_text()
