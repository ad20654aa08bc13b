"""Data sources and the pipeline's own generators."""

import numpy as np
import pytest
from PIL import Image

from memprint import MemprintError
from memprint.datasets import cifar10, digits_split, limited, load_folder, load_npz
from memprint.generators import generator
from memprint.subsets import stratified_indices
from tests.conftest import ASSETS


def test_digits_split_is_stratified_disjoint_and_seeded():
    train, test = digits_split(0.33, seed=0)
    assert len(train) + len(test) == 1797 and train.images.shape[1:] == (8, 8, 1)
    assert not set(train.image_ids) & set(test.image_ids)
    assert np.abs(np.bincount(test.labels) / len(test) - np.bincount(train.labels) / len(train)).max() < 0.01
    again, _ = digits_split(0.33, seed=0)
    np.testing.assert_array_equal(again.images, train.images)
    assert train.images.max() == 255


def test_npz_source_with_x_y_and_arr0(tmp_path, rng):
    x = rng.integers(0, 256, (5, 4, 4, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", x=x, y=np.arange(5))
    np.savez(tmp_path / "b.npz", x)
    assert load_npz(tmp_path / "a.npz").labels.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(load_npz(tmp_path / "b.npz").images, x)
    np.savez(tmp_path / "c.npz", images=x)
    with pytest.raises(MemprintError, match="'x' or 'arr_0'"):
        load_npz(tmp_path / "c.npz")


@pytest.mark.skipif(not (ASSETS / "cifar10").exists(), reason="shared CIFAR-10 asset absent (../shared/assets/cifar10)")
def test_cifar10_limit_keeps_the_class_shares_of_a_class_sorted_file():
    full = cifar10("test", str(ASSETS / "cifar10" / "cifar10_test_uint8.npz"), "unused")
    assert (np.diff(full.labels) >= 0).all()  # the asset is sorted by class: the first rows are all airplanes
    subset = limited(full, 744, seed=0, option="data.cifar10.test_limit")
    assert subset.images.shape == (744, 32, 32, 3) and "seed 0" in subset.attrs["subset"]
    shares, full_shares = np.bincount(subset.labels, minlength=10) / 744, np.bincount(full.labels) / len(full)
    assert np.abs(shares - full_shares).max() <= 1 / 744
    assert len(set(subset.image_ids)) == 744 and set(subset.image_ids) <= set(full.image_ids)
    again = limited(full, 744, seed=0, option="x")
    assert again.image_ids.tolist() == subset.image_ids.tolist()
    assert limited(full, 744, seed=1, option="x").image_ids.tolist() != subset.image_ids.tolist()


def test_stratified_indices_uneven_classes_unlabelled_and_errors():
    labels = np.repeat([0, 1, 2], [70, 20, 10])
    rows = stratified_indices(labels, 10, seed=3)
    assert np.bincount(labels[rows]).tolist() == [7, 2, 1] and (np.diff(rows) > 0).all()
    assert np.bincount(labels[stratified_indices(labels, 11, seed=3)]).tolist() in ([8, 2, 1], [7, 3, 1], [7, 2, 2])
    unlabelled = stratified_indices(np.full(50, -1), 5, seed=0)
    assert len(set(unlabelled)) == 5
    with pytest.raises(MemprintError, match="101 images asked for, the set holds 100"):
        stratified_indices(labels, 101, seed=0)


def test_folder_source_labels_and_errors(tmp_path, rng):
    for cls in ("cat", "dog"):
        (tmp_path / "ok" / cls).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).save(tmp_path / "ok" / cls / f"{i}.png")
    loaded = load_folder(tmp_path / "ok")
    assert loaded.images.shape == (4, 6, 6, 3) and loaded.labels.tolist() == [0, 0, 1, 1]
    (tmp_path / "ok" / "dog" / "bad.png").write_bytes(b"corrupt")
    with pytest.raises(MemprintError, match=r"bad\.png"):
        load_folder(tmp_path / "ok")
    (tmp_path / "ok" / "dog" / "bad.png").unlink()
    Image.fromarray(np.zeros((7, 7, 3), np.uint8)).save(tmp_path / "ok" / "dog" / "big.png")
    with pytest.raises(MemprintError, match=r"big\.png"):
        load_folder(tmp_path / "ok")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MemprintError, match="no image files"):
        load_folder(tmp_path / "empty")


@pytest.fixture(scope="module")
def train():
    return digits_split(0.33, seed=0)[0]


def test_copier_returns_training_images(train):
    out = generator("copier", {"kind": "copier", "noise": 0.0, "samples": 50, "seed": 1}).sample(train)
    train_rows = {img.tobytes() for img in train.images}
    assert all(img.tobytes() in train_rows for img in out.images)
    assert out.attrs["train_sha256"] == train.content_hash()


def test_kde_bandwidth_controls_distance_to_training_set(train):
    flat = train.images.reshape(len(train), -1).astype(float)

    def mean_nn(images):
        q = images.reshape(len(images), -1).astype(float)
        return np.sqrt(((q[:, None] - flat[None]) ** 2).sum(-1)).min(1).mean()

    small = generator("k", {"kind": "kde", "bandwidth": 0.02, "samples": 100, "seed": 1}).sample(train).images
    large = generator("k", {"kind": "kde", "bandwidth": 0.3, "samples": 100, "seed": 1}).sample(train).images
    assert mean_nn(small) < mean_nn(large) / 5


def test_generators_are_seeded_and_gmm_samples_are_new(train):
    spec = {"kind": "gmm", "components": 5, "covariance": "full", "samples": 60, "seed": 2}
    a = generator("g", spec).sample(train)
    b = generator("g", spec).sample(train)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.images.shape == (60, 8, 8, 1) and a.images.dtype == np.uint8
    with pytest.raises(MemprintError, match="unknown kind"):
        generator("x", {"kind": "vae"})


def test_make_data_limits_are_stratified_and_heldout_is_in_neither_t_nor_p(tmp_path, rng):
    from memprint.io import read_imageset
    from memprint.stages.data import make_data

    for split, n in (("train", 200), ("test", 100)):  # class-sorted files, like the CIFAR-10 assets
        np.savez(
            tmp_path / f"{split}.npz",
            x=rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8),
            y=np.repeat(np.arange(4), n // 4),
            filenames=np.array([f"{split}{i}" for i in range(n)]),
        )
    data = {
        "source": "cifar10",
        "seed": 0,
        "heldout": 20,
        "cifar10": {
            "train_npz": str(tmp_path / "train.npz"),
            "test_npz": str(tmp_path / "test.npz"),
            "train_limit": 40,
            "test_limit": 40,
        },
    }
    outs = [str(tmp_path / f"{name}.h5") for name in ("T", "P", "H")]
    make_data(data, *outs)
    train, test, heldout = (read_imageset(path) for path in outs)
    assert [np.bincount(s.labels).tolist() for s in (train, test, heldout)] == [[10] * 4, [10] * 4, [5] * 4]
    assert not set(heldout.image_ids) & set(test.image_ids) and "stratified" in test.attrs["subset"]
    data["heldout"] = 61
    with pytest.raises(MemprintError, match="61 images asked for, the test source has 60 left after P"):
        make_data(data, *outs)
