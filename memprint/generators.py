"""Generators the pipeline fits itself on the training set, so the default needs nothing downloaded.

Meehan et al. (2020) validate C_T with Gaussian kernel density estimators: a small bandwidth reproduces the
training images (data copying, C_T << 0), a large one over-smooths (underfitting, C_T > 0). All models here
work in pixel space scaled to [0, 1] and write uint8 images, clipped to the valid range.

* ``kde``: a training image drawn uniformly plus isotropic Gaussian noise of standard deviation ``bandwidth``;
* ``copier``: a training image returned verbatim up to pixel noise ``noise`` (the degenerate KDE a memorizing
  model approaches), named separately because it is the reference case of data copying;
* ``gmm``: a Gaussian mixture fit to the flattened training images;
* the paper's pathological generators, which alter images of a ``source`` set (``memprint.augment``):
  ``rotate``, ``down_up``, ``patch_shuffle``, ``noise_background`` and ``landscape_background`` (the last two
  keep the foreground found by the pipeline's segmenter);
* ``samples``: images generated elsewhere (a folder or an ``.npz``), read as they are.

Trained models (``MODEL_KINDS``: diffusion, module, torchscript and the pipeline's own zoo) are sampled in
shards by ``memprint.models``.
"""

from __future__ import annotations

import numpy as np

from memprint import MemprintError
from memprint.io import ImageSet

FITTED_KINDS = ("kde", "copier", "gmm")
AUGMENT_KINDS = ("unaltered", "rotate", "down_up", "patch_shuffle", "noise_background", "landscape_background")
SEGMENTED_KINDS = ("noise_background", "landscape_background")
MODEL_KINDS = ("diffusion", "module", "torchscript", "zoo")
DEFAULT_SAMPLES = 1000
GENERATOR_KINDS = FITTED_KINDS + AUGMENT_KINDS + ("samples",) + MODEL_KINDS


def _to_unit(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 255.0


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def _noisy_copies(train: ImageSet, n: int, sigma: float, rng: np.random.Generator):
    source = rng.integers(0, len(train), size=n)
    x = _to_unit(train.images[source])
    x += rng.normal(0.0, sigma, size=x.shape).astype(np.float32)
    return _to_uint8(x), train.labels[source], source


def _gmm(train: ImageSet, n: int, components: int, covariance: str, seed: int):
    from sklearn.mixture import GaussianMixture

    flat = _to_unit(train.images).reshape(len(train), -1)
    if components > len(flat):
        raise MemprintError(f"gmm: {components} components for {len(flat)} training images; use fewer components")
    gmm = GaussianMixture(n_components=components, covariance_type=covariance, random_state=seed, reg_covar=1e-4)
    gmm.fit(flat)
    samples, _ = gmm.sample(n)
    order = np.random.default_rng(seed).permutation(n)  # sklearn returns samples grouped by component
    return _to_uint8(samples[order].reshape((n,) + train.images.shape[1:])), np.full(n, -1, np.int64), None


def _augmented(spec: dict, source: ImageSet, n: int, seed: int, rng: np.random.Generator, segment):
    from memprint import augment
    from memprint.subsets import stratified_indices

    kind = spec["kind"]
    idx = stratified_indices(source.labels, n, seed, what=f"{kind} samples (its source set)")
    images, labels = source.images[idx], source.labels[idx]
    if kind == "unaltered":  # the baseline the pathological sets are compared with
        return images, labels, idx
    if kind == "rotate":
        return augment.rotate(images, float(spec["angle"]), float(spec.get("fill", 0.0))), labels, idx
    if kind == "down_up":
        return augment.down_up(images, int(spec["factor"]), spec.get("up_mode", "bilinear")), labels, idx
    if kind == "patch_shuffle":
        return augment.patch_shuffle(images, int(spec.get("grid", 4)), rng), labels, idx
    if segment is None:
        raise MemprintError(f"{kind} needs the segmenter's checkpoint")
    masks = segment(images, labels)
    if kind == "noise_background":
        backgrounds = augment.gaussian_backgrounds(images.shape, rng)
    else:
        from memprint.datasets import load_folder

        photos = (list(load_folder(spec["backgrounds"]).images) if spec.get("backgrounds")
                  else augment.offline_landscapes())
        backgrounds = augment.crop_backgrounds(photos, images.shape, rng)
    return augment.composite(images, masks, backgrounds), labels, idx


def sample_generator(name: str, spec: dict, train: ImageSet, n: int, seed: int, source: ImageSet | None = None,
                     segment=None) -> ImageSet:
    """Fit the generator ``spec`` (a config entry with a ``kind``) to ``train`` and draw ``n`` images.

    Pathological kinds alter ``n`` images drawn from ``source`` (default ``train``); ``segment(images, labels)``
    returns their binary foreground masks.
    """
    kind = spec.get("kind")
    rng = np.random.default_rng(seed)
    if kind == "samples":
        from memprint.models import load_samples

        return load_samples(name, spec)
    if kind in MODEL_KINDS:
        raise MemprintError(f"generator {name}: {kind} models are sampled in shards (memprint.models.sample_shard)")
    origin = source if kind in AUGMENT_KINDS and source is not None else train
    if kind in AUGMENT_KINDS:
        images, labels, rows = _augmented(spec, origin, n, seed, rng, segment)
    elif kind == "kde":
        images, labels, rows = _noisy_copies(train, n, float(spec["bandwidth"]), rng)
    elif kind == "copier":
        images, labels, rows = _noisy_copies(train, n, float(spec.get("noise", 0.0)), rng)
    elif kind == "gmm":
        images, labels, rows = _gmm(train, n, int(spec["components"]), spec.get("covariance", "full"), seed)
    else:
        raise MemprintError(f"generator {name}: unknown kind {kind!r}; use one of {GENERATOR_KINDS}")
    ids = np.array([f"{name}/{i}" for i in range(n)], dtype=object)
    attrs = {"source": f"generator:{kind}", "generator": name, "generator_spec": spec, "seed": seed,
             "train_sha256": train.content_hash()}
    if rows is not None:  # which real image each sample was made from: ground truth for copy finding
        attrs["made_from_ids"] = [str(i) for i in origin.image_ids[rows]]
    return ImageSet(images, labels, ids, attrs)
