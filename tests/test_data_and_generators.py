"""Data sources and the pipeline's own generators."""

import numpy as np
import pytest
from PIL import Image

from memprint import MemprintError
from memprint.datasets import cifar10, digits_split, load_folder, load_npz
from memprint.generators import sample_generator
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
def test_cifar10_from_the_local_asset():
    test = cifar10("test", str(ASSETS / "cifar10" / "cifar10_test_uint8.npz"), "unused", limit=100)
    assert test.images.shape == (100, 32, 32, 3) and test.labels.max() <= 9


def test_folder_source_labels_and_errors(tmp_path, rng):
    for cls in ("cat", "dog"):
        (tmp_path / "ok" / cls).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).save(tmp_path / "ok" / cls / f"{i}.png")
    loaded = load_folder(tmp_path / "ok")
    assert loaded.images.shape == (4, 6, 6, 3) and loaded.labels.tolist() == [0, 0, 1, 1]
    (tmp_path / "ok" / "dog" / "bad.png").write_bytes(b"corrupt")
    with pytest.raises(MemprintError, match="bad.png"):
        load_folder(tmp_path / "ok")
    (tmp_path / "ok" / "dog" / "bad.png").unlink()
    Image.fromarray(np.zeros((7, 7, 3), np.uint8)).save(tmp_path / "ok" / "dog" / "big.png")
    with pytest.raises(MemprintError, match="big.png"):
        load_folder(tmp_path / "ok")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MemprintError, match="no image files"):
        load_folder(tmp_path / "empty")


@pytest.fixture(scope="module")
def train():
    return digits_split(0.33, seed=0)[0]


def test_copier_returns_training_images(train):
    out = sample_generator("copier", {"kind": "copier", "noise": 0.0}, train, 50, seed=1)
    train_rows = {img.tobytes() for img in train.images}
    assert all(img.tobytes() in train_rows for img in out.images)
    assert out.attrs["train_sha256"] == train.content_hash()


def test_kde_bandwidth_controls_distance_to_training_set(train):
    flat = train.images.reshape(len(train), -1).astype(float)

    def mean_nn(images):
        q = images.reshape(len(images), -1).astype(float)
        return np.sqrt(((q[:, None] - flat[None]) ** 2).sum(-1)).min(1).mean()

    small = sample_generator("k", {"kind": "kde", "bandwidth": 0.02}, train, 100, seed=1).images
    large = sample_generator("k", {"kind": "kde", "bandwidth": 0.3}, train, 100, seed=1).images
    assert mean_nn(small) < mean_nn(large) / 5


def test_generators_are_seeded_and_gmm_samples_are_new(train):
    spec = {"kind": "gmm", "components": 5, "covariance": "full"}
    a = sample_generator("g", spec, train, 60, seed=2)
    b = sample_generator("g", spec, train, 60, seed=2)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.images.shape == (60, 8, 8, 1) and a.images.dtype == np.uint8
    with pytest.raises(MemprintError, match="unknown kind"):
        sample_generator("x", {"kind": "vae"}, train, 5, seed=0)
