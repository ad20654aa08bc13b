"""The copy finder's image-level evidence statistic where the truth is known: held-out images are flagged at the
stated level over seeded repetitions, and copies that are shifted and re-coloured (not exact edits of a training
image) are flagged with their source."""

import numpy as np
import pytest

from memprint import MemprintError
from memprint.copies import wilson_interval
from memprint.copy_evidence import (
    aligned_correlation,
    default_layers,
    evidence,
    highpass,
    matching_views,
    robust_z,
    thumbnails,
)

SETTINGS = {"neighbour": 10, "candidates": 3, "side": 32, "shift": 2, "margin": 4, "sigma": 1.0, "weight": 2.0}


def _images(rng, n):
    """Random colour textures (noise at 12 x 12 scaled up, plus finer noise), 32 x 32: every one its own scene."""
    import torch
    import torch.nn.functional as F

    noise = torch.from_numpy(rng.normal(size=(n, 3, 12, 12)).astype(np.float32))
    x = F.interpolate(noise, size=(32, 32), mode="bicubic", align_corners=False)
    x = x + 0.5 * torch.from_numpy(rng.normal(size=(n, 3, 32, 32)).astype(np.float32))
    x = (x - x.amin((1, 2, 3), keepdim=True)) / (x.amax((1, 2, 3), keepdim=True) - x.amin((1, 2, 3), keepdim=True))
    return (x.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)


def _layers(images, projections, rng):
    """Per layer, a noisy random projection of the coarse scene (8 x 8, each channel standardized): an encoder
    whose layers all see the layout and shrug off small shifts and colour casts, as a trained one does."""
    coarse = images.reshape(len(images), 8, 4, 8, 4, 3).astype(np.float32).mean((2, 4))
    coarse = (coarse - coarse.mean((1, 2), keepdims=True)) / (coarse.std((1, 2), keepdims=True) + 1e-6)
    flat = coarse.reshape(len(images), -1)
    return [flat @ w + rng.normal(0, 1.0, (len(images), w.shape[1])).astype(np.float32) for w in projections]


def _natural_copy(images, rng):
    """The scene shifted by up to two pixels (edge pixels repeated) and re-coloured by a per-channel gain."""
    out = np.empty_like(images)
    for i, image in enumerate(images):
        dy, dx = rng.integers(-2, 3, 2)
        shifted = np.roll(image, (dy, dx), axis=(0, 1))  # what wraps round stays outside the compared frame
        gain = rng.uniform(0.8, 1.1, 3)
        out[i] = np.clip(shifted * gain + rng.uniform(-15, 15), 0, 255).astype(np.uint8)
    return out


def _run(rng, train, test, generated, projections):
    views = [
        ("identity", t, q, p)
        for t, q, p in zip(
            _layers(train, projections, rng), _layers(generated, projections, rng), _layers(test, projections, rng)
        )
    ]
    return evidence(views, train, generated, test, SETTINGS)


def test_held_out_images_are_flagged_at_the_level_over_seeded_repetitions():
    """P and Q exchangeable: the flagged share, pooled over repetitions (each with its own P, whose draw moves the
    threshold), sits at the level; its Wilson interval covers it."""
    flagged = []
    for seed in range(6):
        rng = np.random.default_rng(50 + seed)
        projections = [rng.normal(size=(192, 24)).astype(np.float32) for _ in range(2)]
        train, test, generated = _images(rng, 800), _images(rng, 1000), _images(rng, 1000)
        flagged.append(_run(rng, train, test, generated, projections).image_p() <= 0.01)
    flagged = np.concatenate(flagged)
    low, high = wilson_interval(int(flagged.sum()), len(flagged))
    assert flagged.mean() <= 0.0125 and low <= 0.01 <= high, (flagged.mean(), low, high)


def test_shifted_recoloured_copies_are_flagged_with_their_source():
    rng = np.random.default_rng(7)
    projections = [rng.normal(size=(192, 24)).astype(np.float32) for _ in range(3)]
    train, test = _images(rng, 1000), _images(rng, 600)
    sources = rng.choice(len(train), 100, replace=False)
    generated = np.concatenate([_natural_copy(train[sources], rng), _images(rng, 400)])
    found = _run(rng, train, test, generated, projections)
    flagged = found.image_p() <= 0.01
    retrieved = found.q_match[:100] == sources  # the layers' or the pixels' candidates held the source
    assert retrieved.mean() >= 0.75, retrieved.mean()
    assert flagged[:100][retrieved].mean() >= 0.95, flagged[:100][retrieved].mean()
    assert flagged[100:].mean() <= 0.03


def test_the_alignment_undoes_a_shift_and_a_colour_cast():
    rng = np.random.default_rng(1)
    image = _images(rng, 1)
    moved = np.roll(image, (2, -3), axis=(1, 2))
    cast = np.clip(moved.astype(float) * [0.7, 1.0, 1.2] + 20, 0, 255).astype(np.uint8)
    a, b = (highpass(thumbnails(x, 32), 1.0) for x in (image, cast))
    assert aligned_correlation(a, b, 3, 4).item() > 0.9
    assert aligned_correlation(a, b, 0, 4).item() < 0.6  # without the shift, the same scene does not line up


def test_default_layers_are_the_middle_to_the_second_to_last_block():
    names = ["patch_embed"] + [f"blocks.{i:02d}" for i in range(12)]
    assert default_layers(names) == [f"blocks.{i:02d}" for i in range(5, 11)]
    assert default_layers(["patch_embed", "blocks.00"]) == ["blocks.00"]


def test_robust_z_ignores_outliers_and_unknown_layers_are_named():
    reference = np.r_[np.random.default_rng(0).normal(size=999), 1e6]
    assert abs(robust_z(np.array([1.0]), reference)[0] - 1.0) < 0.15
    with pytest.raises(MemprintError, match=r"blocks\.99"):
        list(matching_views(["a"], ["blocks.99"], [], {}, {"identity": []}, {}, []))
