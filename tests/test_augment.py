"""The pathological transforms keep what they must keep; the segmenter's masks are binary and used as such."""

import numpy as np
import pytest
import torch

from memprint import MemprintError
from memprint.augment import (
    composite,
    crop_backgrounds,
    down_up,
    gaussian_backgrounds,
    offline_landscapes,
    patch_shuffle,
    rotate,
)
from memprint.datasets import digits_split


@pytest.fixture
def images(rng):
    return rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)


def test_patch_shuffle_keeps_the_exact_multiset_of_pixels_and_patches(images, rng):
    out = patch_shuffle(images, 4, rng)
    assert not np.array_equal(out, images)
    for a, b in zip(images, out):
        np.testing.assert_array_equal(np.sort(a.reshape(-1, 3), axis=0), np.sort(b.reshape(-1, 3), axis=0))

        def patches(im):
            return sorted(im[i : i + 8, j : j + 8].tobytes() for i in range(0, 32, 8) for j in range(0, 32, 8))

        assert patches(a) == patches(b)
    np.testing.assert_array_equal(
        patch_shuffle(images, 4, np.random.default_rng(5)), patch_shuffle(images, 4, np.random.default_rng(5))
    )
    with pytest.raises(MemprintError, match="not divisible"):
        patch_shuffle(images[:, :30], 4, rng)


def test_rotation_by_zero_is_the_identity_and_by_90_turns_the_image(images):
    np.testing.assert_array_equal(rotate(images, 0), images)
    np.testing.assert_array_equal(rotate(images, 360), images)
    turned = rotate(images, 90).astype(int)
    assert np.abs(turned - np.rot90(images, 1, axes=(1, 2)).astype(int)).max() <= 1
    corners = rotate(np.full((1, 32, 32, 3), 200, np.uint8), 45, fill=7)
    assert corners[0, 0, 0, 0] == 7 and corners[0, 16, 16, 0] == 200


def test_down_up_by_one_is_the_identity_and_removes_detail_otherwise(images):
    np.testing.assert_array_equal(down_up(images, 1), images)
    blurred = down_up(images, 4, "bicubic")
    assert (
        blurred.shape == images.shape
        and np.abs(np.diff(blurred.astype(float), axis=2)).mean()
        < np.abs(np.diff(images.astype(float), axis=2)).mean() / 2
    )
    with pytest.raises(MemprintError, match="divisor"):
        down_up(images, 3)


def test_composite_keeps_foreground_pixels_and_needs_binary_masks(images, rng):
    masks = (rng.random(images.shape[:3]) > 0.5).astype(np.uint8)
    backgrounds = gaussian_backgrounds(images.shape, rng)
    out = composite(images, masks, backgrounds)
    np.testing.assert_array_equal(out[masks == 1], images[masks == 1])
    np.testing.assert_array_equal(out[masks == 0], backgrounds[masks == 0])
    with pytest.raises(MemprintError, match="binary"):
        composite(images, masks * 2, backgrounds)


def test_offline_landscape_backgrounds_are_real_photo_crops(rng):
    photos = offline_landscapes()
    out = crop_backgrounds(photos, (5, 8, 8, 1), rng)
    assert out.shape == (5, 8, 8, 1) and out.dtype == np.uint8 and out.std() > 5


def test_segmenter_trains_and_gives_binary_masks_of_the_image_size():
    from memprint.segmenter import (
        WeakSegmenter,
        mask_quality,
        predict_masks,
        train_segmenter,
    )

    train, test = digits_split(0.33, seed=0)
    spec = {"epochs": 1, "lr": 0.05, "min_lr": 0.001, "batch_size": 128, "seed": 0, "input_size": 16}
    state = train_segmenter(train, spec, torch.device("cpu"))
    model = WeakSegmenter()
    model.load_state_dict(state)
    masks, _ = predict_masks(model.eval(), test.images[:20], test.labels[:20], 0.5, torch.device("cpu"), 16)
    assert masks.shape == (20, 8, 8) and set(np.unique(masks)) <= {0, 1} and 0 < masks.mean() < 1
    quality = mask_quality(model, test, 0.5, torch.device("cpu"), 0, 16)
    assert {"accuracy", "accuracy_foreground_on_noise", "accuracy_background_only"} <= set(quality)
